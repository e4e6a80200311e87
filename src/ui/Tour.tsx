import { useEffect } from 'react';
import { LESSON_STEPS } from './lesson';

/**
 * The guided tour: one lesson step at a time, its section scrolled into view and outlined, with two
 * sentences on what to look at. Skippable at any step; the lesson bar starts it again.
 */
export function Tour({ step, onStep, onClose }: { step: number; onStep: (i: number) => void; onClose: () => void }) {
  const current = LESSON_STEPS[step];
  useEffect(() => {
    const el = document.getElementById(current.id);
    if (!el) return;
    el.classList.add('tour-target');
    el.scrollIntoView({ block: 'start', behavior: 'smooth' });
    return () => el.classList.remove('tour-target');
  }, [current.id]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const last = step === LESSON_STEPS.length - 1;
  return (
    <aside className="tour" role="dialog" aria-modal="false" aria-labelledby="tour-title" aria-describedby="tour-text">
      <p className="tour-count">
        Tour · step {step + 1} of {LESSON_STEPS.length}
      </p>
      <h2 id="tour-title">{current.title}</h2>
      <p id="tour-text">{current.text}</p>
      <div className="buttons">
        <button type="button" onClick={() => onStep(step - 1)} disabled={step === 0}>
          Back
        </button>
        <button type="button" className="primary" onClick={() => (last ? onClose() : onStep(step + 1))}>
          {last ? 'Finish tour' : 'Next'}
        </button>
        <button type="button" onClick={onClose}>
          Skip tour
        </button>
      </div>
    </aside>
  );
}
