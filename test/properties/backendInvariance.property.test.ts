// One spec, every backend, the same answer (io-ts's "interpreters agree" law, STYLE.md §3.11):
// every method in METHODS runs on the reference mlp as an ONNX model, as its tfjs rebuild, and
// (forward-only methods) as a plain function; results agree up to float32 forward rounding, and
// stochastic methods with the same seed draw the same samples everywhere and repeat bit for bit.
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../src/backends/host/index.js'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { loadModelWeights } from '../../src/conformance/load.js'
import { loadReferenceDir } from '../../src/conformance/files.js'
import { buildTfjsReferenceModel, type TfjsReferenceModel } from '../../src/conformance/tfjsModels.js'
import { callDataOf } from '../../src/dsl/spec.js'
import { MLP_CALL_DATA, MLP_METHOD_OPTIONS } from '../helpers/methodOptions.js'
import { METHODS, attribute, float32, type AttributionResult, type HostTensor, type Model } from '../../src/index.js'

const REF = fileURLToPath(new URL('../../../shared/reference', import.meta.url))
let onnx: Model<HostTensor>
let tfjsRef: TfjsReferenceModel
let tfjs: Model<tf.Tensor>
let plain: Model<HostTensor>

beforeAll(async () => {
  await tf.setBackend('cpu')
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  onnx = m.right
  const ref = loadReferenceDir(REF)
  if (E.isLeft(ref)) throw new Error(ref.left.message)
  const w = loadModelWeights(ref.right, 'mlp')
  if (E.isLeft(w)) throw new Error(w.left.message)
  const built = buildTfjsReferenceModel(w.right)
  if (E.isLeft(built)) throw new Error(built.left.message)
  tfjsRef = built.right
  tfjs = fromTfjs(tfjsRef.fn)
  plain = fromFunction(async (xs) => {
    const r = await onnx.forward(xs)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    return r.right.output
  })
})
afterAll(async () => {
  await onnx.dispose()
  tfjsRef.dispose()
})

const OPTIONS = MLP_METHOD_OPTIONS
const CALL = MLP_CALL_DATA

const run = async <T>(name: string, model: Model<T>, x: number[], seed: number): Promise<AttributionResult> => {
  const r = await attribute(METHODS[name]!.build(OPTIONS[name] ?? {}), model, float32([4, 12], x), { target: 1, seed, ...CALL[name] })()
  if (E.isLeft(r)) throw new Error(`${name}: ${r.left._tag}: ${r.left.message}`)
  return r.right
}
const maxDiff = (a: AttributionResult, b: AttributionResult): number =>
  a.attributions.reduce((m, t, j) => Math.max(m, ...Array.from(t.data as Float32Array, (v, i) => Math.abs(v - Number(b.attributions[j]!.data[i])) / (1 + Math.abs(v)))), 0)

// four examples (FeaturePermutation draws permutations of the batch), and never all-zero rows
const inputs = fc
  .array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 48, maxLength: 48 })
  .filter((xs) => [0, 1, 2, 3].every((i) => xs.slice(12 * i, 12 * i + 12).some((v) => Math.abs(v) > 0.5)))

describe('backend invariance over METHODS', () => {
  for (const [name, info] of Object.entries(METHODS)) {
    const gradient = info.family !== 'primary' || callDataOf(info.build(OPTIONS[name] ?? {})).has('floatInputs')
    it(`${name}: ${gradient ? 'onnx = tfjs' : 'onnx = tfjs = plain function'}${info.stochastic ? ', seeded' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(inputs, fc.integer({ min: 0, max: 1000 }), async (x, seed) => {
          const a = await run(name, onnx, x, seed)
          expect(maxDiff(a, await run(name, onnx, x, seed))).toBe(0)
          if (info.family === 'primary') expect(maxDiff(a, await run(name, tfjs, x, seed))).toBeLessThan(1e-4)
          if (!gradient) expect(maxDiff(a, await run(name, plain, x, seed))).toBe(0)
          if (info.stochastic) {
            // negative control: another seed draws other samples
            expect(maxDiff(a, await run(name, onnx, x, seed + 1))).toBeGreaterThan(1e-6)
          }
        }),
        { seed: 31, numRuns: 3 },
      )
    })
  }
})
