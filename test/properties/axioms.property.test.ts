// The axiom table: every METHODS entry × every axiom it claims × every backend, checked with the
// public `verify` on the reference mlp (12 features, 3 outputs) as an ONNX model and as its tfjs
// rebuild. Nothing here is per method: a new method gets its checks by declaring `claims` in
// METHODS and small options in MLP_METHOD_OPTIONS (a method that claims axioms without a row there
// fails loudly). Negative controls (methods that must fail an axiom) are at the end.
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { loadModelWeights } from '../../src/conformance/load.js'
import { loadReferenceDir } from '../../src/conformance/files.js'
import { buildTfjsReferenceModel, type TfjsReferenceModel } from '../../src/conformance/tfjsModels.js'
import {
  METHODS, attribute, float32, integratedGradients, pipeline, saliency, stage,
  verify, formatVerifyReport, type Axiom, type HostTensor, type Model, type VerifyMethod, type VerifyReport,
} from '../../src/index.js'
import { MLP_CALL_DATA, MLP_METHOD_OPTIONS } from '../helpers/methodOptions.js'
import { mlpFn, type MlpSpec } from '../helpers/randomMlp.js'

const REF = fileURLToPath(new URL('../../../shared/reference', import.meta.url))
const LAYERS = { fc1: '/fc1/Gemm_output_0', relu1: '/relu1/Relu_output_0' }
let onnx: Model<HostTensor>

beforeAll(async () => {
  await tf.setBackend('cpu')
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  onnx = m.right
})
afterAll(async () => {
  await onnx.dispose()
})

/** The mlp rebuilt in tfjs on the current tfjs backend, its layers named as in the ONNX file. */
const tfjsMlp = (): TfjsReferenceModel => {
  const ref = loadReferenceDir(REF)
  if (E.isLeft(ref)) throw new Error(ref.left.message)
  const w = loadModelWeights(ref.right, 'mlp')
  if (E.isLeft(w)) throw new Error(w.left.message)
  const built = buildTfjsReferenceModel(w.right)
  if (E.isLeft(built)) throw new Error(built.left.message)
  return built.right
}

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
const SEARCH = { numRuns: 3, seed: 5, target: 1 } as const

/**
 * Completeness of a path method holds as nSteps grows, and on a ReLU network the Gauss–Legendre
 * error only falls like 1/nSteps (the integrand has kinks): the table checks it at 256 steps,
 * where the worst error measured on the mlp is below 2e-3, against 5e-3. The negative control below
 * shows a quadrature mismatch fails at that same tolerance.
 */
const PATH_STEPS = 256
const PATH_TOLERANCE = 5e-3

/**
 * Axioms stated on input features only: they do not apply to a method that attributes to a layer or
 * a neuron. (Dummy applies to layer methods too, on the layer's neurons; not to neuron methods.)
 */
const INPUT_SPACE: readonly Axiom[] = ['sensitivity', 'symmetry']
const expectedStatus = (family: string, axiom: Axiom): string =>
  family === 'primary' || !(INPUT_SPACE.includes(axiom) || (axiom === 'dummy' && family === 'neuron')) ? 'holds' : 'notApplicable'

