import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { float32, type HostTensor } from '../../../src/core/tensor.js'
import { compareTensors } from '../../../src/conformance/compare.js'
import { ArgTarget, readArg } from '../../../src/conformance/format.js'
import { loadModelWeights, type ReferenceCase } from '../../../src/conformance/load.js'
import { loadReferenceDir } from '../../../src/conformance/files.js'
import { buildTfjsReferenceModel, type TfjsReferenceModel } from '../../../src/conformance/tfjsModels.js'
import { REFERENCE_DIR, left, right } from '../../helpers/reference.js'

const referenceDir = REFERENCE_DIR

const ref = right(loadReferenceDir(referenceDir))
const MODELS = ['mlp', 'sigmoidnet', 'cnn', 'textcls', 'tinylm'] as const
/** The model's cases that record its output on `inputs[0]` (TracIn cases record none). */
const casesOf = (model: string): ReferenceCase[] =>
  ref.cases
    .filter((c) => c.entry.model === model)
    .map((c) => right(c.load()))
    .filter((c) => c.modelOutput !== undefined)
const caseById = (id: string): ReferenceCase => {
  const c = ref.cases.find((x) => x.entry.id === id)
  if (c === undefined) throw new Error(`no case ${id}`)
  return right(c.load())
}

/** tfjs has no int64: token ids go in as int32. */
const toTf = (h: HostTensor): tf.Tensor =>
  h.dtype === 'int64'
    ? tf.tensor(Int32Array.from(h.data as BigInt64Array, Number), [...h.shape], 'int32')
    : tf.tensor(h.data as Float32Array, [...h.shape], 'float32')
/** Runs `f` in a tidy scope and copies its result to the host, leaving no tensor behind. */
const hostOf = (f: () => tf.Tensor): HostTensor => {
  const x = tf.tidy(f)
  const h = float32(x.shape, x.dataSync() as Float32Array)
  x.dispose()
  return h
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  await tf.ready()
})

describe.each(MODELS)('buildTfjsReferenceModel(%s)', (name) => {
  const cases = casesOf(name)

  it('reproduces model_output of every case within 1e-5, and frees everything on dispose', () => {
    expect(cases.length).toBeGreaterThan(0)
    const before = tf.memory().numTensors
    const model = right(buildTfjsReferenceModel(right(loadModelWeights(ref, name))))
    expect(model.name).toBe(name)
    let worst = 0
    for (const c of cases) {
      const expected = c.modelOutput as HostTensor
      const actual = hostOf(() => model.fn(toTf(c.inputs[0] as HostTensor)))
      const r = compareTensors(actual, expected, { abs: 1e-5, rel: 0 })
      worst = Math.max(worst, r.maxAbsErr)
      expect(r.ok, `${c.id}: ${r.message}`).toBe(true)
    }
    if (process.env['CLARUS_VERBOSE']) console.log(`${name}: ${cases.length} cases, max |tfjs − torch| ${worst}`)
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(() => model.fn(tf.zeros([1]))).toThrow(/disposed/)
  })
})

/** Σ_i out[i, target_i]: the scalar Captum differentiates for Saliency-like methods. */
const selected = (out: tf.Tensor, target: unknown): tf.Scalar => {
  const [n, k] = out.shape as [number, number]
  if (target === null || target === undefined) return tf.sum(out) // (N, 1) output, target None
  const rows = typeof target === 'number' ? Array.from({ length: n }, () => target) : (target as number[])
  const mask = tf.oneHot(tf.tensor1d(rows, 'int32'), k)
  return tf.sum(tf.mul(out, mask))
}

