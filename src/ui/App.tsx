import { useCallback, useEffect, useState, type ReactNode } from 'react';
import './teach.css';
import './lesson.css';
import { Alerts } from './Alerts';
import { ComparePanel } from './ComparePanel';
import { DataPanel } from './DataPanel';
import { DenoisingPlayer } from './DenoisingPlayer';
import { EditPanel } from './edit/EditPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { ForwardExplorer } from './ForwardExplorer';
import { Header } from './Header';
import { LESSON_STEPS } from './lesson';
import { LabPanel } from './lab/LabPanel';
import { LessonNav } from './LessonNav';
import { LossChart } from './LossChart';
import { SamplerMath, TrainingMath } from './MathNotes';
import { ModelFilesPanel } from './ModelFilesPanel';
import { ModelPanel } from './ModelPanel';
import { ResetConfirm } from './ResetConfirm';
import { SampleCanvas } from './SampleCanvas';
import { SamplingPanel } from './SamplingPanel';
import { SchedulePanel } from './SchedulePanel';
import { Tour } from './Tour';
import { TrainingPanel } from './TrainingPanel';

/** One step of the lesson: its heading, its two sentences, then its panels. */
function LessonSection({ index, children }: { index: number; children: ReactNode }) {
  const step = LESSON_STEPS[index];
  return (
    <section id={step.id} className="lesson-step" aria-labelledby={`${step.id}-title`}>
      <header className="lesson-head">
        <h2 id={`${step.id}-title`}>{step.title}</h2>
        <p>{step.text}</p>
      </header>
      <div className="lesson-panels">{children}</div>
    </section>
  );
}

/**
 * The page as a lesson: the stage first (sampling with the model, the images large, the player
 * under them), then the lesson's steps in order — noise, learn, denoise, latent, compare. Presenter
 * mode enlarges type and controls for a projector and keeps the stage in view.
 */
export function App() {
  const [presenter, setPresenter] = useState(false);
  const [tour, setTour] = useState<number | null>(null);
  useEffect(() => {
    document.documentElement.classList.toggle('presenter', presenter);
  }, [presenter]);
  const closeTour = useCallback(() => setTour(null), []);
  return (
    <div className={`app${presenter ? ' app--presenter' : ''}`}>
      <Header presenter={presenter} onPresenterChange={setPresenter} />
      <LessonNav onTour={() => setTour(0)} />
      <Alerts />
      <main className="lesson">
        <section id="stage" className="denoise-stage" aria-label="Stage">
          <div className="stage-controls">
            <ErrorBoundary name="Sampling">
              <SamplingPanel />
            </ErrorBoundary>
          </div>
          <div className="stage-main">
            <ErrorBoundary name="Samples">
              <SampleCanvas />
            </ErrorBoundary>
            <ErrorBoundary name="Denoising player">
              <DenoisingPlayer />
            </ErrorBoundary>
          </div>
        </section>
        <LessonSection index={1}>
          <ErrorBoundary name="Schedule">
            <SchedulePanel />
          </ErrorBoundary>
          <ErrorBoundary name="Forward process">
            <ForwardExplorer />
          </ErrorBoundary>
          <ErrorBoundary name="Data">
            <DataPanel />
          </ErrorBoundary>
        </LessonSection>
        <LessonSection index={2}>
          <div className="lesson-column">
            <ResetConfirm />
            <ErrorBoundary name="Model">
              <ModelPanel />
            </ErrorBoundary>
            <ErrorBoundary name="Model files">
              <ModelFilesPanel />
            </ErrorBoundary>
          </div>
          <div className="lesson-column">
            <ErrorBoundary name="Training">
              <TrainingPanel />
            </ErrorBoundary>
            <ErrorBoundary name="Training equations">
              <TrainingMath />
            </ErrorBoundary>
          </div>
          <div className="lesson-column">
            <ErrorBoundary name="Loss chart">
              <LossChart />
            </ErrorBoundary>
          </div>
        </LessonSection>
        <LessonSection index={3}>
          <ErrorBoundary name="Sampler equations">
            <SamplerMath />
          </ErrorBoundary>
          <p className="lesson-pointer">
            The sampler, its steps and the Sample button are on the stage at the top of the page: <a href="#stage">back to the stage</a>.
          </p>
        </LessonSection>
        <LessonSection index={4}>
          <p className="lesson-pointer">
            Choose <strong>Latent diffusion (LDM)</strong> as the model kind in <a href="#step-learn">2 · Learn</a> (its pretrained model loads at once), then
            press Sample on the <a href="#stage">stage</a>: under the digits you see the 7×7 latent channels the denoiser works on.
          </p>
        </LessonSection>
        <LessonSection index={5}>
          <ErrorBoundary name="Compare">
            <ComparePanel />
          </ErrorBoundary>
        </LessonSection>
        <LessonSection index={6}>
          <ErrorBoundary name="Edit">
            <EditPanel />
          </ErrorBoundary>
        </LessonSection>
        <LessonSection index={7}>
          <ErrorBoundary name="2D lab">
            <LabPanel />
          </ErrorBoundary>
        </LessonSection>
      </main>
      {tour !== null ? <Tour step={tour} onStep={setTour} onClose={closeTour} /> : null}
    </div>
  );
}
