/**
 * The recipes `npm run bench:digits` measures (issue 18, "time to digits"): each is a model setup
 * (changes to the page's default model) and a training form, as the page would run them, trained
 * from fresh weights. A latent recipe trains its autoencoder first (stage 1, `autoencoder`), then
 * the denoiser, as the page's two stages do.
 *
 * The winner is the "Train to digits" preset (src/state/share-presets.ts): what a recipe sets must
 * be something the page's forms and links can set.
 */
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../models/setup/model-setup';
import type { TrainingConfig } from '../engine/run-config';

/** The part of a training form a recipe sets; the rest is the page's default form. */
export type RecipeTraining = Pick<TrainingConfig, 'learningRate' | 'batchSize' | 'steps'> & Partial<Pick<TrainingConfig, 'lrSchedule' | 'warmupSteps'>>;

export interface DigitsRecipe {
  name: string;
  /** What the recipe tries, in a few words. */
  what: string;
  /** Changes to the page's default model setup (latent: a whole `latent` part). */
  setup: Partial<ModelSetup>;
  /** The denoiser's training form. */
  training: RecipeTraining;
  /** Latent recipes: stage 1 (the autoencoder) first, with this form. */
  autoencoder?: Pick<TrainingConfig, 'learningRate' | 'batchSize' | 'steps'>;
}

const recipe = (name: string, what: string, setup: Partial<ModelSetup>, training: RecipeTraining, autoencoder?: DigitsRecipe['autoencoder']): DigitsRecipe => ({ name, what, setup, training, ...(autoencoder ? { autoencoder } : {}) });

/** The page's default latent parts (ae-tiny, 4 channels, latent-tiny, KL 1e-5). */
const LDM_TINY = DEFAULT_MODEL_SETUP.latent;

/** Steps no 10-minute run reaches: the wall-time budget ends the run. */
const OPEN = 100_000;

export const DIGITS_RECIPES: readonly DigitsRecipe[] = [
  recipe('default', 'the page as it opens: pixel tiny, batch 16, lr 2e-3, no EMA', {}, { learningRate: 2e-3, batchSize: 16, steps: OPEN }),
  recipe('tiny-ema', 'tiny, batch 16, lr 2e-3, EMA 0.99', { emaDecay: 0.99 }, { learningRate: 2e-3, batchSize: 16, steps: OPEN }),
  recipe('tiny-lr4-ema', 'tiny, batch 16, lr 4e-3, EMA 0.99', { emaDecay: 0.99 }, { learningRate: 4e-3, batchSize: 16, steps: OPEN }),
  recipe('tiny-b32-lr3-ema', 'tiny, batch 32, lr 3e-3, EMA 0.99', { emaDecay: 0.99 }, { learningRate: 3e-3, batchSize: 32, steps: OPEN }),
  recipe('tiny-b64-lr4-ema', 'tiny, batch 64, lr 4e-3, EMA 0.99', { emaDecay: 0.99 }, { learningRate: 4e-3, batchSize: 64, steps: OPEN }),
  recipe('mini-ema', 'mini (8 channels), batch 16, lr 2e-3, EMA 0.99', { preset: 'mini', emaDecay: 0.99 }, { learningRate: 2e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-lr4-ema', 'mini (8 channels), batch 16, lr 4e-3, EMA 0.99', { preset: 'mini', emaDecay: 0.99 }, { learningRate: 4e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-lr4-minsnr-ema', 'mini, batch 16, lr 4e-3, EMA 0.99, min-SNR-γ 5', { preset: 'mini', emaDecay: 0.99, minSnrGamma: 5 }, { learningRate: 4e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-lr6-ema', 'mini, batch 16, lr 6e-3, EMA 0.99', { preset: 'mini', emaDecay: 0.99 }, { learningRate: 6e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-lr4-cos2000', 'mini, batch 16, lr 4e-3 with 50 warm-up steps and cosine decay over 2,000 steps, EMA 0.99', { preset: 'mini', emaDecay: 0.99 }, { learningRate: 4e-3, lrSchedule: 'cosine', warmupSteps: 50, batchSize: 16, steps: 2000 }),
  recipe('mini-lr4-ema995', 'mini, batch 16, lr 4e-3, EMA 0.995', { preset: 'mini', emaDecay: 0.995 }, { learningRate: 4e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-v-ema', 'mini, batch 16, lr 2e-3, EMA 0.99, v-prediction', { preset: 'mini', emaDecay: 0.99, prediction: 'v' }, { learningRate: 2e-3, batchSize: 16, steps: OPEN }),
  recipe('mini-b32-lr3-ema', 'mini, batch 32, lr 3e-3, EMA 0.99', { preset: 'mini', emaDecay: 0.99 }, { learningRate: 3e-3, batchSize: 32, steps: OPEN }),
  recipe('small-noattn-ema', 'small without attention, batch 16, lr 2e-3, EMA 0.99', { preset: 'small', attention: false, emaDecay: 0.99 }, { learningRate: 2e-3, batchSize: 16, steps: OPEN }),
  recipe(
    'ldm-tiny',
    'latent: ae-tiny 400 steps at batch 32, lr 2e-3; then latent-tiny, batch 32, lr 2e-3, EMA 0.99',
    { kind: 'latent', latent: { ...LDM_TINY }, attention: true, emaDecay: 0.99 },
    { learningRate: 2e-3, batchSize: 32, steps: OPEN },
    { learningRate: 2e-3, batchSize: 32, steps: 400 },
  ),
  recipe(
    'ldm-ae800',
    'latent: ae-tiny 800 steps at batch 32, lr 2e-3; then latent-tiny, batch 32, lr 2e-3, EMA 0.99',
    { kind: 'latent', latent: { ...LDM_TINY }, attention: true, emaDecay: 0.99 },
    { learningRate: 2e-3, batchSize: 32, steps: OPEN },
    { learningRate: 2e-3, batchSize: 32, steps: 800 },
  ),
  recipe(
    'ldm-small-den',
    'latent: ae-tiny 400 steps at batch 32, lr 2e-3; then latent-small, batch 32, lr 2e-3, EMA 0.99',
    { kind: 'latent', latent: { ...LDM_TINY, denoiser: 'latent-small' }, attention: true, emaDecay: 0.99 },
    { learningRate: 2e-3, batchSize: 32, steps: OPEN },
    { learningRate: 2e-3, batchSize: 32, steps: 400 },
  ),
];

export function recipeByName(name: string): DigitsRecipe {
  const r = DIGITS_RECIPES.find((x) => x.name === name);
  if (r == null) throw new Error(`no recipe '${name}'; the recipes: ${DIGITS_RECIPES.map((x) => x.name).join(', ')}`);
  return r;
}

/** The recipe's full model setup: the page's default model with the recipe's changes. */
export function recipeSetup(r: DigitsRecipe): ModelSetup {
  return { ...DEFAULT_MODEL_SETUP, ...r.setup };
}
