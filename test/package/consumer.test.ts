// The package as a consumer gets it: `npm pack` (whose prepack hook builds dist/), the tarball installed
// into a fresh folder with npm, then every entry point run from plain Node ESM and type-checked by
// TypeScript with `strict` and `skipLibCheck: false`.
//
// It runs offline (it must pass without network): clarus's own dependencies are given to npm as `file:` links to
// this repository's node_modules, so npm fetches nothing, and the engines (optional peers) are linked
// in by hand afterwards, as a user's own `npm install @tensorflow/tfjs onnxruntime-node` would add them.
// First the consumer has no engine at all: the core, host and viz entries must work, and the backend
// entries must say which package to install.
//
// CLARUS_PACKED_TARBALL=/path/clarus-x.y.z.tgz tests that tarball instead of packing one (for
// debugging the consumer side without rebuilding; CI never sets it).
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toProto } from '../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../src/backends/onnx/graph/proto.js'
import { floatInit, graphOf, onnxNode } from '../helpers/onnxGraphs.js'

const run = promisify(execFile)
const repo = resolve(import.meta.dirname, '../..')
const repoModules = join(repo, 'node_modules')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const MINUTES = 60_000

interface Manifest {
  readonly dependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>
  readonly exports: Readonly<Record<string, string | { readonly types: string; readonly import: string }>>
  readonly bin?: Readonly<Record<string, string>>
}

const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Manifest
/** What a tfjs and an ONNX user add next to clarus (plus @types/node, which any Node TypeScript project has). */
const ENGINES = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-cpu', 'onnxruntime-node', '@types/node']

let work = ''
let consumer = ''
let files = new Set<string>()

const node = async (script: string): Promise<string> => {
  const file = join(consumer, script)
  const { stdout } = await run(process.execPath, [file], { cwd: consumer, timeout: 2 * MINUTES })
  return stdout
}

const link = (name: string): void => {
  const at = join(consumer, 'node_modules', name)
  mkdirSync(dirname(at), { recursive: true })
  if (!existsSync(at)) symlinkSync(join(repoModules, name), at, 'dir')
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clarus-pack-'))
  let tarball = process.env['CLARUS_PACKED_TARBALL'] ?? ''
  if (tarball === '') {
    // `npm pack` runs the prepack hook, which builds dist/ from scratch
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd: repo, timeout: 8 * MINUTES, maxBuffer: 64 * 1024 * 1024 })
    tarball = join(work, (JSON.parse(stdout) as { readonly filename: string }[])[0]!.filename)
  }
  const listing = await run('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 })
  files = new Set(listing.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^package\//, '')))
  consumer = join(work, 'consumer')
  mkdirSync(consumer)
  const deps: Record<string, string> = { clarus: `file:${tarball}` }
  for (const d of Object.keys(manifest.dependencies ?? {})) deps[d] = `file:${join(repoModules, d)}`
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: deps }, null, 2))
  await run(npm, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--install-links=false'], { cwd: consumer, timeout: 4 * MINUTES })
  // a one-MatMul ONNX model (y = x·W, x: N×3, W: 3×2), for the ONNX entry
  const w = [1, 2, 3, 4, 5, 6]
  writeFileSync(join(consumer, 'matmul.onnx'), encodeModel(toProto(graphOf([onnxNode('mm', 'MatMul', ['x', 'W'], ['y'])], ['N', 3], ['N', 2], [floatInit('W', [3, 2], w)]))))
}, 12 * MINUTES)

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

