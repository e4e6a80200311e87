/**
 * `npm run distill` end to end on the pretrained LDM, made tiny (rounds 4 → 2 → 1, a few steps on
 * 200 digits): killed mid-run (--stop-after) it resumes from its state folder and finishes the same
 * rounds, writes each round's student as a model folder and the last one to --out, with a manifest
 * that says how it was made and how to sample it; the written model loads like any other.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { distillMain } from '../../src/cli/distill';
import { loadModel } from '../../src/io/model-files';
import { loadFromDir } from '../../src/io/weights-file-node';

const dir = mkdtempSync(join(tmpdir(), 'distill-'));
const state = join(dir, 'state');
const out = join(dir, 'out');
const args = ['--from', '4', '--to', '1', '--steps', '4', '--batch', '4', '--checkpoint-every', '2', '--probe', '4', '--subset', '200', '--state', state, '--out', out];

async function run(extra: string[] = []): Promise<{ code: number; log: string }> {
  const err = new PassThrough();
  let log = '';
  err.on('data', (b: Buffer) => (log += b.toString()));
  const code = await distillMain([...args, ...extra], err as unknown as NodeJS.WriteStream);
  return { code, log };
}

describe('npm run distill', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a --to that is not --from halved', async () => {
    expect((await run(['--to', '3'])).code).toBe(2);
  });

  it('resumes after a kill and writes the distilled model with its manifest', async () => {
    const first = await run(['--stop-after', '3']);
    expect(first.code).toBe(0);
    expect(first.log).toContain('stopped early');
    expect(existsSync(join(out, 'model.json'))).toBe(false);
    // Each run stops a round after 3 steps: the first round (4 steps) finishes in the second run.
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.log).toContain('round 4 → 2: resuming at step 2');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.sampling).toMatchObject({ sampler: 'ddim', steps: 1, spacing: 'trailing', guidance: 1 });
    const rounds = manifest.distillation.rounds as { teacherSteps: number; studentSteps: number; gapBefore: number; gapAfter: number }[];
    expect(rounds.map((r) => [r.teacherSteps, r.studentSteps])).toEqual([[4, 2], [2, 1]]);
    rounds.forEach((r) => expect(Number.isFinite(r.gapAfter)).toBe(true));
    expect(manifest.distillation.teacher.guidance).toBe(1.3);
    for (const folder of [out, join(state, 'student-2', 'model')]) {
      const files = await loadFromDir(folder);
      const { model, info } = loadModel(files.modelJson, files.weightsBin);
      expect(info.setup.kind).toBe('latent');
      expect(info.setup.emaDecay).toBe(0);
      model.dispose();
    }
    expect(existsSync(join(state, 'samples-1.png'))).toBe(true);
  });
});
