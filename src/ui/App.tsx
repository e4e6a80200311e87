import { useEffect, useState } from 'react';
import './teach.css';
import { Alerts } from './Alerts';
import { ComparePanel } from './ComparePanel';
import { DataPanel } from './DataPanel';
import { DenoisingPlayer } from './DenoisingPlayer';
import { ErrorBoundary } from './ErrorBoundary';
import { ForwardExplorer } from './ForwardExplorer';
import { Header } from './Header';
import { LossChart } from './LossChart';
import { SamplerMath, TrainingMath } from './MathNotes';
import { ModelFilesPanel } from './ModelFilesPanel';
import { ModelPanel } from './ModelPanel';
import { ResetConfirm } from './ResetConfirm';
import { SampleCanvas } from './SampleCanvas';
import { SamplingPanel } from './SamplingPanel';
import { SchedulePanel } from './SchedulePanel';
import { TrainingPanel } from './TrainingPanel';

/**
 * The whole page: header, alerts, then three columns (setup, runs, output). The equations of
 * training and sampling sit under their panels. Presenter mode enlarges type and controls (the
 * root font size, set by a class on <html>), puts the run controls above the setup, and gives the
 * output column most of the width.
 */
export function App() {
  const [presenter, setPresenter] = useState(false);
  useEffect(() => {
    document.documentElement.classList.toggle('presenter', presenter);
  }, [presenter]);
  return (
    <div className={`app${presenter ? ' app--presenter' : ''}`}>
      <Header presenter={presenter} onPresenterChange={setPresenter} />
      <Alerts />
      <main className="layout">
        <div className="column column--setup">
          <ResetConfirm />
          <ErrorBoundary name="Schedule">
            <SchedulePanel />
          </ErrorBoundary>
          <ErrorBoundary name="Model">
            <ModelPanel />
          </ErrorBoundary>
          <ErrorBoundary name="Model files">
            <ModelFilesPanel />
          </ErrorBoundary>
        </div>
        <div className="column column--runs">
          <ErrorBoundary name="Training">
            <TrainingPanel />
          </ErrorBoundary>
          <ErrorBoundary name="Training equations">
            <TrainingMath />
          </ErrorBoundary>
          <ErrorBoundary name="Sampling">
            <SamplingPanel />
          </ErrorBoundary>
          <ErrorBoundary name="Sampler equations">
            <SamplerMath />
          </ErrorBoundary>
        </div>
        <div className="column column--output">
          <ErrorBoundary name="Samples">
            <SampleCanvas />
          </ErrorBoundary>
          <ErrorBoundary name="Denoising player">
            <DenoisingPlayer />
          </ErrorBoundary>
          <ErrorBoundary name="Loss chart">
            <LossChart />
          </ErrorBoundary>
          <ErrorBoundary name="Data">
            <DataPanel />
          </ErrorBoundary>
          <ErrorBoundary name="Forward process">
            <ForwardExplorer />
          </ErrorBoundary>
        </div>
      </main>
      <div className="compare-row">
        <ErrorBoundary name="Compare">
          <ComparePanel />
        </ErrorBoundary>
      </div>
    </div>
  );
}
