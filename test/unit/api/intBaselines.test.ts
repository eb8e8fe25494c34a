// Integer inputs with float baselines (issue 8, item 11). Captum promotes: the perturbed copies
// take the baseline's fractional values (test_multi_input_ablation_with_int_input_tensor_and_float_baseline).
// Where the model declares an integer input it cannot take floats, and the call fails with a
// typed error; a baseline is never truncated silently.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { FeatureAblation, float32, int32, int64, ShapleyValueSampling, toFloat64, type HostTensor } from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** Σ of every element of every input, per row (Captum's sum_forward), computed on the host. */
const sumForward = ([...xs]: readonly HostTensor[]): HostTensor => {
  const n = xs[0]!.shape[0]!
  const out = new Float32Array(n)
  for (const x of xs) {
    const d = x.data.length / n
    for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) out[i]! += Number(x.data[i * d + e])
  }
  return float32([n], out)
}

const close = (got: HostTensor, want: readonly number[]): void => {
  const g = Array.from(toFloat64(got))
  expect(g.length).toBe(want.length)
  g.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5))
}

describe('integer input, float baseline', () => {
  it('FeatureAblation promotes the input as Captum does (fromFunction)', async () => {
    const attr = await new FeatureAblation(fromFunction(sumForward)).attribute(int64([2, 2], [0, 1, 3, 4]), { baselines: 0.2 })
    close(attr, [-0.2, 0.8, 2.8, 3.8])
  })

  it('the perturbed copies the model sees carry the fractional baseline (tfjs)', async () => {
    const seen: number[] = []
    const model = fromTfjs((x: tf.Tensor) => {
      seen.push(...(x.dtype === 'float32' ? Array.from(x.dataSync()) : []))
      return tf.sum(tf.cast(x, 'float32'), 1)
    })
    const before = tf.memory().numTensors
    const attr = await new FeatureAblation(model).attribute(int32([1, 2], [3, 4]), { baselines: 0.5 })
    expect(tf.memory().numTensors).toBe(before)
    close(attr, [2.5, 3.5])
    expect(seen).toContain(0.5)
  })

  it('a tensor baseline with fractional values promotes too, per input', async () => {
    const [a, b] = await new ShapleyValueSampling(fromFunction(sumForward)).attribute(
      [int64([1, 2], [1, 2]), float32([1, 1], [5])],
      { baselines: [float32([1, 2], [0.25, 0.75]), 0], nSamples: 5 },
    )
    close(a!, [0.75, 1.25])
    close(b!, [5])
  })

  it('whole-number float baselines keep the integer input as it is', async () => {
    const dtypes: string[] = []
    const model = fromFunction((xs) => {
      dtypes.push(xs[0]!.dtype)
      return sumForward(xs)
    })
    const attr = await new FeatureAblation(model).attribute(int64([1, 3], [5, 6, 7]), { baselines: float32([1, 3], [1, 2, 3]) })
    close(attr, [4, 4, 4])
    expect(new Set(dtypes)).toEqual(new Set(['int64']))
  })

  it('a model that declares an integer input (token ids) cannot take 0.5: DTypeMismatch at baselines.0', async () => {
    const ids = fromFunction(sumForward, { inputs: [{ name: 'input_ids', dtype: 'int64', shape: [null, 4] }] })
    const e = await errorOf(new FeatureAblation(ids).attribute(int64([1, 4], [101, 7, 8, 102]), { baselines: 0.5 }))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['baselines', '0'])
    expect(e.message).toMatch(/baselines\.0/)
    expect(e.message).toMatch(/integer/)
    expect(e.message).toMatch(/whole number/)
    expect(e.message).toMatch(/0\.5/)
  })

  it('the same for a fractional tensor baseline on the second input', async () => {
    const m = fromFunction(sumForward, { inputs: [{ name: 'x', dtype: 'float32', shape: [null, 1] }, { name: 'ids', dtype: 'int32', shape: [null, 2] }] })
    const e = await errorOf(new FeatureAblation(m).attribute([float32([1, 1], [1]), int32([1, 2], [3, 4])], { baselines: [0, float32([2], [1, 1.5])] }))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['baselines', '1'])
    expect(e.message).toMatch(/whole number/)
  })
})