const run = async <T>(model: Model<T>, method: VerifyMethod<T>, extra: Record<string, unknown> = {}): Promise<VerifyReport> => {
  const r = await verify(model, method, { inputs: x, ...SEARCH, ...extra })()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

/** Where the table runs: the ONNX model, and the tfjs rebuild on each tfjs backend (`tf` names it). */
const BACKENDS: readonly { readonly name: string; readonly tf?: 'cpu' | 'wasm' }[] = [{ name: 'onnx' }, { name: 'tfjs-cpu', tf: 'cpu' }, { name: 'tfjs-wasm', tf: 'wasm' }]
const claiming = Object.entries(METHODS).filter(([, info]) => info.claims.length > 0)

it('every method that claims axioms has small options in MLP_METHOD_OPTIONS', () => {
  const missing = claiming.filter(([name]) => !Object.hasOwn(MLP_METHOD_OPTIONS, name)).map(([name]) => name)
  expect(missing, `add a row for ${missing.join(', ')} to test/helpers/methodOptions.ts`).toEqual([])
})

for (const backend of BACKENDS) describe(`the axiom table on ${backend.name}: METHODS × claims`, () => {
  let model: Model<unknown>
  let built: TfjsReferenceModel | undefined
  let previous = 'cpu'
  beforeAll(async () => {
    if (backend.tf === undefined) {
      model = onnx as Model<unknown>
      return
    }
    previous = tf.getBackend()
    await tf.setBackend(backend.tf)
    built = tfjsMlp()
    model = fromTfjs(built.tapped(LAYERS)) as Model<unknown>
  })
  afterAll(async () => {
    built?.dispose()
    if (backend.tf !== undefined) await tf.setBackend(previous)
  })
  for (const [name, info] of claiming) {
    it(`${name}: ${info.claims.join(', ')}`, async () => {
      const options = MLP_METHOD_OPTIONS[name]
      if (options === undefined) throw new Error(`${name} claims ${info.claims.join(', ')} but has no row in MLP_METHOD_OPTIONS: add one`)
      const call = { ...(MLP_CALL_DATA[name] ?? {}) }
      const pathMethod = Object.hasOwn(options, 'nSteps')
      const before = tf.memory().numTensors
      const rest = await run(model, { method: name, options }, { ...call, axioms: info.claims.filter((a) => !(pathMethod && a === 'completeness')) })
      const checks = [...rest.checks]
      if (pathMethod && info.claims.includes('completeness')) {
        const c = await run(model, { method: name, options: { ...options, nSteps: PATH_STEPS } }, { ...call, axioms: ['completeness'], tolerance: PATH_TOLERANCE })
        checks.push(...c.checks)
      }
      expect(tf.memory().numTensors).toBe(before)
      expect(checks.map((c) => c.axiom).sort()).toEqual([...info.claims].sort())
      for (const c of checks) {
        const expected = expectedStatus(info.family, c.axiom)
        expect(c.claimed).toBe(true)
        expect(c.status, `${name} ${c.axiom}: ${formatVerifyReport({ ...rest, checks: [c] })}`).toBe(expected)
        if (c.status === 'holds') {
          expect(c.runs).toBe(SEARCH.numRuns)
          expect(c.worstError).toBeLessThanOrEqual(c.tolerance)
        }
      }
    })
  }
})

/** IG with the trapezoid nodes k/(n−1) but weights of n intervals (Σ w = (n−1)/n): a quadrature mismatch. */
const mismatchedIg = (n: number) =>
  pipeline('MismatchedIG', stage.interpolate({ nSteps: n, method: 'riemann_trapezoid' }), stage.grad(), stage.quadrature(), stage.scaleByDelta())

const TANH_MLP: MlpSpec = { nIn: 3, nHidden: 4, nOut: 1, w1: [0.8, -0.5, 0.3, 1.1, -0.9, 0.4, 0.7, -0.2, 0.6, 0.1, -1.2, 0.5], b1: [0.1, -0.2, 0.05, 0.3], w2: [1.2, -0.7, 0.9, 0.4], b2: [0.1], activation: 'tanh' }

const ignoresFeature0Base = (model: Model<HostTensor>, inputs: readonly HostTensor[], call: { readonly baselines: readonly HostTensor[]; readonly target: number | undefined }) =>
  TE.map((r: { attributions: readonly HostTensor[] }) => r.attributions)(attribute(integratedGradients({ nSteps: 16 }), model, inputs, { baselines: call.baselines, ...(call.target === undefined ? {} : { target: call.target }) }))

/** Integrated Gradients, then feature 0 of every example zeroed: a method that ignores one input feature. */
const ignoresFeature0: VerifyMethod<HostTensor> = {
  name: 'IgnoresFeature0',
  claims: ['sensitivity'],
  explain: (model, inputs, call) => TE.map((r: { attributions: readonly HostTensor[] }) => r.attributions.map((a) => {
    const d = a.data.length / a.shape[0]!
    return float32(a.shape, Float32Array.from(a.data as Float32Array, (v, i) => (i % d === 0 ? 0 : v)))
  }))(attribute(integratedGradients({ nSteps: 16 }), model, inputs, { baselines: call.baselines, ...(call.target === undefined ? {} : { target: call.target }) })),
}

describe('negative controls: verify finds planted bugs, with a shrunk counterexample', () => {
  it('IG with a quadrature mismatch fails completeness; the matched rule holds', async () => {
    // On a smooth (tanh) network Gauss–Legendre IG is exact to float32 rounding at 16 steps, so any
    // completeness error left is the planted one: trapezoid weights Σ w = 15/16.
    const smooth = fromTfjs(mlpFn(TANH_MLP))
    const inputs = float32([2, 3], [0.5, -1, 2, 1.5, 0.2, -0.7])
    const check = async (p: ReturnType<typeof pipeline>) => {
      const r = await verify(smooth, { pipeline: p, claims: ['completeness'] }, { inputs, target: 0, numRuns: 5, seed: 2, tolerance: 1e-4 })()
      if (E.isLeft(r)) throw new Error(r.left.message)
      return r.right
    }
    const bad = await check(mismatchedIg(16))
    const c = bad.checks[0]!
    expect(c.status).toBe('fails')
    expect(c.worstError).toBeGreaterThan(1e-2)
    // shrunk: the perturbation scale goes to 0 (the bug shows at the user's own inputs)
    expect(c.counterexample!.scale).toBe(0)
    expect(c.counterexample!.where).toMatch(/^example \d: Σ attributions = .*, F\(x\) − F\(x′\) = /)
    expect(formatVerifyReport(bad)).toContain('FAILS  completeness')
    const good = await check(integratedGradients({ nSteps: 16 }))
    expect(good.checks[0]!.status).toBe('holds')
    expect(good.checks[0]!.worstError).toBeLessThan(1e-5)
  })

  it('a method that ignores one input feature fails sensitivity, and the counterexample names that feature', async () => {
    const bad = await run(onnx, ignoresFeature0)
    const c = bad.checks[0]!
    expect(c.status).toBe('fails')
    expect(c.counterexample!.scale).toBe(0)
    expect(c.counterexample!.where).toMatch(/^feature 0 of example \d: F\(x̃\) − F\(x′\) = .* but its attribution is 0$/)
    expect(bad.ok).toBe(false)
    const good = await run(onnx, { pipeline: integratedGradients({ nSteps: 16 }), claims: ['sensitivity'] })
    expect(good.checks[0]!.status).toBe('holds')
  })

  it('a bug away from the user\'s inputs is found by the search and shrunk towards where it starts', async () => {
    // IG that drops feature 0 once it has moved up by more than 0.03 from the user's value
    const drifting: VerifyMethod<HostTensor> = {
      name: 'DropsFeature0WhenMoved',
      claims: ['sensitivity'],
      explain: (model, inputs, call) => TE.map((attrs: readonly HostTensor[]) => attrs.map((a) => float32(a.shape, Float32Array.from(a.data as Float32Array, (v, i) => {
        const row = Math.floor(i / 12) % 2
        return i % 12 === 0 && Number(inputs[0]!.data[12 * Math.floor(i / 12)]) > Number(x.data[12 * row]) + 0.03 ? 0 : v
      }))))(ignoresFeature0Base(model, inputs, call)),
    }
    const r = await run(onnx, drifting, { numRuns: 40 })
    const c = r.checks[0]!
    expect(c.status).toBe('fails')
    expect(c.counterexample!.shrinks).toBeGreaterThan(0)
    expect(c.counterexample!.scale).toBeGreaterThan(0.3)
    expect(c.counterexample!.where).toMatch(/^feature 0 of example \d: /)
    expect(c.counterexample!.error).toBeGreaterThan(c.tolerance)
  })

  it('Saliency (|∂F/∂x|) is not linear: claimed linearity fails', async () => {
    const c = (await run(onnx, { pipeline: saliency(), claims: ['linearity'] })).checks[0]!
    expect(c.status).toBe('fails')
    expect(c.counterexample!.setting).toMatch(/^a = .*, b = .*, F₁ = output 1, F₂ = output \d$/)
  })

  it('Input×Gradient (a local method) fails completeness', async () => {
    const local = pipeline('InputXGradientDelta', stage.grad(), stage.multiplyByInputs())
    const c = (await run(onnx, { pipeline: local, claims: ['completeness'] })).checks[0]!
    expect(c.status).toBe('fails')
  })

  it('attributions equal to the inputs fail dummy; plus-index attributions fail symmetry', async () => {
    const echo: VerifyMethod<HostTensor> = { name: 'Echo', claims: ['dummy', 'symmetry'], explain: (_m, inputs) => TE.right(inputs.map((t, k) => float32(t.shape, Float32Array.from(t.data as Float32Array, (v, i) => v + (k === 0 ? (i % 12) / 10 : 0))))) }
    const r = await run(onnx, echo)
    expect(r.checks.map((c) => [c.axiom, c.status])).toEqual([['dummy', 'fails'], ['symmetry', 'fails']])
  })
})
