import type { CompareRow } from '../eval/compare-report';
import type { ModelKind } from '../models/setup/model-setup';
import { formatBytes, formatCount, formatRate } from './format';

const MODEL_LABELS: Record<ModelKind, string> = { pixel: 'Pixel DDPM', latent: 'LDM' };
/** The models a comparison measures, in the order it measures them. */
export const MODELS: ModelKind[] = ['pixel', 'latent'];

function RowCells({ row }: { row: CompareRow }) {
  const q = row.quality;
  return (
    <tr>
      <th scope="row">{MODEL_LABELS[row.model]}</th>
      <td>{row.msPerImage.toFixed(row.msPerImage < 10 ? 2 : 1)}</td>
      <td>{formatRate(row.imagesPerSec)}</td>
      <td>{formatBytes(row.peakBytes)}</td>
      <td>{formatCount(row.flopsPerImage)}</td>
      <td>{q ? q.meanConfidence.toFixed(3) : '–'}</td>
      <td title={q ? `against ${q.referenceDigits} training digits; the floor is ${q.n} held-out digits` : undefined}>
        {q ? `${q.fd.toFixed(1)} (floor ${q.floorFd.toFixed(1)}, ${(q.fd / q.floorFd).toFixed(2)}×)` : '–'}
      </td>
    </tr>
  );
}

/** A model whose row has not come (yet): being measured, waiting its turn, or never measured (stopped). */
function PendingRow({ model, text }: { model: ModelKind; text: string }) {
  return (
    <tr className="compare-pending">
      <th scope="row">{MODEL_LABELS[model]}</th>
      <td colSpan={6}>{text}</td>
    </tr>
  );
}

/**
 * The Compare panel's table: a row per model (time per image, images/s, peak memory, FLOPs per
 * image, confidence, FD beside its floor); a model not measured yet says whether it is being
 * measured, waits its turn, or was never measured (the run stopped).
 */
export function CompareTable({ caption, rows, running }: { caption: string; rows: CompareRow[]; running: boolean }) {
  return (
    <table className="compare-table" aria-label="Comparison">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">ms / image</th>
          <th scope="col">images / s</th>
          <th scope="col">Peak memory</th>
          <th scope="col">FLOPs / image</th>
          <th scope="col">Confidence</th>
          <th scope="col">FD</th>
        </tr>
      </thead>
      <tbody>
        {MODELS.map((model) => {
          const row = rows.find((r) => r.model === model);
          if (row) return <RowCells key={model} row={row} />;
          const measuring = running && MODELS.find((m) => !rows.some((r) => r.model === m)) === model;
          return <PendingRow key={model} model={model} text={running ? (measuring ? 'measuring…' : 'waiting') : 'not measured (stopped)'} />;
        })}
      </tbody>
    </table>
  );
}
