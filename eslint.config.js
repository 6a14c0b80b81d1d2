// ESLint (flat config) for the TypeScript sources and tests: typescript-eslint's recommended rules, the
// type-aware rules that catch what the compiler does not (a promise nobody awaits or catches), and the
// function length the architecture asks for (docs/development.md, "Formatting and linting").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'results/**', 'experiments/**', 'docker/**', 'deploy/**', 'docs/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // A test is one scenario read top to bottom (set up, run, check): it may be longer than a function of the tool.
    files: ['packages/*/test/**/*.ts', 'test/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 130, skipBlankLines: true, skipComments: true, IIFEs: true }] },
  },
);
