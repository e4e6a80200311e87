/**
 * The layers as folder boundaries, checked by `npm run lint` (dependency-cruiser).
 * Below the page, from the bottom: diffusion (the math) < kernels, backends, data < models < io <
 * sampling < eval < protocol (the messages, built of their types) < engine < worker; cli uses any of
 * them; state and ui are the page.
 * Type-only imports may point up (a config type), value imports may not; no import circles at all.
 */
const below = (folder, allowed) => ({
  name: `${folder}-layer`,
  comment: `src/${folder}/ imports values only from ${allowed.length ? allowed.join(', ') : 'itself'}`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${folder}/`, ...allowed.map((f) => `^src/${f}/`)],
    dependencyTypesNot: ['type-only'],
  },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'No import circles, type-only ones included.', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'page-without-tfjs',
      comment: 'The page (src/ui, src/state, src/main.tsx) never reaches TensorFlow.js: only the worker owns it.',
      severity: 'error',
      from: { path: '^src/(ui|state|main\\.tsx)' },
      to: { path: '@tensorflow', reachable: true },
    },
    {
      name: 'page-talks-through-protocol',
      comment: 'The page reaches the worker only through messages (src/protocol/): never the engine, io, eval or kernels as values.',
      severity: 'error',
      from: { path: '^src/(ui|state)/' },
      to: { path: '^src/(engine|io|eval|kernels|sampling|worker|data|cli|backends/wasm)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'below-the-page-no-react',
      comment: 'Math, models, data and the engine stay free of React and the page state.',
      severity: 'error',
      from: { path: '^src/(diffusion|kernels|backends|models|data|io|sampling|eval|engine|protocol|worker|cli)/' },
      to: { path: '(^src/(ui|state)/)|(node_modules/(react|react-dom|zustand|recharts)/)' },
    },
    below('diffusion', []),
    below('kernels', ['diffusion']),
    below('backends', ['kernels']),
    below('models', ['diffusion', 'kernels']),
    below('data', ['diffusion']),
    below('io', ['diffusion', 'kernels', 'models', 'data']),
    below('sampling', ['diffusion', 'kernels', 'models', 'data']),
    below('eval', ['diffusion', 'kernels', 'models', 'data', 'sampling']),
    below('engine', ['diffusion', 'kernels', 'backends', 'models', 'data', 'io', 'sampling', 'eval', 'protocol']),
    below('protocol', []),
    below('worker', ['backends', 'data', 'io', 'engine', 'protocol']),
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
