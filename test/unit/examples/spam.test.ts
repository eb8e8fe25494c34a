// The spam example (examples/spam.ts, examples/explain-spam.ts) against what scripts/train-spam.py
// recorded in examples/assets/spam/messages.json: the TypeScript tokenizer gives Python's tokens and
// ids, ONNX Runtime gives PyTorch's logits, and the token scores of attributeTokens add up to
// F(message) − F(all padding) within the reported convergence delta.
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { attributeTokens } from '../../../src/api/tokens.js'
import { EMBEDDING, PAD, SEQ_LEN, UNK, encode, encodeBatch, loadMessages, loadModel, loadVocabulary, spamProbabilities, tokenize } from '../../../examples/spam.js'

const vocab = loadVocabulary()
const messages = loadMessages()
const model = await loadModel()
afterAll(async () => {
  await model.dispose()
})

const logitsOf = async (texts: readonly string[]): Promise<number[]> => {
  const out = await model.forward([model.backend.fromHost(encodeBatch(vocab, texts))])()
  if (E.isLeft(out)) throw new Error(out.left.message)
  return Array.from(out.right.output.data as Float32Array)
}

describe('spam example: tokenizer', () => {
  it('splits on anything but ASCII letters and digits, keeps $ and ! as tokens, lower-cases', () => {
    expect(tokenize("Don't PAY $5,000 now!!  café")).toEqual(['don', 't', 'pay', '$', '5', '000', 'now', '!', '!', 'caf'])
    expect(encode(vocab, 'free zzqxjv')).toEqual([vocab.ids.get('free'), UNK, ...new Array<number>(SEQ_LEN - 2).fill(PAD)])
  })

  it('gives the tokens and ids the Python training script recorded for every committed message', () => {
    expect(messages.length).toBeGreaterThanOrEqual(4)
    for (const m of messages) {
      expect(tokenize(m.text).slice(0, SEQ_LEN)).toEqual(m.tokens)
      expect(encode(vocab, m.text)).toEqual(m.ids)
    }
  })
})

describe('spam example: model and token attributions', () => {
  it('ONNX Runtime reproduces the logits and P(spam) PyTorch recorded', async () => {
    const logits = await logitsOf(messages.map((m) => m.text))
    const p = spamProbabilities(logits)
    messages.forEach((m, i) => {
      expect(logits[2 * i]).toBeCloseTo(m.logits[0]!, 3)
      expect(logits[2 * i + 1]).toBeCloseTo(m.logits[1]!, 3)
      expect(p[i]).toBeCloseTo(m.pSpam, 4)
      expect(p[i]! >= 0.5 ? 'spam' : 'ham').toBe(m.label)
    })
  })

  it('token scores add up to F(message) − F(padding) within the convergence delta', async () => {
    const texts = messages.map((m) => m.text)
    const target = messages.map((m) => (m.label === 'spam' ? 1 : 0))
    const [logits, reference] = await Promise.all([logitsOf(texts), logitsOf(texts.map(() => ''))])
    const explained = await attributeTokens(model, encodeBatch(vocab, texts), { layer: EMBEDDING, target, baselineToken: PAD, nSteps: 32 })
    explained.forEach((ex, i) => {
      const gap = logits[2 * i + target[i]!]! - reference[2 * i + target[i]!]!
      const total = ex.scores.reduce((a, b) => a + b, 0)
      expect(Math.abs(gap)).toBeGreaterThan(1) // the message moves the logit: the check is not 0 ≈ 0
      expect(Math.abs(ex.delta)).toBeLessThan(0.05 * Math.abs(gap))
      expect(Math.abs(total - gap - ex.delta)).toBeLessThan(1e-3)
      // padding positions have the reference's own embedding, so they get no credit
      ex.ids.forEach((id, j) => {
        if (id === PAD) expect(Math.abs(ex.scores[j]!)).toBeLessThan(1e-12)
      })
    })
  })
})
