import type { CompareExplanation, ModelCost } from '../state/compare-explain';
import { formatCount } from './format';

const NAMES = { pixel: 'Pixel DDPM', latent: 'LDM' } as const;

const pct = (x: number) => `${Math.round(100 * x)} %`;
const gflops = (perSec: number) => `${(perSec / 1e9).toFixed(perSec < 1e10 ? 2 : 1)}`;

function CostRow({ cost }: { cost: ModelCost }) {
  return (
    <tr>
      <th scope="row">{NAMES[cost.model]}</th>
      <td>{formatCount(cost.stepFlops)}</td>
      <td>{cost.decodeFlops > 0 ? formatCount(cost.decodeFlops) : '–'}</td>
      <td>{formatCount(cost.flopsPerImage)}</td>
      <td>{cost.msPerStep.toFixed(cost.msPerStep < 10 ? 2 : 1)}</td>
      <td>{gflops(cost.flopsPerSec)}</td>
    </tr>
  );
}

/**
 * Why the LDM is as much faster as the Compare table says: each model's FLOPs (per step, the
 * decoder, per image), its time per step and the FLOP rate it reached; the speed-up FLOPs allow
 * against the measured one, and the part of the LDM's time that is per-op overhead rather than
 * arithmetic.
 */
export function CompareExplain({ why }: { why: CompareExplanation }) {
  const { pixel, latent } = why;
  return (
    <section className="compare-explain" aria-label="Why the LDM is faster">
      <table className="stats">
        <caption>Where the time goes</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">FLOPs per step</th>
            <th scope="col">Decoder FLOPs</th>
            <th scope="col">FLOPs per image</th>
            <th scope="col">ms per step</th>
            <th scope="col">GFLOP/s</th>
          </tr>
        </thead>
        <tbody>
          <CostRow cost={pixel} />
          <CostRow cost={latent} />
        </tbody>
      </table>
      <p aria-label="Speed-up explained">
        Each LDM step denoises a 7×7×4 latent instead of a 28×28 image: {formatCount(latent.stepFlops)} FLOPs against {formatCount(pixel.stepFlops)}. With the
        decoder ({pct(why.decodeShare)} of its work) the LDM needs {(1 / why.flopsSpeedup).toFixed(2)}× the pixel model&apos;s FLOPs per image, so at equal speed it
        would be <strong>{why.flopsSpeedup.toFixed(1)}× faster</strong>; measured here it is <strong>{why.measuredSpeedup.toFixed(1)}×</strong>{why.measuredSpeedup < 1 ? ' (slower)' : ''}.{' '}
        {why.overheadShare > 0.05
          ? `Its many small ops run at ${gflops(latent.flopsPerSec)} GFLOP/s against the pixel model's ${gflops(pixel.flopsPerSec)}: every op has a fixed cost besides its arithmetic, and on 7×7 latents that cost is about ${pct(why.overheadShare)} of the LDM's time. Larger batches spread it; fewer, larger ops would remove it.`
          : 'Both ran at about the same FLOP rate, so the FLOPs explain the speed-up.'}
      </p>
    </section>
  );
}