describe('the npm tarball', () => {
  it('holds the built entry points, their types, the licence and the readme, and no tests', () => {
    for (const [key, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') {
        expect(files.has(target.replace(/^\.\//, '')), key).toBe(true)
        continue
      }
      expect(files.has(target.import.replace(/^\.\//, '')), `${key} import`).toBe(true)
      expect(files.has(target.types.replace(/^\.\//, '')), `${key} types`).toBe(true)
    }
    for (const f of ['LICENSE', 'README.md', 'package.json']) expect(files.has(f), f).toBe(true)
    // a new entry point must be run below too (bare.mjs or full.mjs, and index.ts)
    expect(Object.keys(manifest.exports).sort(), 'the entry points this test runs').toEqual(['.', './conformance', './host', './onnx', './package.json', './scale', './scale/bullmq', './serve', './tfjs', './viz'])
    expect([...files].filter((f) => f.startsWith('test/') || f.includes('.test.'))).toEqual([])
  })

  it('installs without any engine: the engines are optional peers, never dependencies', () => {
    const engines = ['onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm']
    for (const e of engines) {
      expect(manifest.dependencies?.[e], e).toBeUndefined()
      expect(manifest.peerDependencies?.[e], e).toBeDefined()
      expect(manifest.peerDependenciesMeta?.[e]?.optional, e).toBe(true)
    }
    for (const e of engines) expect(existsSync(join(consumer, 'node_modules', e)), e).toBe(false)
    expect(existsSync(join(consumer, 'node_modules', 'clarus', 'dist', 'index.js'))).toBe(true)
  })
})

describe('a consumer without engines', () => {
  it('runs the core, host and viz entries, and each backend entry names the package to install', async () => {
    writeFileSync(join(consumer, 'bare.mjs'), `
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { FeatureAblation, ClarusError, float32 } from 'clarus'
import { fromFunction } from 'clarus/host'
import { escapeHtml } from 'clarus/viz'
import { fromOnnx } from 'clarus/onnx'

const rowSums = (x) => Float32Array.from({ length: x.shape[0] }, (_, r) => x.data.slice(r * 3, r * 3 + 3).reduce((a, b) => a + b, 0))
const model = fromFunction(([x]) => float32([x.shape[0], 1], rowSums(x)))
const attr = await new FeatureAblation(model).attribute(float32([1, 3], [1, 2, 3]), { target: 0 })
assert.deepEqual(Array.from(attr.data), [1, 2, 3])
assert.equal(escapeHtml('<b>'), '&lt;b&gt;')

const missing = (pkg) => (e) => e instanceof ClarusError && e.error._tag === 'BackendFailure' && e.message.includes('npm install ' + pkg)
await assert.rejects(import('clarus/tfjs'), missing('@tensorflow/tfjs'))
await assert.rejects(import('clarus/conformance'), missing('@tensorflow/tfjs'))
const loaded = await fromOnnx(readFileSync('matmul.onnx'))
assert.equal(loaded._tag, 'Left')
assert.match(loaded.left.message, /npm install onnxruntime-node/)
// the scale entry loads without engines; the queue and the service need their optional packages
const { runJob, inProcessExecutor } = await import('clarus/scale')
assert.equal(typeof runJob, 'function')
const ex = inProcessExecutor()
const failed = await runJob(ex, { spec: { method: 'saliency' }, model: 'matmul.onnx' }, { examples: [{ inputs: [float32([1, 3], [1, 1, 1])] }] }, (r) => assert.match(r.error.message, /onnxruntime-node/))
assert.equal(failed.right.failed, 1)
await ex.close()
await assert.rejects(import('clarus/scale/bullmq'), /bullmq/)
await assert.rejects(import('clarus/serve'), /fastify/)
console.log('bare consumer ok')
`)
    expect(await node('bare.mjs')).toContain('bare consumer ok')
  }, 3 * MINUTES)

  it('installs each command of package.json "bin", and each prints its usage without an engine', async () => {
    for (const name of Object.keys(manifest.bin ?? {})) {
      const { stdout } = await run(join(consumer, 'node_modules', '.bin', name), ['--help'], { cwd: consumer, timeout: 2 * MINUTES })
      expect(stdout, name).toMatch(/usage/i)
    }
  }, 3 * MINUTES)
})

describe('a consumer with the engines installed', () => {
  beforeAll(() => {
    for (const e of ENGINES) link(e)
  })

  it('runs every entry point from plain Node ESM', async () => {
    writeFileSync(join(consumer, 'full.mjs'), `
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { Saliency, IntegratedGradients, float32 } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { fromOnnx } from 'clarus/onnx'
import { fromFunction } from 'clarus/host'
import { encodePng, decodePng } from 'clarus/viz'
import { runConformance, loadReferenceDir, AREA_CASES } from 'clarus/conformance'

await tf.setBackend('cpu')
const before = tf.memory().numTensors
const w = tf.tensor2d([[2], [-3], [4]])
const model = fromTfjs((x) => tf.matMul(x, w))
const x = tf.tensor2d([[1, 1, 1]])
const g = await new Saliency(model).attribute(x, { target: 0 })
assert.deepEqual(Array.from(g.data), [2, 3, 4])
x.dispose()
w.dispose()
assert.equal(tf.memory().numTensors, before)

const loaded = await fromOnnx(readFileSync('matmul.onnx'))
if (loaded._tag === 'Left') throw new Error(loaded.left.message)
const attr = await new IntegratedGradients(loaded.right).attribute(float32([1, 3], [1, 1, 1]), { target: 1 })
assert.deepEqual(Array.from(attr.data, (v) => Math.round(v * 1e4) / 1e4), [2, 4, 6])
await loaded.right.dispose()

assert.equal(typeof fromFunction, 'function')
const png = decodePng(encodePng({ width: 1, height: 1, data: Uint8ClampedArray.of(1, 2, 3, 255) }))
assert.deepEqual(Array.from(png.data), [1, 2, 3, 255])
assert.equal(typeof runConformance, 'function')
assert.equal(typeof loadReferenceDir, 'function')
assert.equal(typeof AREA_CASES, 'object')

// a dataset job on the in-process executor, through the package's scale entry
const { runJob, inProcessExecutor } = await import('clarus/scale')
const ex = inProcessExecutor()
const rows = []
const job = await runJob(ex, { spec: { method: 'integratedGradients', options: { nSteps: 8 } }, model: 'matmul.onnx', target: 1, examplesPerTask: 2 },
  { examples: [1, 2, 3].map((v) => ({ inputs: [float32([1, 3], [v, v, v])] })) }, (r) => { rows.push(r) })
await ex.close()
assert.equal(job.right.examples, 3)
assert.deepEqual(rows.map((r) => Array.from(r.attributions[0].data, (v) => Math.round(v * 1e4) / 1e4)), [[2, 4, 6], [4, 8, 12], [6, 12, 18]])
console.log('full consumer ok')
`)
    expect(await node('full.mjs')).toContain('full consumer ok')
  }, 3 * MINUTES)

  it('type-checks every entry point with strict and skipLibCheck: false', async () => {
    writeFileSync(join(consumer, 'index.ts'), `
import { IntegratedGradients, float32, ClarusError, type AttributionError, type HostTensor, type Pipeline } from 'clarus'
import { fromTfjs, type TfjsModel } from 'clarus/tfjs'
import { fromOnnx, noGradient, onnxAttr, type GradRule, type GradContext, type OnnxNode, type FromOnnxOptions } from 'clarus/onnx'
import { fromFunction, type FromFunctionOptions } from 'clarus/host'
import { escapeHtml, type Rgba } from 'clarus/viz'
import { runConformance, type ConformanceReport } from 'clarus/conformance'
import { runJob, type Executor, type ExampleResult, type JobSpec } from 'clarus/scale'

const Softsign: GradRule = {
  opType: 'Softsign',
  domain: '',
  opsets: [1],
  build: (g: GradContext) => {
    const x = g.input(0)
    const d = g.node('Add', [g.constant(1, x), g.node('Abs', [x])])
    return { 0: g.node('Div', [g.gradOfOutput(0), g.node('Mul', [d, d])]) }
  },
}
const options: FromOnnxOptions = { session: { extraGradRules: [Softsign, noGradient('Shape')] } }
const named = (n: OnnxNode): string => n.name + onnxAttr.int('axis', 0).name
const x: HostTensor = float32([1, 2], [1, 2])
const hostOptions: FromFunctionOptions = {}
const colour: Rgba = { width: 1, height: 1, data: Uint8ClampedArray.of(0, 0, 0, 255) }
const failed = (e: AttributionError): ClarusError => new ClarusError(e)
const report = (r: ConformanceReport): number => r.cases.length
const spec: Pipeline | undefined = undefined
const tfjsModel: TfjsModel | undefined = undefined
const job: JobSpec = { spec: { method: 'saliency' }, model: 'model.onnx', examplesPerTask: 4 }
const onResult = (r: ExampleResult): number => r.index
const pool: Executor | undefined = undefined
export { IntegratedGradients, fromTfjs, fromOnnx, fromFunction, escapeHtml, runConformance, runJob, options, named, x, hostOptions, colour, failed, report, spec, tfjsModel, job, onResult, pool }
`)
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      // a Node project: no DOM lib, so clarus's declarations must not need one
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: ['node'] },
      files: ['index.ts'],
    }))
    const tsc = join(repoModules, 'typescript', 'bin', 'tsc')
    const { code, out } = await run(process.execPath, [tsc, '-p', consumer, '--pretty', 'false'], { cwd: consumer, timeout: 4 * MINUTES, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code?: unknown; stdout?: string }) => ({ code: e.code, out: e.stdout ?? String(e) }),
    )
    const errors = out.split('\n').filter((l) => /error TS\d+/.test(l))
    // a failed run must be a type error, not a crash of tsc itself
    if (code !== 0) expect(errors.length, out).toBeGreaterThan(0)
    // TensorFlow.js's own declarations do not compile under skipLibCheck: false (tfjs-core needs the DOM
    // lib, whose TypeScript 6 version clashes with @webgpu/types; tfjs-layers fails under strict): those
    // errors are not clarus's to fix and are left out here. Every other file must be clean.
    const theirs = /node_modules\/(@tensorflow|@webgpu)\//
    expect(errors.filter((l) => !theirs.test(l))).toEqual([])
  }, 5 * MINUTES)
  it('bundles for browsers: the "browser" field swaps in the web halves and no Node built-in is left', async () => {
    link('onnxruntime-web')
    writeFileSync(join(consumer, 'web.mjs'), `
import { IntegratedGradients } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { encodePng, heatmap } from 'clarus/viz'
export { IntegratedGradients, fromOnnx, encodePng, heatmap }
`)
    const esbuild = await import('esbuild')
    const nodeImports: string[] = []
    const r = await esbuild.build({
      entryPoints: [join(consumer, 'web.mjs')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, metafile: true, logLevel: 'silent',
      absWorkingDir: consumer, outdir: join(consumer, 'web-out'), splitting: true,
      plugins: [{ name: 'no-node', setup: (b) => { b.onResolve({ filter: /^node:/ }, (a) => { nodeImports.push(a.path + ' from ' + a.importer); return { path: a.path, external: true } }) } }],
    })
    expect(nodeImports).toEqual([])
    const inputs = Object.keys(r.metafile.inputs)
    for (const web of ['dist/core/platform/files.web.js', 'dist/backends/onnx/runtime.web.js', 'dist/viz/png.web.js']) expect(inputs.some((i) => i.endsWith(web)), web).toBe(true)
    expect(inputs.filter((i) => /node_modules\/(pngjs|onnxruntime-node)\//.test(i))).toEqual([])
  }, 2 * MINUTES)
})
