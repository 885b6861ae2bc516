// ESLint (flat config): ESLint's recommended rules and typescript-eslint's type-aware recommended
// rules over all TypeScript in the repository (every file tsconfig.json includes), with type
// information from the project's own tsconfig.json. `npm run lint`; `npm test` runs it too.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['coverage/', 'reports/out/', 'reports/mutation/', '.stryker-tmp/', 'scratch/']),
  // An eslint-disable comment that no longer suppresses anything is an error, so none outlives its reason.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A parameter named `_x` is unused on purpose: the function keeps the kernel prototype it
      // models (`kmalloc_array(n, size, _flags)`, `gfn_to_memslot(_kvm, gfn)`), whether or not
      // the model needs every argument. The recommended setting only exempts those before a used one.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // report.html's page script is browser code, with its own tsconfig (DOM types, no Node's).
    files: ['reports/html/client.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './reports/html/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Plain JavaScript (this file, scripts/*.mjs) is outside tsconfig.json: no type-aware rules.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
