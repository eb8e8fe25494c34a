// Lint = the dependency rule of STYLE.md §3.2, enforced: core and dsl import no backend, algorithms
// and api import only core/dsl, only backends/tfjs imports @tensorflow, only backends/onnx imports
// onnxruntime. The browser path (everything but cli, scale, serve, conformance) imports no Node
// built-in and no Node-only package, statically or dynamically: Node code lives in `X.ts` beside a
// browser half `X.web.ts` that bundles swap in (package.json "browser", scripts/browserBuild.ts).
// Plus a few type-safety rules.
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import tseslint from 'typescript-eslint'

const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]))
/** The Node halves: each `X.ts` that has a browser half `X.web.ts`. */
const here = import.meta.dirname
const nodeHalves = walk(join(here, 'src')).filter((f) => f.endsWith('.web.ts')).map((f) => relative(here, f).replace(/\.web\.ts$/, '.ts'))
const nodeOnly = {
  group: ['node:*', 'pngjs', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '**/cli/**', '**/scale/**', '**/serve/**'],
  message: 'the browser path must not load Node built-ins or Node-only code: put it in X.ts with a browser half X.web.ts (scripts/browserBuild.ts)',
}
const testSyntax = [{ selector: "CallExpression[callee.property.name='only']", message: 'no focused tests' }, { selector: "CallExpression[callee.property.name='skip']", message: 'no skipped tests' }]
const noDynamicNode = { selector: "ImportExpression[source.value=/^node:/]", message: 'the browser path must not import Node built-ins, not even dynamically: use a X.ts / X.web.ts pair' }
const BROWSER_PATH = ['src/core/**/*.ts', 'src/dsl/**/*.ts', 'src/algorithms/**/*.ts', 'src/api/**/*.ts', 'src/verify/**/*.ts', 'src/metrics/**/*.ts', 'src/concept/**/*.ts', 'src/robust/**/*.ts', 'src/llm/**/*.ts', 'src/influence/**/*.ts', 'src/viz/**/*.ts', 'src/backends/**/*.ts', 'src/index.ts']

const noBackends = {
  patterns: [
    { group: ['**/backends/**', '@tensorflow/*', 'onnxruntime-*'], message: 'core, dsl, algorithms and api must not depend on a backend (STYLE.md §3.2)' },
    { group: ['**/conformance/**', '**/cli/**'], message: 'library code must not import the conformance tooling' },
    nodeOnly,
  ],
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/explorer/dist/**', 'src/backends/onnx/graph/onnxDescriptor.ts'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      'no-restricted-syntax': ['error', ...testSyntax],
    },
  },
  { files: ['src/llm/**/*.ts', 'src/influence/**/*.ts', 'src/viz/**/*.ts'], ignores: nodeHalves, rules: { 'no-restricted-imports': ['error', { patterns: [nodeOnly] }] } },
  { files: ['src/core/**/*.ts', 'src/dsl/**/*.ts', 'src/algorithms/**/*.ts', 'src/api/**/*.ts', 'src/verify/**/*.ts', 'src/metrics/**/*.ts', 'src/concept/**/*.ts', 'src/robust/**/*.ts', 'src/index.ts'], ignores: nodeHalves, rules: { 'no-restricted-imports': ['error', noBackends] } },
  {
    files: ['src/backends/onnx/**/*.ts', 'src/backends/host/**/*.ts'],
    ignores: nodeHalves,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*', '**/backends/tfjs/**'], message: 'the ONNX backend must not load tfjs' }, nodeOnly] }] },
  },
  {
    files: ['src/backends/tfjs/**/*.ts'],
    ignores: nodeHalves,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['onnxruntime-*', '**/backends/onnx/**'], message: 'the tfjs backend must not load onnxruntime' }, nodeOnly] }] },
  },
  { files: BROWSER_PATH, ignores: nodeHalves, rules: { 'no-restricted-syntax': ['error', ...testSyntax, noDynamicNode] } },
)
