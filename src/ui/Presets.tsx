import { useId, useState } from 'react';
import { applyPreset, presetActive, PRESETS, type Preset } from '../state/share-presets';
import { useApp, useEngine } from './context';

/**
 * The classic demos as presets. Each sets the groups of settings it touches as a whole (the page's
 * defaults plus its own values), so one preset's settings never carry over into the next. A
 * comparison preset sets up its first configuration and shows a note with a button for each
 * configuration to compare (one model at a time; the model left behind is kept for switching back).
 */
export function Presets() {
  const client = useEngine();
  const titleId = useId();
  const compareId = useId();
  const [chosen, setChosen] = useState<Preset | null>(null);
  // Which alternatives the page matches now, as a string (a primitive: no re-render on other changes).
  const active = useApp((s) => (chosen ? chosen.alternatives.map((a) => (presetActive(s, a) ? '1' : '0')).join('') : ''));
  // A pretrained model on its way brings its own settings, and a model being put aside or brought back its own: presets wait for them.
  const loading = useApp((s) => s.pretrained.status === 'loading' || s.keep.status !== 'idle');

  return (
    <div className="presets">
      <div className="presets__row" role="group" aria-labelledby={titleId}>
        <span id={titleId} className="presets__title">
          Presets
        </span>
        {PRESETS.map((p) => (
          <button
            key={p.name}
            type="button"
            aria-pressed={chosen === p}
            disabled={loading}
            onClick={() => {
              applyPreset(client, p);
              setChosen(p);
            }}
          >
            {p.name}
          </button>
        ))}
      </div>
      {chosen ? (
        <div className="presets__note" role="note" aria-label="Preset note">
          <p>{chosen.note}</p>
          {chosen.alternatives.length > 0 ? (
            <div className="presets__row" role="group" aria-labelledby={compareId}>
              <span id={compareId} className="presets__title">
                Compare
              </span>
              {chosen.alternatives.map((a, i) => (
                <button key={a.name} type="button" aria-pressed={active[i] === '1'} disabled={loading} onClick={() => applyPreset(client, a)}>
                  {a.name}
                </button>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
