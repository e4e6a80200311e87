/** The diffusion math core: schedules, forward process, parameterizations, samplers, guidance, loss. */
export * from './config';
export * from './schedule';
export * from './forward';
export * from './parameterization';
export * from './thresholding';
export * from './timesteps';
export * from './sampler';
export * from './create-sampler';
export { SamplerBase, MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';
export { DdpmSampler } from './ddpm';
export { DdimSampler } from './ddim';
export { DpmSolverPlusPlusSampler } from './dpm-solver';
export * from './sample-loop';
export * from './guidance';
export * from './loss';
export * from './analytic';
