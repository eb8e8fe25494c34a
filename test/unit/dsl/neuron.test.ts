// The neuron-selection helpers methods use when they read the neuron from a forward capture
// (perturbation methods) rather than through a seed: `neuronValues` evaluates any selection on a
// layer tensor, one value per row. Hand-computed values on a small layer, on the host backend
// (index, slice sum, mask) and on tfjs (function), plus the printed forms and the codec.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { keyOf } from '../../../src/core/random.js'
import { memoTable, type CallData, type RunContext } from '../../../src/dsl/flow.js'
import { describeNeuron, NeuronRef, neuronValues, sliceIndices } from '../../../src/dsl/neuron.js'
import { float32, type Model } from '../../../src/index.js'

const ctxOf = <T>(model: Model<T>, nExamples: number, callData: CallData<T> = {}): RunContext<T> => ({
  model, backend: model.backend, nExamples, inputs: [], extraArgs: [], target: null, key: keyOf(0), chunk: { memoryBudgetBytes: 1e9 },
  track: (t) => t, tick: () => undefined, modelOptions: {}, callData, memo: memoTable(),
  runInner: () => () => Promise.reject(new Error('not used')),
})
const hostModel = fromFunction(([v]) => v!)

// a layer of 3 rows (examples 0, 1, then example 0 again), each 2 × 3: row r holds 100·r + (0..5)
const layer = float32([3, 2, 3], Array.from({ length: 18 }, (_, i) => 100 * Math.floor(i / 6) + (i % 6)))
const rows = Int32Array.of(0, 1, 0)
const values = async (n: NeuronRef): Promise<number[]> => {
  const v = await neuronValues(ctxOf(hostModel, 2), n, layer, rows)
  if (E.isLeft(v)) throw new Error(v.left.message)
  return Array.from(v.right)
}

describe('neuronValues on captured layers', () => {
  it('an index picks one element; slices sum their block, dims past the tuple included', async () => {
    expect(await values({ layer: 'l', index: [1, 2] })).toEqual([5, 105, 205])
    expect(await values({ layer: 'l', index: [-1, -3] })).toEqual([3, 103, 203])
    // (slice(None), 1) → elements 1 and 4
    expect(await values({ layer: 'l', index: [{}, 1] })).toEqual([5, 205, 405])
    // (slice(1, None),) → the second row of each example, all 3 columns: 3 + 4 + 5
    expect(await values({ layer: 'l', index: [{ start: 1 }] })).toEqual([12, 312, 612])
    // (0, slice(None, None, 2)) → columns 0 and 2
    expect(await values({ layer: 'l', index: [0, { step: 2 }] })).toEqual([2, 202, 402])
  })

  it('a mask weights the elements; a per-example mask follows each row\'s example', async () => {
    const m = [1, 0, -1, 0, 2, 0]
    expect(await values({ layer: 'l', mask: { shape: [2, 3], data: m } })).toEqual([-2 + 8, 100 - 102 + 208, 200 - 202 + 408])
    const perExample = { shape: [2, 2, 3], data: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }
    expect(await values({ layer: 'l', mask: perExample })).toEqual([0, 105, 200])
  })

  it('a function runs on the layer (tfjs) and must give one value per row', async () => {
    await tf.setBackend('cpu')
    const tfModel = fromTfjs((t: tf.Tensor) => t)
    const y = tf.tensor3d(layer.data as Float32Array, [3, 2, 3])
    const before = tf.memory().numTensors
    const fn = (t: tf.Tensor): tf.Tensor => tf.max(tf.reshape(t, [3, 6]), 1)
    const v = await neuronValues(ctxOf(tfModel, 2, { neuronFn: fn }), { layer: 'l', fromCall: 'neuronFn' }, y, rows)
    expect(E.isRight(v) && Array.from(v.right)).toEqual([5, 105, 205])
    const wide = await neuronValues(ctxOf(tfModel, 2, { neuronFn: (t: tf.Tensor) => tf.mul(t, 2) }), { layer: 'l', fromCall: 'neuronFn' }, y, rows)
    expect(E.isLeft(wide) && wide.left.message).toMatch(/shape \[3, 2, 3\] for a layer of 3 rows/)
    const none = await neuronValues(ctxOf(tfModel, 2), { layer: 'l', fromCall: 'neuronFn' }, y, rows)
    expect(E.isLeft(none) && none.left._tag).toBe('BadPipeline')
    // this context's track is the identity, so the one value tensor is all that is left (tidy freed the rest)
    expect(tf.memory().numTensors).toBe(before + 1)
    y.dispose()
  })
})

describe('selection data', () => {
  it('slices follow Python: negative values, None, clamping, steps', () => {
    const r = (s: Parameters<typeof sliceIndices>[0]): number[] => sliceIndices(s, 5)
    expect(r({})).toEqual([0, 1, 2, 3, 4])
    expect(r({ start: -2 })).toEqual([3, 4])
    expect(r({ stop: -2 })).toEqual([0, 1, 2])
    expect(r({ start: 1, stop: 100, step: 2 })).toEqual([1, 3])
    expect(r({ start: -100, stop: 1 })).toEqual([0])
    expect(r({ start: 4, stop: 2 })).toEqual([])
    expect(r({ start: 7 })).toEqual([])
  })

  it('prints as a user would write it, and the codec rejects what Python would not take', () => {
    expect(describeNeuron({ layer: 'relu', index: [{ start: 0, stop: 2 }, 1, { step: 2 }, {}] })).toBe('"relu"[0:2, 1, ::2, :]')
    expect(describeNeuron({ layer: 'relu', mask: { shape: [4], data: [0, 0, 0, 0] } })).toBe('Σ mask[4] ⊙ "relu"')
    expect(describeNeuron({ layer: 'relu', fromCall: 'neuronFn' })).toBe('neuronFn("relu")')
    expect(E.isRight(NeuronRef.decode({ layer: 'l', index: [0, { start: null, stop: -1 }] }))).toBe(true)
    for (const bad of [
      { layer: 'l', index: [{ step: 0 }] },
      { layer: 'l', index: [{ start: 0.5 }] },
      { layer: 'l', index: [{ from: 1 }] },
      { layer: 'l', mask: { shape: [2], data: [1] } },
      { layer: 'l', mask: { shape: [1], data: [Number.POSITIVE_INFINITY] } },
      { layer: 'l', fromCall: 'somethingElse' },
    ]) expect(E.isLeft(NeuronRef.decode(bad)), JSON.stringify(bad)).toBe(true)
  })
})
