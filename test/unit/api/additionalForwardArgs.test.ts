// Additional forward arguments are passed after the inputs, never attributed, and expanded with the
// rows exactly like the inputs (Captum tiles them for IG's steps), on both backends and any chunking.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { ElemType, toProto, attr } from '../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../src/backends/onnx/graph/proto.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { IntegratedGradients, float32, type HostTensor } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// f(x, a) = Σ_j x_j² · a_j per example: IG from 0 is exactly x² ⊙ a (the path integral of 2αx·a·x).
const x = float32([3, 4], [1, 2, 3, 4, -1, 0.5, 2, 1, 0, 1, -2, 3])
const a = float32([3, 4], [1, 0, 2, 1, 3, 1, 0.5, 2, -1, 1, 1, 0.25])
const expected = Array.from(x.data, (v, i) => v * v * (a.data[i] as number))

const check = (r: HostTensor): void => {
  expect(r.shape).toEqual([3, 4])
  Array.from(r.data as Float32Array).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(expected[i]!))))
}

describe('additionalForwardArgs', () => {
  it('tfjs: expanded with the rows, for every chunking', async () => {
    const model = fromTfjs((xs: tf.Tensor, as: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(tf.square(xs), as), 1, true)))
    for (const internalBatchSize of [undefined, 3, 7, 1000]) {
      check(await new IntegratedGradients(model).attribute(x, { target: 0, nSteps: 8, method: 'gausslegendre', additionalForwardArgs: a, ...(internalBatchSize ? { internalBatchSize } : {}) }))
    }
  })

  it('onnx: the second graph input receives the argument', async () => {
    const f = (name: string, shape: (number | string)[]) => ({ name, elemType: ElemType.FLOAT, shape })
    const bytes = encodeModel(toProto({
      name: 'xxa',
      nodes: [
        { name: 'sq', opType: 'Mul', domain: '', inputs: ['x', 'x'], outputs: ['x2'], attributes: [] },
        { name: 'm', opType: 'Mul', domain: '', inputs: ['x2', 'a'], outputs: ['p'], attributes: [] },
        { name: 'r', opType: 'ReduceSum', domain: '', inputs: ['p', 'axes'], outputs: ['y'], attributes: [attr.int('keepdims', 1)] },
      ],
      inputs: [f('x', ['batch', 4]), f('a', ['batch', 4])],
      outputs: [f('y', ['batch', 1])],
      initializers: new Map([['axes', { name: 'axes', dims: [1], dataType: ElemType.INT64, int64Data: ['1'] }]]),
      valueInfo: [],
      opsetImports: [{ domain: '', version: 17 }],
      irVersion: 8,
      modelExtras: {},
    }))
    const m = await fromOnnx(bytes)
    if (E.isLeft(m)) throw new Error(m.left.message)
    for (const internalBatchSize of [undefined, 3, 7]) {
      check(await new IntegratedGradients(m.right).attribute(x, { target: 0, nSteps: 8, method: 'gausslegendre', additionalForwardArgs: a, ...(internalBatchSize ? { internalBatchSize } : {}) }))
    }
    await m.right.dispose()
  })
})
