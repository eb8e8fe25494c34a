// Error messages name the user's field and say what is wrong and what to do (issue 8, item 14).
import * as tf from '@tensorflow/tfjs'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { FeatureAblation, IntegratedGradients, Saliency, float32, type HostTensor } from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** A host tensor as a user might get it wrong (the types would stop most of these). */
const loose = (dtype: string, shape: number[], data: unknown): HostTensor => ({ dtype, shape, data }) as unknown as HostTensor

const rowSums = fromFunction(([a, ...rest]) => {
  const n = a!.shape[0]!
  const out = new Float32Array(n)
  for (const t of [a!, ...rest]) {
    const d = t.data.length / n
    for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) out[i]! += Number(t.data[i * d + e])
  }
  return float32([n], out)
})
const tfModel = fromTfjs((x: tf.Tensor) => tf.sum(tf.mul(x, x), 1, true))

describe('host tensors given wrongly', () => {
  it('Float64Array data for a float32 tensor', async () => {
    const e = await errorOf(new FeatureAblation(rowSums).attribute(loose('float32', [1, 2], Float64Array.of(1, 2))))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['inputs', '0'])
    expect(e.message).toMatch(/^inputs\.0: /)
    expect(e.message).toMatch(/Float64Array/)
    expect(e.message).toMatch(/Float32Array\.from\(data\)/)
  })

  it("dtype: 'float64'", async () => {
    const e = await errorOf(new FeatureAblation(rowSums).attribute([float32([1, 1], [1]), loose('float64', [1, 2], Float64Array.of(1, 2))]))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['inputs', '1'])
    expect(e.message).toMatch(/inputs\.1: float64 is not supported/)
    expect(e.message).toMatch(/Float32Array\.from\(data\)/)
  })

  it('data whose length disagrees with the shape, in a baseline', async () => {
    const e = await errorOf(new FeatureAblation(rowSums).attribute(
      [float32([2, 6], new Float32Array(12)), float32([2, 6], new Float32Array(12))],
      { baselines: [0, loose('float32', [2, 6], new Float32Array(10))] },
    ))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['baselines', '1'])
    expect(e.message).toMatch(/baselines\.1: data has 10 elements but shape \[2,6\] needs 12/)
  })

  it('the same for an additional forward argument', async () => {
    const e = await errorOf(new FeatureAblation(rowSums).attribute(float32([1, 2], [1, 2]), { additionalForwardArgs: [loose('int32', [3], Int32Array.of(1))] }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['additionalForwardArgs', '0'])
    expect(e.message).toMatch(/data has 1 elements but shape \[3\] needs 3/)
  })
})

describe('options', () => {
  it('NaN and Infinity are printed as such, not as null', async () => {
    const x = float32([1, 2], [1, 2])
    const nan = await errorOf(new IntegratedGradients(tfModel).attribute(x, { target: 0, nSteps: Number.NaN }))
    expect(nan._tag).toBe('InvalidSpec')
    expect(nan.path).toEqual(['nSteps'])
    expect(nan.message).toMatch(/nSteps: expected an integer ≥ 1, got NaN/)
    expect(nan.message).not.toMatch(/null/)
    const inf = await errorOf(new Saliency(tfModel).attribute(x, { target: 0, internalBatchSize: Number.POSITIVE_INFINITY, memoryBudgetBytes: Number.NaN }))
    expect(inf._tag).toBe('InvalidSpec')
    expect(inf.message).toMatch(/internalBatchSize: expected an integer ≥ 1, got Infinity/)
    expect(inf.message).toMatch(/memoryBudgetBytes: got NaN/)
    expect(inf.message).not.toMatch(/null/)
  })
})

describe('tfjs models', () => {
  it('an int32 output is not differentiable: DTypeMismatch, not "no gradient for op Greater"', async () => {
    const before = tf.memory().numTensors
    const m = fromTfjs((x: tf.Tensor) => tf.cast(tf.greater(x, 0), 'int32'))
    const e = await errorOf(new IntegratedGradients(m).attribute(float32([1, 2], [1, -2]), { target: 0 }))
    expect(tf.memory().numTensors).toBe(before)
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['output'])
    expect(e.message).toMatch(/model output is int32/)
    expect(e.message).toMatch(/not differentiable/)
    expect(e.message).toMatch(/perturbation method/)
  })

  it('a shape error reports the per-example shape and the field, not the expanded batch', async () => {
    // y = x·W with x declared [-1, 3]; the user passes one example without its batch dimension.
    const g = loadGraphModelSync({
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
          { name: 'W', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } },
          { name: 'y', op: 'MatMul', input: ['x', 'W'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
        ],
        versions: { producer: 1 },
      },
      weightSpecs: [{ name: 'W', shape: [3, 2], dtype: 'float32' }],
      weightData: new Float32Array(6).buffer,
    })
    const before = tf.memory().numTensors
    const e = await errorOf(new IntegratedGradients(fromTfjs(g)).attribute(float32([3], [1, 2, 3]), { target: 0, nSteps: 50 }))
    expect(tf.memory().numTensors).toBe(before)
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['inputs', '0'])
    expect(e.message).toMatch(/^inputs\.0: /)
    expect(e.message).toMatch(/batch dimension/)
    expect(e.message).toMatch(/pass shape \[1, 3\]/)
    expect(e.message).not.toMatch(/150/)
    // The same through a forward-only method (a tf.Sequential LayersModel this time).
    const seq = tf.sequential({ layers: [tf.layers.dense({ inputShape: [12], units: 2 })] })
    const f = await errorOf(new FeatureAblation(fromTfjs(seq)).attribute(float32([2, 6], new Float32Array(12)), { target: 0 }))
    expect(f._tag).toBe('ShapeMismatch')
    expect(f.path).toEqual(['inputs', '0'])
    expect(f.message).toMatch(/each example must have shape \[12\]/)
    expect(f.message).toMatch(/examples of shape \[6\]/)
    g.dispose()
    seq.dispose()
  })
})
