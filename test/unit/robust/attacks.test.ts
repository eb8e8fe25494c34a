// FGSM and PGD: several inputs with extra forward arguments (which are never moved), every kind of
// bad input answered by its typed error and path, and no tfjs tensor left behind, whether the call
// succeeds or fails.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { fgsm, float32, int32, pgd, type AttributionError, type FgsmOptions, type HostTensor, type PgdOptions } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const W = tf.tensor2d([1, -1, 0.5, 2, -0.3, 0.4], [3, 2])
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, W)))
const x = float32([2, 3], [0.1, 0.2, 0.3, -0.4, 0.5, -0.6])

const fgsmError = async (o: FgsmOptions, input: HostTensor | readonly HostTensor[] = x): Promise<AttributionError | undefined> => {
  const r = await fgsm(linear, input, o)()
  return E.isLeft(r) ? r.left : undefined
}
const pgdError = async (o: PgdOptions): Promise<AttributionError | undefined> => {
  const r = await pgd(linear, x, o)()
  return E.isLeft(r) ? r.left : undefined
}

describe('attacks on several inputs', () => {
  it('move each attacked input by its own gradient and leave the extra arguments alone', async () => {
    // logits = [x₁·a + x₂·b + e, 0]: the gradient of CE(label 0) is −(1 − p₀)·a for x₁ and −(1 − p₀)·b for x₂.
    const a = tf.tensor1d([1, -2])
    const b = tf.tensor1d([-0.5, 3])
    const m = fromTfjs((x1: tf.Tensor, x2: tf.Tensor, e: tf.Tensor) =>
      tf.tidy(() => {
        const z0 = tf.add(tf.add(tf.sum(tf.mul(x1, a), 1, true), tf.sum(tf.mul(x2, b), 1, true)), e)
        return tf.concat([z0, tf.zerosLike(z0)], 1)
      }),
    )
    const r = await fgsm(m, [float32([1, 2], [0, 0]), float32([1, 2], [1, 1])], { epsilon: 0.1, target: 0, additionalForwardArgs: float32([1, 1], [0.5]) })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Array.from(r.right.perturbed[0]!.data as Float32Array)).toEqual([-0.1, 0.1].map(Math.fround))
    expect(Array.from(r.right.perturbed[1]!.data as Float32Array)).toEqual([1.1, 0.9].map(Math.fround))
    a.dispose()
    b.dispose()
  })
})