describe('gradients through the rebuilt networks', () => {
  const models = new Map<string, TfjsReferenceModel>()
  beforeAll(() => {
    for (const m of ['mlp', 'sigmoidnet', 'cnn']) models.set(m, right(buildTfjsReferenceModel(right(loadModelWeights(ref, m)))))
    return () => models.forEach((m) => m.dispose())
  })

  it.each(['mlp', 'sigmoidnet', 'cnn'])('%s: tf.grad is finite, non-zero and input-shaped', (m) => {
    const model = models.get(m) as TfjsReferenceModel
    const c = casesOf(m)[0] as ReferenceCase
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const x = toTf(c.inputs[0] as HostTensor)
      const g = tf.grad((v: tf.Tensor) => tf.sum(model.fn(v)))(x)
      expect(g.shape).toEqual(x.shape)
      const values = Array.from(g.dataSync())
      expect(values.every(Number.isFinite)).toBe(true)
      expect(values.some((v) => v !== 0)).toBe(true)
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  // Saliency = |∂ Σ_i F(x)[i, t_i] / ∂x| (abs optional); InputXGradient = x ⊙ that gradient.
  it.each([
    'mlp.saliency.abs_true.t0',
    'cnn.saliency.abs_true.t3',
    'cnn.saliency.abs_false.tlist',
    'cnn.inputxgradient.t2',
    'sigmoidnet.inputxgradient.tnone',
  ])('%s matches Captum by hand with tf.grad', (id) => {
    const c = caseById(id)
    const model = models.get(c.model) as TfjsReferenceModel
    const target = right(readArg(c.args, 'target', ArgTarget))
    const attribution = hostOf(() => {
      const x = toTf(c.inputs[0] as HostTensor)
      const g = tf.grad((v: tf.Tensor) => selected(model.fn(v), target))(x)
      return c.algorithm === 'InputXGradient' ? tf.mul(x, g) : c.args['abs'] === true ? tf.abs(g) : g
    })
    const r = compareTensors(attribution, c.expected.attributions[0] as HostTensor, c.tolerance)
    expect(r.ok, r.message).toBe(true)
    // Negative control: the wrong target must not pass.
    if (c.algorithm === 'Saliency' && typeof target === 'number') {
      const wrong = hostOf(() => {
        const x = toTf(c.inputs[0] as HostTensor)
        return tf.abs(tf.grad((v: tf.Tensor) => selected(model.fn(v), (target + 1) % 3))(x))
      })
      expect(compareTensors(wrong, c.expected.attributions[0] as HostTensor, c.tolerance).ok).toBe(false)
    }
  })
})

describe('buildTfjsReferenceModel on bad weight JSON', () => {
  const mlp = right(loadModelWeights(ref, 'mlp')) as {
    architecture: Record<string, unknown>[]
    parameters: Record<string, { shape: number[]; data: unknown }>
  }
  const clone = <A>(x: A): A => JSON.parse(JSON.stringify(x)) as A

  it('reports a decode failure, an unknown layer type and a wrong parameter shape, leaking nothing', () => {
    const before = tf.memory().numTensors
    expect(left(buildTfjsReferenceModel({ format: 'x' }))._tag).toBe('InvalidSpec')

    const unknownType = clone(mlp)
    ;(unknownType.architecture[3] as Record<string, unknown>)['type'] = 'GELU'
    const e1 = left(buildTfjsReferenceModel(unknownType))
    expect(e1._tag).toBe('Unsupported')
    expect(e1.path).toEqual(['architecture', '3', 'type'])

    const badShape = clone(mlp)
    const w = badShape.parameters['fc2.weight'] as { shape: number[]; data: unknown }
    w.shape = [32, 16]
    w.data = Array.from({ length: 32 }, () => Array.from({ length: 16 }, () => 0))
    const e2 = left(buildTfjsReferenceModel(badShape))
    expect(e2._tag).toBe('BadModel')
    expect(e2.path).toEqual(['parameters', 'fc2.weight', 'shape'])

    const missing = clone(mlp)
    delete missing.parameters['fc3.weight']
    expect(left(buildTfjsReferenceModel(missing)).path).toEqual(['parameters', 'fc3.weight'])
    // fc1 and fc2 were created before each failure: they must be gone.
    expect(tf.memory().numTensors).toBe(before)
  })

  it('treats a missing bias as bias=False', () => {
    const noBias = clone(mlp)
    delete noBias.parameters['fc3.bias']
    const model = right(buildTfjsReferenceModel(noBias))
    const full = right(buildTfjsReferenceModel(mlp))
    const [a, b] = tf.tidy(() => {
      const x = tf.ones([1, 12])
      return [Array.from(model.fn(x).dataSync()), Array.from(full.fn(x).dataSync())]
    })
    const bias = (mlp.parameters['fc3.bias']?.data as number[]) ?? []
    a?.forEach((v, i) => expect(v + (bias[i] as number)).toBeCloseTo(b?.[i] as number, 5))
    model.dispose()
    full.dispose()
  })
})
