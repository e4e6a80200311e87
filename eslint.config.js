import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Folder boundaries and import circles are checked by dependency-cruiser (.dependency-cruiser.cjs,
// part of `npm run lint`); this keeps the one rule that needs no graph: the page names no tfjs package.
const noTfjs = {
  group: ['@tensorflow/*'],
  message: 'The page never imports TensorFlow.js: only the worker owns it (send a message instead).',
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
      'no-restricted-imports': ['error', { patterns: [noTfjs] }],
    },
  },
);
