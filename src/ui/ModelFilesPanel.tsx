import { useId, useRef } from 'react';
import { stageSteps } from '../state/store';
import { useApp, useEngine } from './context';
import { formatBytes } from './format';
import { Panel } from './fields';

/** Export the trained model as two files (model.json + weights.bin), or import such a pair. */
export function ModelFilesPanel() {
  const client = useEngine();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const ready = useApp((s) => s.engine.status === 'ready');
  const transfer = useApp((s) => s.transfer);
  const exported = useApp((s) => s.exported);
  const running = useApp((s) => s.train.state === 'running' || s.sample.state === 'running');
  const trained = useApp((s) => {
    const steps = stageSteps(s);
    return steps.autoencoder + steps.denoiser > 0;
  });

  const busy = !ready || running || transfer !== 'idle';
  const canExport = !busy && trained;
  let note = 'Export saves the whole model (setup, weights, EMA, autoencoder, step counts) as a .json and a .bin file. Import takes both files, picked together, and replaces the current model.';
  if (running) note = 'Wait for training or sampling to stop (pause it) to export or import.';
  else if (transfer === 'exporting') note = 'Exporting…';
  else if (transfer === 'importing') note = 'Importing…';
  else if (!trained && ready) note = `${note} Train the model first to export it.`;

  return (
    <Panel title="Model files">
      <div className="buttons buttons--files">
        <button type="button" disabled={!canExport} onClick={() => client.exportModel()}>
          Export model
        </button>
        <input
          ref={input}
          id={inputId}
          className="file-input"
          type="file"
          accept=".json,.bin"
          multiple
          aria-label="Import model"
          disabled={busy}
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            // Clear the input so picking the same files again imports again.
            e.currentTarget.value = '';
            if (files.length > 0) void client.importModel(files);
          }}
        />
        <label className={`file-button${busy ? ' file-button--disabled' : ''}`} htmlFor={inputId} aria-hidden="true">
          Import model
        </label>
      </div>
      <p className="field-hint">{note}</p>
      {exported.length > 0 ? (
        <p className="facts facts--small">
          Last export:{' '}
          {exported.map((f, i) => (
            <span key={f.url}>
              {i > 0 ? ', ' : ''}
              <a href={f.url} download={f.name}>
                {f.name}
              </a>{' '}
              ({formatBytes(f.bytes)})
            </span>
          ))}
        </p>
      ) : null}
    </Panel>
  );
}
