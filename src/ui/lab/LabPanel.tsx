import { useStore } from 'zustand';
import { useEngine } from '../context';

/**
 * The 2D lab (issue 17): a point-cloud data set, an MLP denoiser that trains in seconds, particles
 * flowing from noise to data, and the learned field beside the exact one.
 */
export function LabPanel() {
  const lab = useEngine().lab;
  const error = useStore(lab.store, (s) => s.error);
  return (
    <section className="panel" aria-labelledby="lab-title">
      <h2 id="lab-title">2D lab</h2>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}
