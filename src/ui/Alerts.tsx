import { useApp, useEngine } from './context';

/** Errors from the worker and the page, in one alert region; each can be dismissed. */
export function Alerts() {
  const errors = useApp((s) => s.errors);
  const client = useEngine();
  return (
    <div className="alerts" role="alert" aria-label="Errors">
      {errors.map((e) => (
        <div className="alert" key={e.id}>
          <p>
            <strong>Error ({e.source}):</strong> {e.message}
          </p>
          <button type="button" onClick={() => client.dismissError(e.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
