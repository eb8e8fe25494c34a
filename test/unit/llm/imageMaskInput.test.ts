// ImageMaskInput: overlapping regions, segmentation maps, and LLM attribution of a multimodal
// "LM" (a function of input_ids and pixel_values) against log-prob differences computed by hand.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/fromFunction.js'
import { float32, int32, type HostTensor } from '../../../src/core/tensor.js'
import { imageMaskInput } from '../../../src/llm/imageMaskInput.js'
import { llmAttributionWithInfo } from '../../../src/llm/llmAttribution.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'

const tok = await (async () => {
  const r = await loadTokenizerFile('../shared/reference/models/tinylm.tokenizer.json')
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
})()
const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

// a 2×3 RGB image with distinct values, and three overlapping masks
const image = float32([2, 3, 3], Array.from({ length: 18 }, (_, i) => i * 10))
const mask = (bits: number[]): HostTensor => int32([2, 3], bits)
const masks = [mask([1, 1, 0, 0, 0, 0]), mask([0, 1, 1, 0, 0, 0]), mask([0, 0, 0, 1, 1, 1])]
const toPixels = (img: HostTensor<'float32'>) => ({ pixel_values: { ...img, shape: [1, ...img.shape] } })

describe('imageMaskInput', () => {
  it('an absent region takes the baseline colour; a pixel under two regions goes if either is absent', () => {
    const inp = right(imageMaskInput('describe the picture', image, toPixels, { masks, baselines: [1, 2, 3] }))
    expect(inp.nFeatures).toBe(3)
    const img = inp.toImage([1, 0, 1])
    // pixel 1 (in masks 0 and 1) and pixel 2 (mask 1) become the baseline; pixel 0 (mask 0 only) stays
    expect(Array.from(img.data.slice(0, 9))).toEqual([0, 10, 20, 1, 2, 3, 1, 2, 3])
    expect(Array.from(inp.toImage([1, 1, 1]).data)).toEqual(Array.from(image.data))
    expect(inp.toIds([0, 0, 0], tok)).toEqual(tok.encode('describe the picture'))
  })

  it('a segmentation map gives one feature per id, in ascending order', () => {
    const seg = int32([2, 3], [7, 7, 2, 2, 9, 9])
    const inp = right(imageMaskInput('x', image, toPixels, { segmentation: seg, baselines: 0 }))
    expect(inp.labels).toEqual(['segment 2', 'segment 7', 'segment 9'])
    expect(Array.from(inp.toImage([0, 1, 1]).data.slice(6, 12))).toEqual([0, 0, 0, 0, 0, 0])
  })

  it('errors: both or neither region form, a mask of the wrong size, baselines per channel', () => {
    expect(E.isLeft(imageMaskInput('x', image, toPixels, {}))).toBe(true)
    const wrong = imageMaskInput('x', image, toPixels, { masks: [int32([3, 2], [1, 0, 0, 0, 0, 0])] })
    expect(E.isLeft(wrong) && wrong.left.message).toMatch(/must be \[2, 3\]/)
    expect(E.isLeft(imageMaskInput('x', image, toPixels, { masks, baselines: [1, 2] }))).toBe(true)
  })

  it('LLM attribution over image regions equals the log-prob differences computed by hand', async () => {
    const VOCAB = 102
    // logits at position p: a function of the tokens up to p and of the mean pixel value
    const logitsAt = (ids: readonly number[], p: number, mean: number, v: number): number =>
      Math.sin(v * 1.7 + mean * 0.05) * 2 + ids.slice(0, p + 1).reduce((s, id, j) => s + Math.cos(id * 0.3 + v * 0.11 + j), 0) * 0.5
    const model = fromFunction(
      ([ids, px]) => {
        const [n, len] = ids!.shape as [number, number]
        const per = px!.data.length / n
        const out = new Float32Array(n * len * VOCAB)
        for (let r = 0; r < n; r++) {
          const row = Array.from({ length: len }, (_, j) => Number(ids!.data[r * len + j]))
          let mean = 0
          for (let k = 0; k < per; k++) mean += Number(px!.data[r * per + k]) / per
          for (let p = 0; p < len; p++) for (let v = 0; v < VOCAB; v++) out[(r * len + p) * VOCAB + v] = logitsAt(row, p, mean, v)
        }
        return float32([n, len, VOCAB], out)
      },
      {
        inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] }, { name: 'pixel_values', dtype: 'float32', shape: ['batch', 2, 3, 3] }],
        outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 'seq', VOCAB] }],
      },
    )
    const inp = right(imageMaskInput('the picture shows', image, toPixels, { masks }))
    const r = right(await llmAttributionWithInfo(model, tok, 'FeatureAblation', inp, { target: 'a red apple', skipTokens: ['<bos>'], forwardInTokens: false })())
    const target = tok.encode('a red apple', { addSpecialTokens: false })
    // the oracle: token-by-token log-softmax of logitsAt, in float64, on the hand-masked image
    const totalFor = (present: number[]): number => {
      const img = inp.toImage(present).data
      const mean = img.reduce((a, b) => a + b, 0) / img.length
      const prompt = tok.encode('the picture shows')
      return target.reduce((s, id, t) => {
        const seq = [...prompt, ...target.slice(0, t)]
        const l = Array.from({ length: VOCAB }, (_, v) => Math.fround(logitsAt(seq, seq.length - 1, mean, v)))
        const max = Math.max(...l)
        return s + l[id]! - max - Math.log(l.reduce((a, x) => a + Math.exp(x - max), 0))
      }, 0)
    }
    const full = totalFor([1, 1, 1])
    for (let f = 0; f < 3; f++) {
      const present = [1, 1, 1]
      present[f] = 0
      expect(r.result.seqAttr.data[f]).toBeCloseTo(full - totalFor(present), 4)
    }
    // the three ablated images have the same shape and prompt length: one call, plus the unperturbed one
    expect(r.info.passes.calls).toBe(2)
    expect(r.result.inputTokens).toEqual(['mask 0', 'mask 1', 'mask 2'])
  })
})
