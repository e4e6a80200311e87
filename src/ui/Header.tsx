import { useId } from 'react';
import { useApp } from './context';
import { formatBytes } from './format';
import { Presets } from './Presets';
import { CopyLink, LinkNotes } from './ShareBar';

interface HeaderProps {
  /** Presenter mode: large canvases and controls for a classroom projector. */
  presenter: boolean;
  onPresenterChange: (on: boolean) => void;
}

/** Why this backend: the verdict in one line, how it was measured folded under it. */
function BackendChoice({ note }: { note: string }) {
  const cut = note.indexOf(' Chosen by speed:');
  const [verdict, how] = cut < 0 ? [note, ''] : [note.slice(0, cut), note.slice(cut + 1)];
  return (
    <div className="backend-choice" aria-label="Backend choice" role="note">
      <span>{verdict}</span>
      {how ? (
        <details>
          <summary>How it was measured</summary>
          {how}
        </details>
      ) : null}
    </div>
  );
}

/**
 * Title bar: active backend, adapter, live tensor memory, why the backend was chosen (its speed,
 * measured at start, when none was requested), any backend fallback note, the presenter-mode
 * switch, "Copy link" (every setting is in the URL), notes about the link, and the classic demos'
 * presets.
 */
export function Header({ presenter, onPresenterChange }: HeaderProps) {
  const presenterId = useId();
  const engine = useApp((s) => s.engine);
  const memory = useApp((s) => s.memory);

  const backendText = engine.status === 'ready' ? engine.backend : engine.status === 'failed' ? 'not running' : 'starting…';
  const threads = engine.wasmThreads;
  const adapterText = engine.adapter
    ? `${engine.adapter.vendor || 'unknown vendor'} · ${engine.adapter.architecture || 'unknown architecture'}`
    : engine.status !== 'ready'
      ? '–'
      : threads != null
        ? `none (CPU, ${threads} wasm thread${threads === 1 ? '' : 's'})`
        : 'none (no GPU adapter)';
  const memoryText = memory ? `${memory.numTensors.toLocaleString()} tensors · ${formatBytes(memory.numBytes)}` : '–';

  const notes: string[] = [];
  if (engine.urlNote) notes.push(engine.urlNote);
  if (engine.fallbackNote) notes.push(engine.fallbackNote);
  else if (engine.status === 'ready' && engine.requested && engine.backend !== engine.requested) {
    notes.push(`Requested backend "${engine.requested}" is not available; running on "${engine.backend}".`);
  }

  return (
    <header className="app-header">
      <h1>Diffusion Playground</h1>
      <dl className="engine-facts">
        <div>
          <dt>Backend</dt>
          <dd aria-label="Active backend" className={`backend backend--${engine.status}`}>
            {backendText}
          </dd>
        </div>
        <div>
          <dt>Adapter</dt>
          <dd aria-label="Adapter">{adapterText}</dd>
        </div>
        <div>
          <dt>Tensor memory</dt>
          <dd aria-label="Tensor memory">{memoryText}</dd>
        </div>
      </dl>
      <CopyLink />
      <div className="presenter-toggle">
        <input id={presenterId} type="checkbox" role="switch" checked={presenter} onChange={(e) => onPresenterChange(e.target.checked)} />
        <label htmlFor={presenterId}>Presenter mode</label>
      </div>
      {engine.status === 'ready' && engine.choiceNote ? (
        <BackendChoice note={engine.choiceNote} />
      ) : null}
      {notes.length > 0 ? (
        <div className="backend-note" role="status" aria-label="Backend note">
          {notes.map((n) => (
            <p key={n}>{n}</p>
          ))}
        </div>
      ) : null}
      <LinkNotes />
      <Presets />
    </header>
  );
}