describe('attack errors', () => {
  it('name the bad option or input with a typed error and its path', async () => {
    expect(await fgsmError({ epsilon: -0.1, target: 0 })).toMatchObject({ _tag: 'InvalidSpec', path: ['epsilon'] })
    expect(await fgsmError({ epsilon: 0.1, target: [0, 1, 0] })).toMatchObject({ _tag: 'BadTarget', path: ['target'] })
    expect(await fgsmError({ epsilon: 0.1, target: [0, 2] })).toMatchObject({ _tag: 'BadTarget', path: ['target'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0.5 })).toMatchObject({ _tag: 'InvalidSpec', path: ['target'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0, lowerBound: 1, upperBound: 0 })).toMatchObject({ _tag: 'InvalidSpec', path: ['lowerBound'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0, lowerBound: NaN })).toMatchObject({ _tag: 'InvalidSpec', path: ['lowerBound'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0, mask: float32([1, 2], [1, 0]) })).toMatchObject({ _tag: 'ShapeMismatch', path: ['mask', '0'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0, loss: { _tag: 'hinge' } as never })).toMatchObject({ _tag: 'InvalidSpec' })
    expect(await fgsmError({ epsilon: 0.1, target: 0 }, int32([2, 3], [1, 2, 3, 4, 5, 6]) as HostTensor)).toMatchObject({ _tag: 'DTypeMismatch', path: ['inputs', '0'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0 }, [])).toMatchObject({ _tag: 'EmptyInput' })
    expect(await fgsmError({ epsilon: 0.1, target: 0 }, [x, float32([1, 3], [1, 2, 3])])).toMatchObject({ _tag: 'ShapeMismatch', path: ['inputs', '1'] })
    expect(await fgsmError({ epsilon: 0.1, target: 0 }, { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) })).toMatchObject({ path: ['inputs', '0'] })
    expect(await pgdError({ radius: 0.1, stepSize: 0.1, stepNum: 2, target: 0, norm: 'L3' as 'L2' })).toMatchObject({ _tag: 'InvalidSpec', path: ['norm'] })
    expect(await pgdError({ radius: 0.1, stepSize: 0.1, stepNum: 0, target: 0 })).toMatchObject({ _tag: 'InvalidSpec', path: ['stepNum'] })
    expect(await pgdError({ radius: 0.1, stepSize: 0.1, stepNum: 1e12, target: 0 })).toMatchObject({ _tag: 'InvalidSpec', path: ['stepNum'] })
    expect(await pgdError({ radius: -1, stepSize: 0.1, stepNum: 1, target: 0 })).toMatchObject({ _tag: 'InvalidSpec', path: ['radius'] })
  })

  it("refuses Captum's default loss where it has no gradient (an output of exactly 0)", async () => {
    const zero = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.mul(t, 0)))
    const r = await fgsm(zero, float32([1, 2], [1, 2]), { epsilon: 0.1, target: 0, loss: { _tag: 'negLogOutput' } })()
    expect(E.isLeft(r) && r.left._tag).toBe('NonFinite')
  })

  it('accept a loss given as its output gradient, checked for shape', async () => {
    // d loss / d out = [−1, 1] per row: raise class 0 over class 1, i.e. the negOutput loss on 0 plus the output of 1.
    const custom = (out: HostTensor): HostTensor => float32(out.shape, Array.from({ length: out.data.length }, (_, i) => (i % 2 === 0 ? -1 : 1)))
    const r = await fgsm(linear, x, { epsilon: 0.1, target: 0, loss: custom })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    // ∇x = W · [−1, 1] = [−2, 1.5, 0.7]: untargeted moves along its sign.
    expect(Array.from(r.right.perturbed[0]!.data as Float32Array, (v, i) => Math.sign(v - (x.data as Float32Array)[i]!))).toEqual([-1, 1, 1, -1, 1, 1])
    const bad = await fgsm(linear, x, { epsilon: 0.1, target: 0, loss: () => float32([1], [1]) })()
    expect(E.isLeft(bad) && bad.left._tag).toBe('ShapeMismatch')
  })

  it('compute the loss on a named layer (lossOn): on the logits inside a softmax model they equal the attack on the logits', async () => {
    const W3 = tf.tensor2d([1, -1, 0.2, 0.5, 2, -1.5, -0.3, 0.4, 0.9], [3, 3])
    // The output is softmax(−z): a loss on it pulls the other way than the same loss on z.
    const probs = fromTfjs({ layers: ['z'], fn: (tap, t) => tf.softmax(tf.neg(tap('z', tf.matMul(t as tf.Tensor2D, W3)))) })
    const logits = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.matMul(t as tf.Tensor2D, W3)))
    const viaLayer = await pgd(probs, x, { radius: 0.3, stepSize: 0.1, stepNum: 3, target: [1, 0], lossOn: 'z' })()
    const direct = await pgd(logits, x, { radius: 0.3, stepSize: 0.1, stepNum: 3, target: [1, 0] })()
    if (E.isLeft(viaLayer) || E.isLeft(direct)) throw new Error('attack failed')
    expect(Array.from(viaLayer.right.perturbed[0]!.data as Float32Array)).toEqual(Array.from(direct.right.perturbed[0]!.data as Float32Array))
    // Negative control: the same loss on the output is another attack.
    const onOutput = await pgd(probs, x, { radius: 0.3, stepSize: 0.1, stepNum: 3, target: [1, 0] })()
    if (E.isLeft(onOutput)) throw new Error(onOutput.left.message)
    expect(Array.from(onOutput.right.perturbed[0]!.data as Float32Array)).not.toEqual(Array.from(viaLayer.right.perturbed[0]!.data as Float32Array))
    const missing = await fgsm(probs, x, { epsilon: 0.1, target: 0, lossOn: 'nope' })()
    expect(E.isLeft(missing)).toBe(true)
    W3.dispose()
  })

  it('leave no tfjs tensor behind, on success and on failure', async () => {
    const input = tf.tensor2d([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]])
    const before = tf.memory().numTensors
    await fgsm(linear, input as tf.Tensor, { epsilon: 0.1, target: [0, 1] })()
    await pgd(linear, input as tf.Tensor, { radius: 0.2, stepSize: 0.1, stepNum: 3, target: [0, 1], norm: 'L2', randomStart: true, memoryBudgetBytes: 1 })()
    await fgsm(linear, input as tf.Tensor, { epsilon: 0.1, target: [0, 5] })()
    await pgd(linear, input as tf.Tensor, { radius: 0.2, stepSize: 0.1, stepNum: 3, target: [7, 1] })()
    expect(tf.memory().numTensors).toBe(before)
    input.dispose()
  })
})
