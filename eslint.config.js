// Lint: typescript-eslint's type-aware recommended rules over every TypeScript file of the project,
// and the operator's layers: each folder imports only the layers below it (docs/operator-design.md).
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const operator = './src/operator';
const topLevel = ['main.ts', 'config.ts', 'operator.ts'].map((file) => `${operator}/${file}`);
/** A zone: files under `target` may not import from `from`, except from the folders in `except` (relative to `from`). */
const layer = (target, except, message) => ({ target: `${operator}/${target}`, from: operator, except, message });
const LAYER_ZONES = [
  layer('kube', ['./kube'], 'kube/ is the lowest layer of the operator: it imports no other operator folder.'),
  layer('runtime', ['./kube', './runtime'], 'runtime/ may import kube/ only.'),
  layer('apply', ['./kube', './runtime', './apply'], 'apply/ may import kube/ and runtime/ only.'),
  layer('render', ['./kube', './render'], 'render/ is pure: it may import kube/ (object shapes, resource table), never the runtime, apply or controller.'),
  layer('prometheus', ['./prometheus'], 'prometheus/ is a client of its own: it imports no other operator folder.'),
  ...topLevel.map((from) => ({ target: `${operator}/controller`, from, message: 'controller/ may not import the entry point and its wiring (main.ts, config.ts, operator.ts).' })),
  // The SmsExperiment is the controller's and the renderer's business, not the generic layers'.
  ...['kube', 'runtime', 'apply', 'prometheus'].map((folder) => ({
    target: `${operator}/${folder}`,
    from: './src/crd',
    message: `${folder}/ knows no SmsExperiment: take what you need as a parameter from controller/.`,
  })),
  // The shared code and the schema stand below every program; the programs do not import each other.
  ...['./src/common', './src/crd'].flatMap((target) =>
    ['./src/operator', './src/app', './src/model', './src/analysis'].map((from) => ({ target, from, message: `${target.slice(2)} is shared: it imports no program.` })),
  ),
  { target: './src/analysis', from: ['./src/operator', './src/app', './src/model'], message: 'src/analysis is pure statistics: it imports no program.' },
  { target: ['./src/app', './src/model'], from: './src/operator', message: 'The app and the model service do not import the operator.' },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: LAYER_ZONES }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The app page's script runs in the browser, not in Node.
  { files: ['src/app/public/**/*.js'], languageOptions: { globals: { document: 'readonly', fetch: 'readonly' } } },
);
