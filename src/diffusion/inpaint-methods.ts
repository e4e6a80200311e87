/**
 * The inpainting methods by name, as plain data (no tensors, so the page may read them): how the
 * known region is kept while the rest is regenerated.
 *
 * - `replacement`: x_t's known part overwritten with the input noised to t (Song et al. 2021;
 *   Lugmayr et al. 2022, "RePaint"), ./inpaint.ts;
 * - `ddnm`: x̂0's known part replaced with the input, the step taken from it with the model's ε̂
 *   (Wang et al. 2023, "DDNM"), ./ddnm.ts;
 * - `dps`: a gradient step through the model toward x̂0 agreeing with the input (Chung et al. 2023,
 *   "Diffusion Posterior Sampling"), ./dps.ts.
 *
 * The default is the best measured at the same cost (README, "Editing, measured": DDNM kept the
 * true label of the held-out digits' completions in 65.8 % against replacement's 53.4 %).
 */
export const INPAINT_METHODS = ['replacement', 'ddnm', 'dps'] as const;
export type InpaintMethodKind = (typeof INPAINT_METHODS)[number];

export const DEFAULT_INPAINT_METHOD: InpaintMethodKind = 'ddnm';

/** DPS's step ζ by default (of those tried on 40 digits with DDIM-50 on the pixel model, 1 / 3 / 10, 3 did best). */
export const DEFAULT_DPS_SCALE = 3;
