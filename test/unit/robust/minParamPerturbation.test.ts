// MinParamPerturbation on a model whose answer is known in closed form (class 0 while x₀ > 0, an
// attack that subtracts the parameter from x₀): the linear scan and the binary search visit
// Python's float grid (values computed with CPython and written here), report the same minimum,
// batch evaluations without changing anything, and report bad options as typed errors.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/fromFunction.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { float32, minParamPerturbation, type AttackFn, type HostTensor, type MinParamPerturbationOptions } from '../../../src/index.js'
import { pyFloorDiv } from '../../../src/robust/minParamPerturbation.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** Logits [x₀, 0] per row: class 0 exactly while x₀ > 0. */
const model = fromFunction(([x]) => {
  const rows = x!.shape[0]!
  const per = x!.data.length / rows
  return float32([rows, 2], Array.from({ length: rows }, (_, r) => [Number(x!.data[r * per]), 0]).flat())
})
/** Subtracts the parameter from x₀ of every row. */
const shift: AttackFn = ([x], { param }) => [{ dtype: 'float32', shape: [...x!.shape], data: Float32Array.from(x!.data as Float32Array, (v, i) => (i % x!.shape[1]! === 0 ? v - param! : v)) }]
const x = float32([1, 2], [0.37, 5])
const base: MinParamPerturbationOptions = { attack: { _tag: 'custom', fn: shift }, argName: 'shift', argMin: 0, argMax: 1, argStep: 0.1, target: 0 }

const run = async (o: MinParamPerturbationOptions, input: HostTensor = x) => {
  const r = await minParamPerturbation(model, input, o)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

describe('pyFloorDiv', () => {
  it("matches CPython's float // (values from python3)", () => {
    expect(pyFloorDiv(0.5, 0.05)).toBe(9)
    expect(pyFloorDiv(2.0, 0.05)).toBe(39)
    expect(pyFloorDiv(1, 0.1)).toBe(9)
    expect(pyFloorDiv(0.3, 0.1)).toBe(2)
    expect(pyFloorDiv(-7.5, 2)).toBe(-4)
    expect(pyFloorDiv(7.5, -2)).toBe(-4)
    expect(Object.is(pyFloorDiv(-0, 1), -0)).toBe(true)
    // Negative control: a naive Math.floor(a / b) disagrees on the cases above.
    expect(Math.floor(0.5 / 0.05)).toBe(10)
  })
})

describe('minParamPerturbation', () => {
  it('scans the float64-accumulated grid linearly and stops at the first parameter that breaks the model', async () => {
    const r = await run(base)
    expect(r.minParam).toBe(0.4)
    expect(r.searchTrace).toEqual([
      { param: 0, correct: true }, { param: 0.1, correct: true }, { param: 0.2, correct: true }, { param: 0.30000000000000004, correct: true }, { param: 0.4, correct: false },
    ])
    expect(Math.abs(Number(r.perturbed![0]!.data[0]) - (0.37 - 0.4))).toBeLessThan(1e-6)
    expect(Number(r.perturbedOutput!.data[0])).toBeLessThan(0)
  })

  it('binary search visits the midpoints Python computes and finds the same minimum', async () => {
    const r = await run({ ...base, mode: 'binary' })
    expect(r.minParam).toBe(0.4)
    expect(r.searchTrace).toEqual([
      { param: 0.4, correct: false }, { param: 0.2, correct: true }, { param: 0.30000000000000004, correct: true }, { param: 0.30000000000000004, correct: true },
    ])
  })

  it('gives the same answer and trace with several evaluations per model call', async () => {
    for (const mode of ['linear', 'binary'] as const) {
      const one = await run({ ...base, mode })
      const many = await run({ ...base, mode, perturbationsPerEval: 3 })
      expect(many.minParam).toBe(one.minParam)
      expect(many.searchTrace).toEqual(one.searchTrace)
    }
  })

  it('returns nulls when no grid value breaks the model', async () => {
    const r = await run({ ...base, argMax: 0.3 })
    expect(r).toMatchObject({ perturbed: null, minParam: null, perturbedOutput: null })
    expect(r.searchTrace.map((s) => s.correct)).toEqual([true, true, true])
  })

  it('stops at the first parameter where ANY example is wrong (default correctness)', async () => {
    const r = await run(base, float32([2, 2], [0.95, 0, 0.15, 0]))
    expect(r.minParam).toBe(0.2)
  })

  it('searches FGSM epsilon on a tfjs model, with the call target passed to the attack', async () => {
    const lin = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.matMul(t as tf.Tensor2D, tf.tensor2d([1, -1, -1, 1], [2, 2]))))
    const before = tf.memory().numTensors
    const r = await minParamPerturbation(lin, float32([1, 2], [0.33, 0.1]), { attack: { _tag: 'FGSM' }, argName: 'epsilon', argMin: 0, argMax: 1, argStep: 0.05, target: 0 })()
    expect(tf.memory().numTensors).toBe(before)
    if (E.isLeft(r)) throw new Error(r.left.message)
    // z₀ − z₁ = 2(x₀ − x₁) = 0.46 and the step moves it by −4ε: broken for ε > 0.115, first at the grid's 0.05 + 0.05 + 0.05.
    expect(r.right.minParam).toBe(0.15000000000000002)
  })

  it('reports bad options as typed errors', async () => {
    const bad = async (o: MinParamPerturbationOptions): Promise<string> => {
      const r = await minParamPerturbation(model, x, o)()
      return E.isLeft(r) ? r.left._tag : 'Right'
    }
    expect(await bad({ ...base, argStep: 0 })).toBe('InvalidSpec')
    expect(await bad({ ...base, argMin: 2, argMax: 1 })).toBe('InvalidSpec')
    expect(await bad({ ...base, argMin: 1e20, argMax: 2e20, argStep: 1 })).toBe('InvalidSpec')
    expect(await bad({ ...base, argStep: 1e-9 })).toBe('InvalidSpec')
    expect(await bad({ ...base, attack: { _tag: 'FGSM' }, argName: 'eps' })).toBe('InvalidSpec')
    expect(await bad({ ...base, target: [0, 1] })).toBe('BadTarget')
    expect(await bad({ ...base, mode: 'ternary' as 'linear' })).toBe('InvalidSpec')
    expect(await bad({ attack: base.attack, argName: 'shift', argMin: 0, argMax: 1, argStep: 0.1 })).toBe('BadTarget')
  })
})
