/**
 * The lesson's order, which is the page's order: each step names its section, says in two sentences
 * what to look at, and is a stop of the guided tour. Edit and the 2D lab join here as new steps.
 */
export interface LessonStep {
  /** The section's element id (the tour scrolls to it and highlights it). */
  id: string;
  /** Short name in the lesson bar. */
  name: string;
  title: string;
  /** Two sentences: what to do and what to look at. */
  text: string;
}

export const LESSON_STEPS: LessonStep[] = [
  {
    id: 'stage',
    name: 'Start',
    title: 'The stage: watch a model denoise',
    text: 'Press Sample: a trained model turns pure noise x_T into digits, step by step. The grid shows x_t and the model’s guess of the clean image x̂₀ at every step; the player below lets you scrub back through them.',
  },
  {
    id: 'step-noise',
    name: '1 Noise',
    title: '1 · Noise: the forward process',
    text: 'The schedule β_t decides how fast noise drowns the image; ᾱ_t is how much signal is left at step t. Slide t in the forward process to see x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε on a real digit.',
  },
  {
    id: 'step-learn',
    name: '2 Learn',
    title: '2 · Learn: training the denoiser',
    text: 'The network sees x_t and t and learns to predict the noise ε that was added. The loss by timestep shows which noise levels it has learned: the middle ones are hardest.',
  },
  {
    id: 'step-denoise',
    name: '3 Denoise',
    title: '3 · Denoise: samplers',
    text: 'DDPM takes every one of the T steps; DDIM and DPM-Solver++ jump in a few large steps with the same model. Try DDIM with 10, 20 and 50 steps and compare the digits and the time per image.',
  },
  {
    id: 'step-latent',
    name: '4 Latent',
    title: '4 · Latent: diffusion in a small space',
    text: 'A latent diffusion model (LDM) first squeezes each 28×28 digit into a 7×7×C latent with an autoencoder, and denoises there. Choose “Latent diffusion” as the model kind: the stage then shows the latent channels beside the decoded digits.',
  },
  {
    id: 'step-compare',
    name: '5 Compare',
    title: '5 · Compare: pixel against latent',
    text: 'Compare runs the pretrained pixel model and the LDM with the same sampler, steps and seed on this computer. It measures time per image, memory and quality, so you can check the article’s claim yourself.',
  },
  {
    id: 'step-edit',
    name: '6 Edit',
    title: '6 · Edit: what the model can do with your digit',
    text: 'Draw or upload a digit, noise it part of the way and let the model denoise it back (SDEdit), or cover part of it and let the model fill it in. The more noise you add, the less of your drawing x_t remembers.',
  },
  {
    id: 'step-lab',
    name: '7 2D lab',
    title: '7 · 2D lab: diffusion you can watch learn',
    text: 'In two dimensions a small network learns a point cloud in seconds, and the exact answer is known. Watch particles flow from noise to data, and compare the learned field with the exact one to see where the network is wrong.',
  },
];
