import { LESSON_STEPS } from './lesson';

/** The lesson's path as a bar under the header: a link to each step, and the tour. */
export function LessonNav({ onTour }: { onTour: () => void }) {
  return (
    <nav className="lesson-nav" aria-label="Lesson">
      <ol>
        {LESSON_STEPS.map((s) => (
          <li key={s.id}>
            <a href={`#${s.id}`}>{s.name}</a>
          </li>
        ))}
      </ol>
      <button type="button" className="tour-button" onClick={onTour}>
        Take the tour
      </button>
    </nav>
  );
}
