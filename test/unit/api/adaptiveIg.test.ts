// adaptiveIntegratedGradients: the reported completeness error is the true one, the tolerance is met
// when it says so, no refinement = the uniform trapezoid rule, fewer passes than a uniform grid on a
// ReLU network, bad input, no leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { adaptiveIntegratedGradients, attribute, completeness, evaluate, float32, integratedGradients, type HostTensor, type Model } from '../../../src/index.js'
import { kronrodPoints } from '../../../src/api/adaptiveIg.js'

const REF = fileURLToPath(new URL('../../../../shared/reference', import.meta.url))

let mlp: Model<HostTensor>
beforeAll(async () => {
  await tf.setBackend('cpu')
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
})
afterAll(async () => {
  await mlp.dispose()
})

const right = <A>(r: E.Either<{ _tag: string; message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1) * 2))

/** A two-layer network F(x) = v · act(W x + c) with its weights drawn from `w` (length 4·d + 4 + 4). */
const net = (w: readonly number[], d: number, act: 'relu' | 'tanh') =>
  fromTfjs((xs: tf.Tensor) =>
    tf.tidy(() => {
      const W = tf.tensor2d(w.slice(0, 4 * d), [d, 4])
      const c = tf.tensor1d(w.slice(4 * d, 4 * d + 4))
      const v = tf.tensor2d(w.slice(4 * d + 4, 4 * d + 8), [4, 1])
      const h = tf.add(tf.matMul(xs as tf.Tensor2D, W), c)
      return tf.matMul(act === 'relu' ? tf.relu(h) : tf.tanh(h), v)
    }),
  )

