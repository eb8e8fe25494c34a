// Lint = the dependency rule of STYLE.md §3.2, enforced: core and dsl import no backend, algorithms
// and api import only core/dsl, only backends/tfjs imports @tensorflow, only backends/onnx imports
// onnxruntime. Plus a few type-safety rules.
import tseslint from 'typescript-eslint'

const noBackends = {
  patterns: [
    { group: ['**/backends/**', '@tensorflow/*', 'onnxruntime-*'], message: 'core, dsl, algorithms and api must not depend on a backend (STYLE.md §3.2)' },
    { group: ['**/conformance/**', '**/cli/**'], message: 'library code must not import the conformance tooling' },
  ],
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/backends/onnx/graph/onnxDescriptor.ts'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='only']", message: 'no focused tests' }, { selector: "CallExpression[callee.property.name='skip']", message: 'no skipped tests' }],
    },
  },
  { files: ['src/core/**/*.ts', 'src/dsl/**/*.ts', 'src/algorithms/**/*.ts', 'src/api/**/*.ts', 'src/verify/**/*.ts', 'src/metrics/**/*.ts', 'src/concept/**/*.ts', 'src/robust/**/*.ts', 'src/index.ts'], rules: { 'no-restricted-imports': ['error', noBackends] } },
  {
    files: ['src/backends/onnx/**/*.ts', 'src/backends/host/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*', '**/backends/tfjs/**'], message: 'the ONNX backend must not load tfjs' }] }] },
  },
  {
    files: ['src/backends/tfjs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['onnxruntime-*', '**/backends/onnx/**'], message: 'the tfjs backend must not load onnxruntime' }] }] },
  },
)
