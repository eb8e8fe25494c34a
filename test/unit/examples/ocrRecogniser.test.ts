import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { evalTargetExpr, float32, targetExprSeed, type HostTensor, type Model } from '../../../src/index.js'
import { charLogProbs, charTarget, demoLine, greedyDecode, loadRecogniser, loadVocabulary, recInput } from '../../../examples/recogniser.js'

/** log p(class c at step t) computed directly from logits [1, T, C] (the oracle). */
const logProb = (logits: HostTensor, t: number, c: number): number => {
  const C = logits.shape[2]!
  const row = Array.from((logits.data as Float32Array).subarray(t * C, (t + 1) * C))
  const max = Math.max(...row)
  return row[c]! - max - Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0))
}

/** Logits [1, T, C] whose argmax per step is `best` (the winner gets 5, the rest 0..1). */
const logitsWith = (best: readonly number[], C: number): HostTensor => {
  const d = new Float32Array(best.length * C)
  best.forEach((b, t) => {
    for (let c = 0; c < C; c++) d[t * C + c] = ((t * 7 + c * 3) % 5) / 5
    d[t * C + b] = 5
  })
  return float32([1, best.length, C], d)
}

describe('greedy CTC decoding and the per-character target', () => {
  const vocab = ['<blank>', 'a', 'b', ' ']

  it('merges runs, drops blanks, and keeps a repeated letter separated by a blank', () => {
    const r = greedyDecode(logitsWith([0, 1, 1, 0, 1, 2, 2, 3, 0], 4), vocab)
    expect(r.text).toBe('aab ')
    expect(r.chars.map((c) => c.steps)).toEqual([[1, 2], [4], [5, 6], [7]])
    expect(r.chars.map((c) => c.classId)).toEqual([1, 1, 2, 3])
    // negative control: without the blank between them the two a's are one character
    expect(greedyDecode(logitsWith([1, 1, 1, 2], 4), vocab).text).toBe('ab')
  })

  it('the target sums log p(character) over exactly its steps (expression and host function agree)', () => {
    const logits = logitsWith([0, 1, 1, 0, 2, 0], 4)
    const chars = greedyDecode(logits, vocab).chars
    chars.forEach((c, k) => {
      const want = c.steps.reduce((s, t) => s + logProb(logits, t, c.classId), 0)
      const got = evalTargetExpr(charTarget(c), logits)
      if (E.isLeft(got)) throw new Error(got.left.message)
      expect(got.right.data[0]).toBeCloseTo(want, 5)
      expect(charLogProbs(chars)(logits).data[k]).toBeCloseTo(want, 5)
      // the gradient seed lives only on the character's steps
      const seed = targetExprSeed(charTarget(c), logits)
      if (E.isLeft(seed)) throw new Error(seed.left.message)
      const live = [0, 1, 2, 3, 4, 5].filter((t) => Array.from(seed.right.seed.data.subarray(t * 4, t * 4 + 4)).some((v) => v !== 0))
      expect(live).toEqual(c.steps)
    })
  })
})

describe('the PP-OCRv4 recogniser on the committed text line', () => {
  let model: Model<HostTensor>
  let logits: HostTensor
  beforeAll(async () => {
    model = await loadRecogniser()
    const out = await model.forward([recInput(demoLine())])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    logits = out.right.output
  })
  afterAll(async () => {
    await model.dispose()
  })

  it('reads "Integrated Gradients", the doubled t of "Integrated" over two steps', () => {
    expect(logits.shape).toEqual([1, 41, 6625])
    const r = greedyDecode(logits, loadVocabulary())
    expect(r.text).toBe('Integrated Gradients')
    const t = r.chars[2]!
    expect(t.char).toBe('t')
    expect(t.steps.length).toBe(1)
    const t2 = r.chars[7]!
    expect(t2.char).toBe('t')
    expect(t2.steps.length).toBe(2)
    // each emitted character is the argmax at each of its steps
    for (const c of r.chars) for (const s of c.steps) expect(r.best[s]).toBe(c.classId)
    const want = t2.steps.reduce((s, step) => s + logProb(logits, step, t2.classId), 0)
    const got = evalTargetExpr(charTarget(t2), logits)
    if (E.isLeft(got)) throw new Error(got.left.message)
    expect(got.right.data[0]).toBeCloseTo(want, 4)
  })
})