describe('adaptiveIntegratedGradients', () => {
  it.each(['gaussKronrod', 'simpson', 'trapezoid'] as const)('%s reaches the tolerance on the reference mlp, and the delta it reports is the true completeness error', async (rule) => {
    // measured passes per example: gaussKronrod 1005 / 1005, simpson 249 / 189, trapezoid 167 / 185
    const r = right(await adaptiveIntegratedGradients(mlp, x, { target: 1 }, { tolerance: 1e-4, maxSteps: 2048, rule })())
    expect(r.converged).toEqual([true, true])
    Array.from(r.delta.data).forEach((d) => expect(Math.abs(d)).toBeLessThanOrEqual(1e-4))
    // an independent check: the completeness metric on the returned attributions
    const c = right(await evaluate(completeness('given'), mlp, x, { target: 1, attributions: r.attributions[0]! })())
    Array.from(c.scores.data).forEach((v, e) => expect(v).toBeCloseTo(Math.abs(r.delta.data[e]!), 4))
    expect(r.attributions[0]!.shape).toEqual([2, 12])
    r.alphas.forEach((a, e) => {
      // Kronrod points lie inside their panels (never at the baseline or the input); the meshes keep every point
      if (rule === 'gaussKronrod') {
        expect(a[0]).toBeGreaterThan(0)
        expect(a[a.length - 1]).toBeLessThan(1)
        expect(a.length % 15).toBe(0)
        expect(a.length).toBeLessThanOrEqual(r.passes[e]!)
      } else {
        expect(a[0]).toBe(0)
        expect(a[a.length - 1]).toBe(1)
        expect(a.length).toBe(r.passes[e])
      }
      for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThan(a[i - 1]!)
    })
  })

  it('uses fewer than half the gradients a uniform Gauss–Legendre grid needs for the same error on the ReLU mlp', async () => {
    // measured: trapezoid panels need 95 / 71 gradients to reach 1e-3; Gauss–Legendre is still at 3.9e-3 with 256 steps and needs 1024
    const tol = 1e-3
    const r = right(await adaptiveIntegratedGradients(mlp, x, { target: 1 }, { tolerance: tol, maxSteps: 1024, rule: 'trapezoid' })())
    const adaptive = Math.max(...r.passes)
    // the smallest power-of-two step count at which Captum's default rule gets both examples within tol
    let uniform = 0
    for (const n of [16, 32, 64, 128, 256, 512, 1024, 2048]) {
      const ig = right(await attribute(integratedGradients({ nSteps: n, returnConvergenceDelta: true }), mlp, x, { target: 1 })())
      if (Array.from(ig.delta!.data as Float32Array).every((d) => Math.abs(d) <= tol)) {
        uniform = n
        break
      }
    }
    expect(uniform).toBeGreaterThan(0)
    expect(r.converged).toEqual([true, true])
    expect(2 * adaptive).toBeLessThan(uniform)
  })

  it('with no refinement is the uniform trapezoid rule: the mean of left and right Riemann IG', async () => {
    const n = 6
    const r = right(await adaptiveIntegratedGradients(mlp, x, { target: 2, baselines: 0.5 }, { initialSteps: n, maxSteps: n + 1, tolerance: 1e-12, rule: 'trapezoid' })())
    expect(r.passes).toEqual([n + 1, n + 1])
    expect(r.rounds).toBe(1)
    const left = right(await attribute(integratedGradients({ nSteps: n, method: 'riemann_left' }), mlp, x, { target: 2, baselines: 0.5 })())
    const rightIg = right(await attribute(integratedGradients({ nSteps: n, method: 'riemann_right' }), mlp, x, { target: 2, baselines: 0.5 })())
    const l = left.attributions[0]!.data as Float32Array
    const rr = rightIg.attributions[0]!.data as Float32Array
    Array.from(r.attributions[0]!.data).forEach((v, i) => expect(v).toBeCloseTo((l[i]! + rr[i]!) / 2, 5))
  })

  it('with no refinement Simpson panels are the Richardson extrapolation of two trapezoid rules: (4 T(n) − T(n/2)) / 3', async () => {
    const n = 8
    const r = right(await adaptiveIntegratedGradients(mlp, x, { target: 0, baselines: -0.25 }, { initialSteps: n, maxSteps: n + 1, tolerance: 1e-12, rule: 'simpson' })())
    expect(r.passes).toEqual([n + 1, n + 1])
    const trapezoid = async (k: number): Promise<Float32Array> =>
      right(await adaptiveIntegratedGradients(mlp, x, { target: 0, baselines: -0.25 }, { initialSteps: k, maxSteps: k + 1, tolerance: 1e-12, rule: 'trapezoid' })()).attributions[0]!.data as Float32Array
    const fine = await trapezoid(n)
    const coarse = await trapezoid(n / 2)
    Array.from(r.attributions[0]!.data).forEach((v, i) => expect(v).toBeCloseTo((4 * fine[i]! - coarse[i]!) / 3, 5))
  })

  it('Kronrod points and weights: exact for polynomials up to degree 22 (and the Gauss subset up to 13)', () => {
    // ∫₀¹ (2t − 1)^d dt = 1 / (d + 1) for even d, 0 for odd d
    const q = kronrodPoints(0, 1)
    expect(q.alphas).toHaveLength(15)
    const quad = (w: readonly number[], d: number): number => q.alphas.reduce((s, t, i) => s + w[i]! * (2 * t - 1) ** d, 0)
    const exact = (d: number): number => (d % 2 === 0 ? 1 / (d + 1) : 0)
    for (let d = 0; d <= 22; d++) {
      expect(Math.abs(quad(q.wk, d) - exact(d))).toBeLessThan(1e-14)
      if (d <= 13) expect(Math.abs(quad(q.wg, d) - exact(d))).toBeLessThan(1e-14)
    }
    // and not beyond: degree 24 for Kronrod, 14 for Gauss
    expect(Math.abs(quad(q.wk, 24) - exact(24))).toBeGreaterThan(1e-10)
    expect(Math.abs(quad(q.wg, 14) - exact(14))).toBeGreaterThan(1e-6)
    // on [a, b] the weights scale with the panel
    const half = kronrodPoints(0.5, 1)
    expect(half.wk.reduce((x, y) => x + y, 0)).toBeCloseTo(0.5, 14)
    expect(half.alphas.every((t) => t > 0.5 && t < 1)).toBe(true)
  })

  it('one Gauss–Kronrod panel (no refinement) is exact on a network whose path integrand is a polynomial: IG = x³ − x′³ for F = Σ x³', async () => {
    const cube = fromTfjs((xs: tf.Tensor) => tf.tidy(() => tf.sum(tf.pow(xs, 3), 1, true)))
    const input = tf.tensor2d([[1.5, -2, 0.5], [3, 0.25, -1]])
    try {
      const r = right(await adaptiveIntegratedGradients(cube, input, { target: 0, baselines: 0.5 }, { maxSteps: 15, tolerance: 1e-12 })())
      expect(r.passes).toEqual([15, 15])
      expect(r.rounds).toBe(1)
      const xs = [1.5, -2, 0.5, 3, 0.25, -1]
      Array.from(r.attributions[0]!.data).forEach((v, i) => expect(v).toBeCloseTo(xs[i]! ** 3 - 0.125, 4))
    } finally {
      input.dispose()
    }
  })

  it('property: on random ReLU and tanh networks the reported delta is the true one and meets the tolerance when converged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.constantFrom('relu' as const, 'tanh' as const),
        fc.constantFrom('gaussKronrod' as const, 'simpson' as const, 'trapezoid' as const),
        async (w, xs, act, rule) => {
          const model = net(w, 4, act)
          const input = tf.tensor2d(xs, [2, 4])
          try {
            const r = right(await adaptiveIntegratedGradients(model, input, { target: 0 }, { tolerance: 1e-3, initialSteps: rule === 'gaussKronrod' ? 1 : 4, maxSteps: 200, rule })())
            const c = right(await evaluate(completeness('given'), model, input, { target: 0, attributions: r.attributions[0]! })())
            Array.from(c.scores.data).forEach((v, e) => {
              expect(Math.abs(v - Math.abs(r.delta.data[e]!))).toBeLessThan(1e-4)
              if (r.converged[e]) expect(Math.abs(r.delta.data[e]!)).toBeLessThanOrEqual(1e-3)
            })
          } finally {
            input.dispose()
          }
        },
      ),
      { numRuns: 18, seed: 3 },
    )
  })

  it('several inputs, one-row baselines and per-example targets', async () => {
    const two = fromTfjs((a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.stack([tf.sum(tf.relu(tf.mul(a, b)), 1), tf.sum(tf.square(a), 1)], 1)))
    const a = tf.tensor2d([[1, 2], [-1, 0.5]])
    const b = tf.tensor2d([[0.5, -1], [2, 1]])
    const r = right(await adaptiveIntegratedGradients(two, [a, b], { target: [0, 1], baselines: [float32([1, 2], [0, 0]), 0.1] }, { tolerance: 1e-5, maxSteps: 400 })())
    expect(r.attributions.map((t) => t.shape)).toEqual([[2, 2], [2, 2]])
    expect(r.converged).toEqual([true, true])
    // example 1, target 1: F = Σ a², baseline a′ = 0: IG_a = a² exactly, IG_b = 0
    expect(Array.from(r.attributions[0]!.data).slice(2)).toEqual([expect.closeTo(1, 4), expect.closeTo(0.25, 4)])
    expect(Array.from(r.attributions[1]!.data).slice(2)).toEqual([expect.closeTo(0, 6), expect.closeTo(0, 6)])
    a.dispose()
    b.dispose()
  })

  it('bad options and bad calls are typed errors naming the field', async () => {
    const bad = async (o: object, call: object = { target: 1 }, input: unknown = x) => {
      const r = await adaptiveIntegratedGradients(mlp, input as HostTensor, call, o)()
      if (E.isRight(r)) throw new Error('expected an error')
      return r.left
    }
    const e1 = await bad({ initialSteps: 8, maxSteps: 4 })
    expect(e1._tag).toBe('InvalidSpec')
    expect(e1.message).toMatch(/maxSteps/)
    expect((await bad({ refineFraction: 0 }))._tag).toBe('InvalidSpec')
    expect(await bad({ rule: 'simpson', initialSteps: 5 })).toMatchObject({ _tag: 'InvalidSpec', issues: [{ path: ['initialSteps'] }] })
    expect(await bad({ initialSteps: 2, maxSteps: 29 })).toMatchObject({ _tag: 'InvalidSpec', issues: [{ path: ['maxSteps'] }] })
    expect(await bad({ rule: 'midpoint' })).toMatchObject({ _tag: 'InvalidSpec', issues: [{ path: ['rule'] }] })
    expect((await bad({ tolerance: -1 }))._tag).toBe('InvalidSpec')
    expect((await bad({}, { target: 1, baselines: float32([1, 5], [0, 0, 0, 0, 0]) }))._tag).toBe('BadBaseline')
    expect((await bad({}, { target: 7 }))._tag).toBe('BadTarget')
    expect((await bad({ maxSteps: 1e12 }))._tag).toBe('InvalidSpec')
    expect((await bad({}, { target: 1 }, { foo: 1 }))._tag).toBe('InvalidSpec')
    expect((await bad({}, { target: 1 }, { dtype: 'int32', shape: [1, 12], data: new Int32Array(12) }))._tag).toBe('DTypeMismatch')
    const ctl = new AbortController()
    ctl.abort()
    expect((await bad({}, { target: 1, signal: ctl.signal }))._tag).toBe('Cancelled')
  })

  it('leaves no tfjs tensors behind', async () => {
    const model = net(Array.from({ length: 24 }, (_, i) => Math.cos(i)), 4, 'relu')
    const input = tf.tensor2d([[1, -2, 0.5, 3]])
    const before = tf.memory().numTensors
    right(await adaptiveIntegratedGradients(model, input, { target: 0 }, { tolerance: 1e-4 })())
    expect(tf.memory().numTensors).toBe(before)
    input.dispose()
  })
})
