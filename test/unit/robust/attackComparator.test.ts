// AttackComparator on a model with logits [x₀, 0] and hand-made attacks whose metric values are
// known: per-example results, mean/min/max over attempts, the summary over batches (each batch
// averaged over examples, then batches averaged), Captum's keys, batching invariance, errors, leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/fromFunction.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { compareAttacks, evaluateAttacks, float32, summarizeAttacks, type AttackComparatorOptions, type AttackFn, type HostTensor, type MetricFn } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const model = fromFunction(([x]) => {
  const rows = x!.shape[0]!
  return float32([rows, 2], Array.from({ length: rows }, (_, r) => [Number(x!.data[r * 2]), 0]).flat())
})
const mapX0 = (x: HostTensor, f: (v: number) => number): HostTensor => ({ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, i) => (i % 2 === 0 ? f(v) : v)) })
const flip: AttackFn = ([x]) => [mapX0(x!, (v) => -v)]
/** Attempt a subtracts 0.1·(a + 1) from x₀. */
const shift: AttackFn = ([x], { attempt }) => [mapX0(x!, (v) => v - 0.1 * (attempt + 1))]
const z0: MetricFn = (out) => ({ z0: float32([out.shape[0]!], Array.from({ length: out.shape[0]! }, (_, r) => Number(out.data[r * 2]))) })
const options: AttackComparatorOptions = {
  attacks: [{ name: 'flip', attack: { _tag: 'custom', fn: flip } }, { name: 'shift', attack: { _tag: 'custom', fn: shift }, numAttempts: 3 }],
  metric: z0,
}
const x1 = float32([2, 2], [1, 0, -0.5, 0])
const x2 = float32([2, 2], [2, 0, 0, 0])
const vals = (h: HostTensor | undefined): number[] => Array.from(h!.data as Float32Array, (v) => Math.round(v * 1e6) / 1e6)

describe('attack comparison', () => {
  it('gives per-example metrics for the original and each attack, with mean/min/max over attempts', async () => {
    const r = await evaluateAttacks(model, x1, options)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(vals(r.right.original['z0'])).toEqual([1, -0.5])
    const [f, s] = r.right.attacks
    expect(f!.name).toBe('flip')
    expect(Object.keys(f!.stats)).toEqual(['mean'])
    expect(vals(f!.stats.mean['z0'])).toEqual([-1, 0.5])
    expect(vals(s!.stats.mean['z0'])).toEqual([0.8, -0.7])
    expect(vals(s!.stats.min!['z0'])).toEqual([0.7, -0.8])
    expect(vals(s!.stats.max!['z0'])).toEqual([0.9, -0.6])
  })

  it('summarizes each batch over examples and then over batches, under Captum\'s keys', async () => {
    const r = await compareAttacks(model, [{ inputs: x1 }, { inputs: x2 }], options)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    const s = r.right.summary
    expect(s.keys).toEqual(['Original', 'flip', 'shift Mean Attempt', 'shift Min Attempt', 'shift Max Attempt'])
    expect(s.columns).toEqual(['z0'])
    expect(s.table.shape).toEqual([5, 1])
    expect(vals(s.table)).toEqual([0.625, -0.625, 0.425, 0.325, 0.525])
    // Negative control: pooling all four examples at once would give the same here only by accident; with unequal batches it differs.
    const unequal = await compareAttacks(model, [{ inputs: x1 }, { inputs: float32([1, 2], [2, 0]) }], options)()
    if (E.isLeft(unequal)) throw new Error(unequal.left.message)
    expect(vals(unequal.right.summary.table)[0]).toBe((0.25 + 2) / 2)
    expect(vals(unequal.right.summary.table)[0]).not.toBe(Math.round(((1 - 0.5 + 2) / 3) * 1e6) / 1e6)
  })

  it('does not depend on perturbationsPerEval', async () => {
    const one = await evaluateAttacks(model, x1, options)()
    const four = await evaluateAttacks(model, x1, { ...options, perturbationsPerEval: 4 })()
    expect(four).toEqual(one)
  })

  it('has built-in accuracy and trueProb metrics', async () => {
    const r = await evaluateAttacks(model, x1, { attacks: [], target: [0, 0] })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(vals(r.right.original['accuracy'])).toEqual([1, 0])
    const sig = (v: number): number => Math.round((1 / (1 + Math.exp(-v))) * 1e6) / 1e6
    expect(vals(r.right.original['trueProb'])).toEqual([sig(1), sig(-0.5)])
  })

  it('runs FGSM and PGD attacks with the call target on tfjs without leaking tensors', async () => {
    const lin = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.matMul(t as tf.Tensor2D, tf.tensor2d([1, -1, -1, 1], [2, 2]))))
    const input: tf.Tensor = tf.tensor2d([[0.3, 0.1], [0.2, 0.5]])
    const before = tf.memory().numTensors
    const r = await compareAttacks(lin, [{ inputs: input, target: [0, 1] }], {
      attacks: [
        { name: 'FGSM', attack: { _tag: 'FGSM', options: { epsilon: 0.2 } } },
        { name: 'PGD', attack: { _tag: 'PGD', options: { radius: 0.3, stepSize: 0.1, stepNum: 3, randomStart: true } }, numAttempts: 2 },
      ],
    })()
    expect(tf.memory().numTensors).toBe(before)
    input.dispose()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.summary.keys).toEqual(['Original', 'FGSM', 'PGD Mean Attempt', 'PGD Min Attempt', 'PGD Max Attempt'])
    // FGSM with ε = 0.2 flips the first example (margin 0.4, moved by 0.8) and the second (margin 0.6).
    expect(vals(r.right.evaluations[0]!.attacks[0]!.stats.mean['accuracy'])).toEqual([0, 0])
  })

  it('reports bad comparisons as typed errors', async () => {
    const tag = async (o: AttackComparatorOptions, target?: readonly number[]): Promise<string> => {
      const r = await evaluateAttacks(model, x1, { ...o, ...(target ? { target } : {}) })()
      return E.isLeft(r) ? r.left._tag : 'Right'
    }
    expect(await tag({ ...options, attacks: [options.attacks[0]!, options.attacks[0]!] })).toBe('InvalidSpec')
    expect(await tag({ ...options, attacks: [{ name: 'Original', attack: { _tag: 'custom', fn: flip } }] })).toBe('InvalidSpec')
    expect(await tag({ attacks: [{ name: 'f', attack: { _tag: 'FGSM', options: { epsilon: 0.1 } } }], metric: z0 })).toBe('BadTarget')
    expect(await tag({ attacks: [{ name: 'f', attack: { _tag: 'FGSM', options: { epsilon: -1 } } }], metric: z0 }, [0, 0])).toBe('InvalidSpec')
    expect(await tag({ attacks: [{ name: 'bad', attack: { _tag: 'custom', fn: () => [] } }], metric: z0 })).toBe('ShapeMismatch')
    expect(await tag({ attacks: [] })).toBe('BadTarget')
    const a = await evaluateAttacks(model, x1, options)()
    const b = await evaluateAttacks(model, x1, { ...options, attacks: [options.attacks[0]!] })()
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('evaluations failed')
    expect(E.isLeft(summarizeAttacks([a.right, b.right]))).toBe(true)
    expect(E.isLeft(summarizeAttacks([]))).toBe(true)
  })
})
