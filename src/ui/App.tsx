import { Alerts } from './Alerts';
import { DataPanel } from './DataPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { Header } from './Header';
import { LossChart } from './LossChart';
import { ModelFilesPanel } from './ModelFilesPanel';
import { ModelPanel } from './ModelPanel';
import { ResetConfirm } from './ResetConfirm';
import { SampleCanvas } from './SampleCanvas';
import { SamplingPanel } from './SamplingPanel';
import { SchedulePanel } from './SchedulePanel';
import { TrainingPanel } from './TrainingPanel';

/** The whole page: header, alerts, then three columns (setup, runs, output). */
export function App() {
  return (
    <div className="app">
      <Header />
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
          <ErrorBoundary name="Sampling">
            <SamplingPanel />
          </ErrorBoundary>
        </div>
        <div className="column column--output">
          <ErrorBoundary name="Samples">
            <SampleCanvas />
          </ErrorBoundary>
          <ErrorBoundary name="Loss chart">
            <LossChart />
          </ErrorBoundary>
          <ErrorBoundary name="Data">
            <DataPanel />
          </ErrorBoundary>
        </div>
      </main>
    </div>
  );
}
