// Lint rules hold the layers apart: no tfjs in the page (src/ui, src/state), no React below it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const noTfjs = {
  group: ['@tensorflow/*'],
  message: 'The page never imports TensorFlow.js: only the worker owns it (send a message instead).',
};
const noEngine = {
  group: ['**/engine/**', '**/models/*', '!**/models/config', '!**/models/autoencoder-config', '!**/models/setup-config', '**/worker/worker', '**/data/*', '!**/data/types'],
  message: 'The page talks to the engine through src/protocol/messages.ts only.',
};
const noReact = {
  group: ['react', 'react-dom', 'react-dom/*', 'zustand', 'recharts', '**/ui/**', '**/state/**'],
  message: 'Math, models, data and engine code stay free of React and UI state.',
};

export default tseslint.config(
  { ignores: ['dist/', 'dist-*/', '.pretrain/', '.pretrain-quick/', 'node_modules/', 'test-results/', 'playwright-report/', 'public/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-eval': 'error',
      'no-new-func': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['src/ui/**', 'src/state/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: [noTfjs, noEngine] }],
    },
  },
  {
    files: ['src/diffusion/**', 'src/models/**', 'src/engine/**', 'src/data/**', 'src/worker/**', 'src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noReact] }] },
  },
);
