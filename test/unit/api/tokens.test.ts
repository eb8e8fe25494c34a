// attributeTokens on the reference transformer text classifier (textcls: Embedding(500, 32) → 2
// encoder layers → mean → Linear). Its per-token scores must be Captum's LayerIntegratedGradients
// fixture summed over the embedding dimension, and complete up to the reported delta.
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { loadCase } from '../../../src/conformance/files.js'
import { attributeTokens, ClarusError, int32, int64, type HostTensor, type Model } from '../../../src/index.js'
import { REFERENCE_DIR, right } from '../../helpers/reference.js'

let model: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/textcls.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  model = m.right
})
afterAll(async () => model.dispose())

const EMB = '/embedding/Gather_output_0'

const fixture = () => {
  const id = 'textcls.layerig.embedding.gausslegendre20.internal_batch16.t0'
  return right(loadCase(REFERENCE_DIR, { file: `cases/textcls/${id}.json` }))
}

const logits = async (ids: HostTensor): Promise<Float32Array> => {
  const r = await model.forward([model.backend.fromHost(ids)])()
  if (E.isLeft(r)) throw new Error(r.left.message)
  const h = await model.backend.toHost(r.right.output)
  model.backend.dispose(r.right.output)
  return h.data as Float32Array
}

describe('attributeTokens on textcls', () => {
  it("equals Captum's LayerIntegratedGradients at the embedding, summed over the embedding dimension", async () => {
    const c = fixture()
    const ids = c.inputs[0]!
    const got = await attributeTokens(model, ids, { layer: EMB, target: 0, nSteps: 20, internalBatchSize: 16 })
    const want = c.expected.attributions[0]!
    const [n, len, d] = want.shape as [number, number, number]
    expect(got).toHaveLength(n)
    for (let e = 0; e < n; e++) {
      expect(got[e]!.tokens).toHaveLength(len)
      for (let i = 0; i < len; i++) {
        let s = 0
        for (let k = 0; k < d; k++) s += (want.data as Float32Array)[(e * len + i) * d + k]!
        expect(Math.abs(got[e]!.scores[i]! - s)).toBeLessThan(1e-5)
      }
      expect(Math.abs(got[e]!.delta - Number(c.expected.convergenceDelta!.data[e]))).toBeLessThan(1e-5)
    }
    expect(got.layerAttribution.shape).toEqual([n, len, d])
  })

  it('is complete: Σ scores = F(ids) − F(reference) + delta, with the kept tokens in the reference', async () => {
    const pad = new Array<number>(10).fill(0)
    const ids = int64([1, 16], [1, 147, 212, 50, 366, 2, ...pad])
    const got = await attributeTokens(model, ids, { layer: EMB, target: 1, keepTokens: [1, 2], baselineToken: 0, vocabulary: ['<pad>', '<bos>', '<eos>'] })
    const fx = await logits(ids)
    const fb = await logits(int64([1, 16], [1, 0, 0, 0, 0, 2, ...pad]))
    const sum = got[0]!.scores.reduce((a, b) => a + b, 0)
    expect(Math.abs(sum - (fx[1]! - fb[1]!) - got[0]!.delta)).toBeLessThan(1e-5)
    // Tokens kept in the reference have the same embedding at both ends of the path: no credit.
    expect(got[0]!.scores[0]).toBe(0)
    expect(got[0]!.scores[5]).toBe(0)
    expect(got[0]!.tokens.slice(0, 7)).toEqual(['<bos>', '#147', '#212', '#50', '#366', '<eos>', '<pad>'])
  })

  it('takes int32 ids too', async () => {
    const seq = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
    const a = await attributeTokens(model, int32([1, 16], seq), { layer: EMB, target: 0, nSteps: 8 })
    const b = await attributeTokens(model, int64([1, 16], seq), { layer: EMB, target: 0, nSteps: 8 })
    a[0]!.scores.forEach((s, i) => expect(Math.abs(s - b[0]!.scores[i]!)).toBeLessThan(1e-6))
  })

  it('rejects float ids, a layer that is not per token, and bad options with typed errors', async () => {
    const tag = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p
        return 'no error'
      } catch (e) {
        return e instanceof ClarusError ? e.error._tag : String(e)
      }
    }
    expect(await tag(attributeTokens(model, { dtype: 'float32', shape: [1, 2], data: new Float32Array(2) }, { layer: EMB, target: 0 }))).toBe('ShapeMismatch')
    expect(await tag(attributeTokens(model, int64([1, 16], new Array(16).fill(3)), { layer: '/ReduceMean_output_0', target: 0, nSteps: 4 }))).toBe('ShapeMismatch')
    expect(await tag(attributeTokens(model, int64([1, 16], new Array(16).fill(4)), { layer: EMB, target: 0, baselineToken: 0.5 }))).toBe('InvalidSpec')
    expect(await tag(attributeTokens(model, int64([1, 16], new Array(16).fill(4)), { layer: 'no such tensor', target: 0 }))).not.toBe('no error')
  })
})
