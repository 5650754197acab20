// `npm run lint`: typescript-eslint's recommended rules and React's rules of hooks, then a prettier check.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.cache/',
      'test-results/',
      'playwright-report/',
      'public/',
      'src/kernels/wasm/kernels.generated.ts',
      'src/kernels/wasm/assembly/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: { ...globals.node } } },
  { files: ['workers/service-worker.template.js'], languageOptions: { globals: { ...globals.serviceworker } } },
  { files: ['**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser, ...globals.node } } },
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      // Terminal-safe output matches control characters on purpose.
      'no-control-regex': 'off',
      'react-hooks/exhaustive-deps': 'warn',
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The kernel floor: kernels are below the rest of the studio and never reach up into it (src/core, the UI, state).
    files: ['src/kernels/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(core|ui|state|cli|workers)(/|$)',
              message:
                'src/kernels must not import the studio above it (src/core, src/ui, src/state, src/cli, workers): move what it needs to the kernel layer.',
            },
          ],
        },
      ],
    },
  },
  {
    // The page talks to the workers through src/protocol (types) and the bridges in src/state; it never imports a
    // worker module (the bridges name their worker only in `new Worker(new URL(...))`, which is not an import).
    files: ['src/ui/**/*.{ts,tsx}', 'src/state/**/*.{ts,tsx}', 'src/lab/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workers/*', '**/workers', '*.worker', '*.worker.ts'],
              message: 'Import request and result types from src/protocol; the page does not import worker modules.',
            },
          ],
        },
      ],
    },
  },
);
