import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { buildTfjsReferenceModel } from '../../../src/conformance/tfjsModels.js'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import type { Model } from '../../../src/core/backend.js'
import { int64, type HostTensor } from '../../../src/core/tensor.js'
import { scoreTargets } from '../../../src/llm/causalLm.js'

// tinylm (../shared/reference): input_ids → logits [batch, seq, 102], 32 learned positions
const load = async (): Promise<Model<HostTensor>> => {
  const m = await fromOnnx('../shared/reference/models/tinylm.onnx')
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}
const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

describe("the ONNX backend's next-token scoring head", () => {
  it('gives log softmax(logits[p])[ids[p + 1]] at every position but the last', async () => {
    const model = await load()
    try {
      const ids = [1, 10, 20, 30, 40, 50]
      const lp = right(await model.nextTokenLogProbs!([int64([1, 6], ids)])())
      const logits = right(await model.forward([int64([1, 6], ids)])()).output
      expect(lp.shape).toEqual([1, 6])
      const V = logits.shape[2]!
      const d = logits.data as Float32Array
      for (let p = 0; p < 5; p++) {
        let m = -Infinity
        for (let v = 0; v < V; v++) m = Math.max(m, d[p * V + v]!)
        let s = 0
        for (let v = 0; v < V; v++) s += Math.exp(d[p * V + v]! - m)
        expect(Math.abs(Number(lp.data[p]) - (d[p * V + ids[p + 1]!]! - m - Math.log(s)))).toBeLessThan(1e-5)
      }
    } finally {
      await model.dispose()
    }
  })

  it('scores targets as the host log-softmax of the logits does, in both modes, also when a row needs one position more than the model has', async () => {
    const model = await load()
    const plain: Model<HostTensor> = { ...model, nextTokenLogProbs: undefined }
    try {
      const prompts = [[1, 7, 8, 9], [1, 11, 12], Array.from({ length: 32 }, (_, i) => 4 + (i % 90))]   // the last fills all 32 positions
      for (const forwardInTokens of [true, false]) {
        const target = forwardInTokens ? [5, 6, 7] : [5]
        const fast = { calls: 0, rows: 0 }
        const a = right(await scoreTargets(model, prompts.slice(0, 2), target, { forwardInTokens }, fast))
        const b = right(await scoreTargets(plain, prompts.slice(0, 2), target, { forwardInTokens }))
        a.forEach((row, i) => row.forEach((v, t) => expect(Math.abs(v - b[i]![t]!)).toBeLessThan(1e-5)))
        expect(fast.calls).toBeGreaterThan(0)
      }
      // 32 + 1 − 1 = 32 positions fit; the head would need 33, so scoring falls back to the logits
      const full = right(await scoreTargets(model, [prompts[2]!], [5], { forwardInTokens: false }))
      const ref = right(await scoreTargets(plain, [prompts[2]!], [5], { forwardInTokens: false }))
      expect(Math.abs(full[0]![0]! - ref[0]![0]!)).toBeLessThan(1e-5)
      expect(full[0]![0]).toBeLessThan(0) // a real log-probability, not the untouched 0
    } finally {
      await model.dispose()
    }
  })
})

describe("the tfjs backend's next-token scoring head", () => {
  it('scores as the host log-softmax of the logits does, and leaves no tensor behind', async () => {
    await tf.setBackend('cpu')
    const built = right(buildTfjsReferenceModel(JSON.parse(readFileSync('../shared/reference/models/tinylm.weights.json', 'utf8'))))
    const model = fromTfjs(built.fn)
    const plain: Model<tf.Tensor> = { ...model, nextTokenLogProbs: undefined }
    try {
      expect(model.nextTokenLogProbs).toBeDefined()
      const prompts = [[1, 7, 8, 9], [1, 11, 12]]
      const before = tf.memory().numTensors
      const n = { calls: 0, rows: 0 }
      const a = right(await scoreTargets(model, prompts, [5, 6, 7], { forwardInTokens: false }, n))
      expect(tf.memory().numTensors).toBe(before)
      const b = right(await scoreTargets(plain, prompts, [5, 6, 7], { forwardInTokens: false }))
      a.forEach((row, i) => row.forEach((v, t) => expect(Math.abs(v - b[i]![t]!)).toBeLessThan(1e-5)))
      expect(n.calls).toBe(2) // two prompt lengths
      // a model that is not a causal LM: the head says what a causal LM must return
      const bad = await fromTfjs((x: tf.Tensor) => tf.sum(tf.cast(x, 'float32'), -1)).nextTokenLogProbs!([tf.tensor2d([[1, 2]], [1, 2], 'int32')])()
      expect(E.isLeft(bad) && bad.left.message).toMatch(/logits \[batch, seq, vocab\]/)
    } finally {
      built.dispose()
    }
  })
})
