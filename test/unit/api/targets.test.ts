// Targets beyond Captum's: a mask (weighted sum of outputs) on any backend, and a reducer
// function on tfjs. Both must agree with the equivalent index targets.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { ClarusError, IntegratedGradients, Saliency, float32, type HostTensor } from '../../../src/index.js'
import { basicMultiLayer } from '../../helpers/basicModels.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const close = (a: HostTensor, b: HostTensor, tol = 1e-5): void =>
  Array.from(a.data as Float32Array).forEach((v, i) => expect(Math.abs(v - Number(b.data[i]))).toBeLessThan(tol * (1 + Math.abs(v))))

describe('targets', () => {
  it('onnx: a mask target is the same linear combination of index targets', async () => {
    const m = await fromOnnx(fileURLToPath(new URL('../../../../shared/reference/models/mlp.onnx', import.meta.url)))
    if (E.isLeft(m)) throw new Error(m.left.message)
    const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i)))
    const ig = new IntegratedGradients(m.right)
    const a0 = await ig.attribute(x, { target: 0, nSteps: 16 })
    const a2 = await ig.attribute(x, { target: 2, nSteps: 16 })
    const mixed = await ig.attribute(x, { target: { mask: float32([3], [0.5, 0, -2]) }, nSteps: 16 })
    close(mixed, float32([2, 12], Array.from(a0.data as Float32Array, (v, i) => 0.5 * v - 2 * Number(a2.data[i]))))
    // a per-example mask picks a different class for each example
    const perExample = await ig.attribute(x, { target: { mask: float32([2, 3], [1, 0, 0, 0, 0, 1]) }, nSteps: 16 })
    close(perExample, await ig.attribute(x, { target: [0, 2], nSteps: 16 }))
    // function targets need a backend that differentiates JS: a typed error says so
    const e = await new Saliency(m.right).attribute(x, { target: () => x }).catch((u: unknown) => u)
    expect((e as ClarusError).error._tag).toBe('Unsupported')
    await m.right.dispose()
  })

  it('tfjs: a reducer function target, e.g. a log-probability, explains that scalar', async () => {
    const model = fromTfjs(basicMultiLayer)
    const x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]])
    const before = tf.memory().numTensors
    const viaFn = await new Saliency(model).attribute(x, { target: (y: tf.Tensor) => tf.slice(y, [0, 1], [-1, 1]).reshape([-1]), abs: false })
    close(viaFn, await new Saliency(model).attribute(x, { target: 1, abs: false }))
    const logSoftmax = (y: tf.Tensor): tf.Tensor => tf.logSoftmax(y).slice([0, 0], [-1, 1]).reshape([-1])
    const [a, d] = await new IntegratedGradients(model).attribute(x, { target: logSoftmax, nSteps: 64, returnConvergenceDelta: true })
    expect(a.shape).toEqual([2, 3])
    Array.from(d.data as Float32Array).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-3))
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })
})
