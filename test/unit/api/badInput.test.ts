// Every typed error a user can trigger through the Captum-style API, with a message they can act on.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { ClarusError, IntegratedGradients, InputXGradient, Saliency, float32, int64, type ErrorTag } from '../../../src/index.js'
import { basicMultiLayer } from '../../helpers/basicModels.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const rejectsWith = async (p: Promise<unknown>, tag: ErrorTag, message: RegExp): Promise<void> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ClarusError)
  const ce = e as ClarusError
  expect(ce.error._tag).toBe(tag)
  expect(ce.error.message).toMatch(message)
}

describe('bad input gives typed errors', () => {
  const model = fromTfjs(basicMultiLayer)
  const x = float32([2, 3], [20, 50, 30, 2, 10, 3])

  it('inputs that disagree on the number of examples', async () => {
    const two = fromTfjs((a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.add(basicMultiLayer(a), tf.sum(b))))
    await rejectsWith(new Saliency(two).attribute([x, float32([3, 1], [1, 2, 3])], { target: 0 }), 'ShapeMismatch', /input 0 has 2, input 1 has 3/)
  })

  it('a target out of range, a per-example list of the wrong length, a missing target', async () => {
    await rejectsWith(new Saliency(model).attribute(x, { target: 5 }), 'BadTarget', /out of range .* size 2/)
    await rejectsWith(new Saliency(model).attribute(x, { target: [0, 1, 0] }), 'BadTarget', /one entry per example/)
    await rejectsWith(new Saliency(model).attribute(x), 'BadTarget', /pass a target/)
  })

  it('a malformed target or option is an InvalidSpec naming the field', async () => {
    await rejectsWith(new Saliency(model).attribute(x, { target: 'cat' as unknown as number }), 'InvalidSpec', /target/)
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, nSteps: 0 }), 'InvalidSpec', /nSteps/)
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, method: 'simpson' as 'gausslegendre' }), 'InvalidSpec', /method/)
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, nSteps: 1, method: 'riemann_left' }), 'InvalidSpec', /nSteps ≥ 2/)
  })

  it('baselines of the wrong shape or count', async () => {
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, baselines: float32([2, 2], [0, 0, 0, 0]) }), 'BadBaseline', /shape \[2, 2\]/)
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, baselines: [0, 1] }), 'BadBaseline', /2 baselines for 1 inputs/)
    await rejectsWith(new IntegratedGradients(model).attribute(x, { target: 0, baselines: Number.NaN }), 'BadBaseline', /finite/)
  })

  it('integer inputs to a gradient method', async () => {
    await rejectsWith(new InputXGradient(model).attribute(int64([2, 3], [1, 2, 3, 4, 5, 6]), { target: 0 }), 'DTypeMismatch', /float32.*LayerIntegratedGradients/)
  })

  it('empty and scalar inputs', async () => {
    await rejectsWith(new Saliency(model).attribute(float32([0, 3], []), { target: 0 }), 'EmptyInput', /no examples/)
    await rejectsWith(new Saliency(model).attribute(float32([], [1]), { target: 0 }), 'ShapeMismatch', /batch dimension/)
    await rejectsWith(new Saliency(model).attribute([], { target: 0 }), 'EmptyInput', /no inputs/)
  })

  it('NaN in the model output', async () => {
    const nan = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.div(basicMultiLayer(t), tf.scalar(0))))
    await rejectsWith(new Saliency(nan).attribute(float32([1, 3], [0, 0, 0]), { target: 0 }), 'NonFinite', /NaN|Inf/)
  })

  it('leaks nothing when it fails', async () => {
    const before = tf.memory().numTensors
    await new Saliency(model).attribute(tf.tensor2d([[1, 2, 3]]), { target: 9 }).catch(() => undefined)
    expect(tf.memory().numTensors).toBe(before + 1) // only the caller's own input tensor
  })
})
