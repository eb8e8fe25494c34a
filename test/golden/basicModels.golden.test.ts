// Captum's own numbers for its toy models (captum-semantics.md §10.4 Fixture D and §11), on tfjs-cpu.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { IntegratedGradients, InputXGradient, Saliency, type QuadratureRule } from '../../src/index.js'
import type { HostTensor } from '../../src/index.js'
import { basicModel2, basicMultiLayer } from '../helpers/basicModels.js'

const expectClose = (t: HostTensor, expected: number[][] | number[], tol = 2e-4): void => {
  const flat = (expected as unknown[]).flat() as number[]
  expect(t.data.length).toBe(flat.length)
  flat.forEach((e, i) => expect(Math.abs(Number(t.data[i]) - e), `element ${i}: ${Number(t.data[i])} vs ${e}`).toBeLessThanOrEqual(tol + 1e-5 * Math.abs(e)))
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('BasicModel_MultiLayer, x = [[20,50,30],[2,10,3]], target 0 (§11)', () => {
  const model = fromTfjs(basicMultiLayer)
  const x = (): tf.Tensor => tf.tensor2d([[20, 50, 30], [2, 10, 3]])

  it('Saliency and InputXGradient', async () => {
    const xs = x()
    const before = tf.memory().numTensors
    expectClose(await new Saliency(model).attribute(xs, { target: 0 }), [[4, 4, 4], [4, 4, 4]])
    expectClose(await new Saliency(model).attribute(xs, { target: 1, abs: false }), [[4, 4, 4], [4, 4, 4]])
    expectClose(await new InputXGradient(model).attribute(xs, { target: 0 }), [[80, 200, 120], [8, 40, 12]])
    expect(tf.memory().numTensors).toBe(before)
    xs.dispose()
  })

  const rows: [QuadratureRule, number[][], number[]][] = [
    ['riemann_left', [[76.00001, 190.00002, 114.00002], [6.6, 33.0, 9.9]], [-9.99994, -0.5]],
    ['riemann_right', [[78.00001, 195.00002, 117.00001], [6.8, 34.0, 10.2]], [3e-5, 1.0]],
    ['riemann_middle', [[78.00001, 195.00002, 117.00001], [6.6, 33.0, 9.9]], [3e-5, -0.5]],
    ['riemann_trapezoid', [[71.00001, 177.50002, 106.50002], [5.9, 29.5, 8.85]], [-34.99994, -5.75]],
    ['gausslegendre', [[77.83878, 194.59694, 116.75817], [6.70448, 33.52238, 10.05671]], [-0.80609, 0.28357]],
  ]
  it.each(rows)('IntegratedGradients n_steps=10 %s', async (method, attr, delta) => {
    const xs = x()
    const before = tf.memory().numTensors
    const [a, d] = await new IntegratedGradients(model).attribute(xs, { target: 0, nSteps: 10, method, returnConvergenceDelta: true })
    expectClose(a, attr)
    expectClose(d, delta)
    expect(tf.memory().numTensors).toBe(before)
    xs.dispose()
  })

  it('IG defaults (Gauss–Legendre, 50 steps), with and without chunking, and not multiplied', async () => {
    const xs = x()
    const ig = new IntegratedGradients(model)
    const expected = [[78.03587, 195.08969, 117.05381], [6.69391, 33.46954, 10.04086]]
    const [a, d] = await ig.attribute(xs, { target: 0, returnConvergenceDelta: true })
    expectClose(a, expected)
    expectClose(d, [0.17935, 0.20431])
    expectClose(await ig.attribute(xs, { target: 0, internalBatchSize: 4 }), expected)
    expectClose(await new IntegratedGradients(model, { multiplyByInputs: false }).attribute(xs, { target: 0 }), [[3.90179, 3.90179, 3.90179], [3.34695, 3.34695, 3.34695]])
    xs.dispose()
  })

  it('IG riemann_middle 20, baselines [[1,1,1]], per-example targets [0, 1]', async () => {
    const xs = x()
    const b = tf.tensor2d([[1, 1, 1]])
    const [a, d] = await new IntegratedGradients(model).attribute(xs, { target: [0, 1], baselines: b, nSteps: 20, method: 'riemann_middle', returnConvergenceDelta: true })
    expectClose(a, [[75.05, 193.55002, 114.55001], [3.4, 30.6, 6.8]])
    expectClose(d, [2.15005, -0.2])
    xs.dispose()
    b.dispose()
  })

  it.each([
    ['riemann_left', [75, 187.5, 112.5], -15],
    ['riemann_right', [80, 200, 120], 10],
    ['riemann_middle', [80, 200, 120], 10],
    ['riemann_trapezoid', [57.5, 143.75, 86.25], -102.5],
    ['gausslegendre', [76.52145, 191.30364, 114.78218], -7.39276],
  ] as [QuadratureRule, number[], number][])('IG n_steps=4 %s on x = [[20,50,30]]', async (method, attr, delta) => {
    const xs = tf.tensor2d([[20, 50, 30]])
    const [a, d] = await new IntegratedGradients(model).attribute(xs, { target: 0, nSteps: 4, method, returnConvergenceDelta: true })
    expectClose(a, [attr])
    expectClose(d, [delta])
    xs.dispose()
  })
})

describe('BasicModel2, inputs ([3.0], [1.0]) (Fixture D)', () => {
  it('IG riemann_right 500 steps gives ([1.5], [−0.5]) with a tiny delta', async () => {
    const model = fromTfjs(basicModel2)
    const x1 = tf.tensor2d([[3]])
    const x2 = tf.tensor2d([[1]])
    const [[a1, a2], d] = await new IntegratedGradients(model).attribute([x1, x2], { nSteps: 500, method: 'riemann_right', returnConvergenceDelta: true })
    expectClose(a1!, [[1.5]], 1e-3)
    expectClose(a2!, [[-0.5]], 1e-3)
    expect(Math.abs(Number(d.data[0]))).toBeLessThan(1e-4)
    x1.dispose()
    x2.dispose()
  })
})
