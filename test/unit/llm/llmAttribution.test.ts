// LLMAttribution against an independent oracle: a deterministic causal "LM" function whose
// log-probabilities the test computes itself (fakeLm.ts), over tinylm's tokenizer.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateGreedy, scoreTargets } from '../../../src/llm/causalLm.js'
import { textTemplateInput, textTokenInput, type InterpretableInput } from '../../../src/llm/inputs.js'
import { LLMAttribution, llmAttribution, llmAttributionWithInfo, type LLMAttributionOptions, type LLMPerturbationMethod } from '../../../src/llm/llmAttribution.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'
import type { LLMAttributionResult } from '../../../src/llm/types.js'
import { ClarusError } from '../../../src/core/errors.js'
import { fakeLm, oracleLogProbs, sum, VOCAB } from './fakeLm.js'

const tok = await (async () => {
  const r = await loadTokenizerFile('../shared/reference/models/tinylm.tokenizer.json')
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
})()
const model = fakeLm()
const WORDS = ['the', 'a', 'cat', 'dog', 'king', 'queen', 'old', 'small', 'red', 'river', 'garden', 'saw', 'found']

const right = <A>(e: E.Either<{ _tag: string; message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}
const explain = async (method: LLMPerturbationMethod, input: InterpretableInput, o: LLMAttributionOptions): Promise<LLMAttributionResult> =>
  right(await llmAttribution(model, tok, method, input, o)())

/** Σ log-probs of the target (encoded as Captum does, <bos> skipped) after the prompt text. */
const total = (text: string, target: readonly number[]): number => sum(oracleLogProbs(tok.encode(text), target))
const targetOf = (s: string): number[] => tok.encode(s).filter((i) => i !== 1)

const template = fc.record({
  values: fc.array(fc.constantFrom(...WORDS), { minLength: 2, maxLength: 4 }),
  baselines: fc.array(fc.constantFrom('', ...WORDS), { minLength: 4, maxLength: 4 }),
  target: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
})
const fill = (vals: readonly string[]): string => vals.map((v, i) => `${v} w${i}`).join(' ')
const templateOf = (n: number): string => Array.from({ length: n }, (_, i) => `{} w${i}`).join(' ')

describe('LLMAttribution (perturbation)', () => {
  it('FeatureAblation over a template equals the log-prob differences computed by hand (property)', async () => {
    await fc.assert(
      fc.asyncProperty(template, async ({ values, baselines, target }) => {
        const bl = baselines.slice(0, values.length)
        const input = right(textTemplateInput(templateOf(values.length), values, { baselines: bl }))
        const r = await explain('FeatureAblation', input, { target, skipTokens: ['<bos>'] })
        const tids = targetOf(target)
        const full = oracleLogProbs(tok.encode(fill(values)), tids)
        values.forEach((_, i) => {
          const ablated = oracleLogProbs(tok.encode(fill(values.map((v, j) => (j === i ? bl[i]! : v)))), tids)
          expect(r.seqAttr.data[i]).toBeCloseTo(sum(full) - sum(ablated), 3)
          tids.forEach((_, t) => expect(r.tokenAttr!.data[t * values.length + i]).toBeCloseTo(full[t]! - ablated[t]!, 3))
        })
      }),
      { seed: 15, numRuns: 15 },
    )
  })

  it('ShapleyValues are efficient: Σ seqAttr = logp(target | prompt) − logp(target | baseline prompt) (property)', async () => {
    await fc.assert(
      fc.asyncProperty(template, async ({ values, baselines, target }) => {
        const bl = baselines.slice(0, values.length)
        const input = right(textTemplateInput(templateOf(values.length), values, { baselines: bl }))
        const r = await explain('ShapleyValues', input, { target, skipTokens: ['<bos>'] })
        const tids = targetOf(target)
        expect(sum(Array.from(r.seqAttr.data))).toBeCloseTo(total(fill(values), tids) - total(fill(bl), tids), 3)
      }),
      { seed: 15, numRuns: 10 },
    )
  })

  it('negative control: FeatureAblation is not efficient in general (the property above can fail)', async () => {
    const values = ['the', 'old', 'king']
    const bl = ['a', '', 'dog']
    const input = right(textTemplateInput(templateOf(3), values, { baselines: bl }))
    const r = await explain('FeatureAblation', input, { target: 'saw the river', skipTokens: ['<bos>'] })
    const tids = targetOf('saw the river')
    expect(Math.abs(sum(Array.from(r.seqAttr.data)) - (total(fill(values), tids) - total(fill(bl), tids)))).toBeGreaterThan(1e-2)
  })

  it('one teacher-forced pass equals token-by-token scoring (property), with fewer model calls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 5 }),
        async (prompts, target) => {
          const perToken = { calls: 0, rows: 0 }
          const onePass = { calls: 0, rows: 0 }
          const a = right(await scoreTargets(model, prompts, target, { forwardInTokens: true }, perToken))
          const b = right(await scoreTargets(model, prompts, target, { forwardInTokens: false }, onePass))
          a.forEach((row, i) => row.forEach((v, t) => expect(b[i]![t]).toBeCloseTo(v, 4)))
          prompts.forEach((p, i) => oracleLogProbs(p, target).forEach((v, t) => expect(a[i]![t]).toBeCloseTo(v, 4)))
          const lengths = new Set(prompts.map((p) => p.length)).size
          expect(onePass.calls).toBe(lengths)
          expect(perToken.calls).toBe(lengths * target.length)
        },
      ),
      { seed: 15, numRuns: 30 },
    )
  })

  it('the memory budget splits a length group into calls (learning the vocabulary from a first 1-row call when undeclared); scores unchanged', async () => {
    const prompts = Array.from({ length: 6 }, (_, i) => [1, 4 + i, 12])
    const count = async (m: typeof model, budget?: number) => {
      const n = { calls: 0, rows: 0 }
      const s = right(await scoreTargets(m, prompts, [5, 8], { forwardInTokens: false, ...(budget !== undefined ? { memoryBudgetBytes: budget } : {}) }, n))
      return { s, calls: n.calls }
    }
    const whole = await count(model)
    // 3 rows × 4 positions × 102 float32 logits = 4 896 bytes: rows 3 + 3, or 1 + 3 + 2 while learning the vocabulary
    const declared = await count(model, 3 * 4 * VOCAB * 4)
    const undeclared = await count(fakeLm(true, false), 3 * 4 * VOCAB * 4)
    expect([whole.calls, declared.calls, undeclared.calls]).toEqual([1, 2, 3])
    for (const r of [declared, undeclared]) r.s.forEach((row, i) => row.forEach((v, t) => expect(v).toBe(whole.s[i]![t])))
  })

  it('padBatches: prompts of any length share one call per step, with the same scores (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (prompts, target, forwardInTokens) => {
          const n = { calls: 0, rows: 0 }
          const a = right(await scoreTargets(model, prompts, target, { forwardInTokens }))
          const b = right(await scoreTargets(model, prompts, target, { forwardInTokens, padBatches: true }, n))
          a.forEach((row, i) => row.forEach((v, t) => expect(b[i]![t]).toBeCloseTo(v, 4)))
          expect(n.calls).toBe(forwardInTokens ? target.length : 1)
        },
      ),
      { seed: 15, numRuns: 30 },
    )
  })

  it('negative control: a non-causal model breaks one-pass == token-by-token', async () => {
    const nonCausal = fakeLm(false)
    const a = right(await scoreTargets(nonCausal, [[4, 12, 26]], [5, 8, 9], { forwardInTokens: true }))
    const b = right(await scoreTargets(nonCausal, [[4, 12, 26]], [5, 8, 9], { forwardInTokens: false }))
    expect(Math.abs(a[0]![0]! - b[0]![0]!)).toBeGreaterThan(1e-3)
  })

  it("attrTarget 'prob' attributes exp() of the total and of each token's log-prob", async () => {
    const input = right(textTemplateInput('{} saw the {}', ['the king', 'river']))
    const r = await explain('FeatureAblation', input, { target: 'and the dog', skipTokens: ['<bos>'], attrTarget: 'prob' })
    const tids = targetOf('and the dog')
    const full = Math.exp(total('the king saw the river', tids))
    expect(r.seqAttr.data[0]).toBeCloseTo(full - Math.exp(total(' saw the river', tids)), 6)
    expect(r.seqAttr.data[1]).toBeCloseTo(full - Math.exp(total('the king saw the ', tids)), 6)
  })

  it('TextTokenInput: skipped tokens stay in the prompt; <bos> in a string target is scored unless skipped', async () => {
    const input = right(textTokenInput('the old king saw', tok, { skipTokens: ['<bos>'], baselines: '<unk>' }))
    const r = await explain('FeatureAblation', input, { target: 'a bird' })
    expect(r.targetIds).toEqual([1, 5, 8])
    expect(r.outputTokens).toEqual(['<bos>', 'a', 'bird'])
    expect(r.inputTokens).toEqual(['the', 'old', 'king', 'saw'])
    const full = sum(oracleLogProbs([1, 4, 57, 12, 26], [1, 5, 8]))
    expect(r.seqAttr.data[2]).toBeCloseTo(full - sum(oracleLogProbs([1, 4, 57, 0, 26], [1, 5, 8])), 3)
    expect(r.outputProbs!.map(Math.log)).toEqual(oracleLogProbs([1, 4, 57, 12, 26], [1, 5, 8]).map((v) => expect.closeTo(v, 4) as unknown as number))
  })

  it('Lime and KernelShap give no tokenAttr; exact KernelShap equals ShapleyValues', async () => {
    const input = right(textTemplateInput('{} {} saw {}', ['the', 'old king', 'a dog']))
    const o = { target: 'in the garden', skipTokens: ['<bos>'] }
    const sv = await explain('ShapleyValues', input, o)
    const ks = await explain('KernelShap', input, { ...o, exact: true })
    const li = await explain('Lime', input, { ...o, nSamples: 50, seed: 3 })
    expect(ks.tokenAttr).toBeNull()
    expect(li.tokenAttr).toBeNull()
    Array.from(sv.seqAttr.data).forEach((v, i) => expect(ks.seqAttr.data[i]).toBeCloseTo(v, 2))
  })

  it('ShapleyValueSampling: the same seed gives the same result, and every draw is efficient', async () => {
    const input = right(textTemplateInput('{} {} saw {} near {}', ['the', 'old king', 'a dog', 'river']))
    const o = { target: 'in the garden', skipTokens: ['<bos>'], nSamples: 3 } as const
    const a = await explain('ShapleyValueSampling', input, { ...o, seed: 7 })
    const b = await explain('ShapleyValueSampling', input, { ...o, seed: 7 })
    expect(Array.from(a.seqAttr.data)).toEqual(Array.from(b.seqAttr.data))
    const tids = targetOf('in the garden')
    expect(sum(Array.from(a.seqAttr.data))).toBeCloseTo(total('the old king saw a dog near river', tids) - total('  saw  near ', tids), 3)
    // all columns share the sampled orders, so (Shapley values being linear) the token rows add up to seqAttr
    const T = tids.length
    Array.from(a.seqAttr.data).forEach((v, f) => expect(sum(Array.from({ length: T }, (_, t) => a.tokenAttr!.data[t * 4 + f]!))).toBeCloseTo(v, 3))
  })

  it('numTrials averages identical deterministic runs; the mask groups values into one feature', async () => {
    const input = right(textTemplateInput('{s} liked {o} in {p}', { s: 'the queen', o: 'a cat', p: 'the garden' }, { mask: { s: 5, o: 2, p: 2 } }))
    expect(input.nFeatures).toBe(2)
    const one = await explain('FeatureAblation', input, { target: 'today', skipTokens: ['<bos>'] })
    const two = await explain('FeatureAblation', input, { target: 'today', skipTokens: ['<bos>'], numTrials: 2 })
    expect(Array.from(two.seqAttr.data)).toEqual(Array.from(one.seqAttr.data))
    expect(one.seqAttr.data[1]).toBe(one.seqAttr.data[2])
    const tids = targetOf('today')
    expect(one.seqAttr.data[0]).toBeCloseTo(total('the queen liked a cat in the garden', tids) - total(' liked a cat in the garden', tids), 3)
  })

  it('FeatureAblation on a TextTokenInput scores all equal-length ablations in one call (forwardInTokens false)', async () => {
    const input = right(textTokenInput('the old king saw a small bird', tok))
    const r = right(await llmAttributionWithInfo(model, tok, 'FeatureAblation', input, { target: 'near the river', forwardInTokens: false })())
    // one call for the unperturbed prompt, one for all 8 ablated prompts (same length)
    expect(r.info.passes.calls).toBe(2)
    expect(r.info.promptsScored).toBe(9)
  })

  it('greedy generation: argmax at each step, stop tokens end it (and are kept)', async () => {
    const prompt = [1, 4, 12]
    const g = right(await generateGreedy(model, prompt, { maxNewTokens: 4 }))
    const seq = [...prompt]
    for (const id of g.ids) {
      const scores = Array.from({ length: VOCAB }, (_, v) => oracleLogProbs(seq, [v])[0]!)
      expect(id).toBe(scores.indexOf(Math.max(...scores)))
      seq.push(id)
    }
    const stopped = right(await generateGreedy(model, prompt, { maxNewTokens: 4, stopTokens: [g.ids[1]!] }))
    expect(stopped.ids).toEqual(g.ids.slice(0, 2))
    const r = await explain('FeatureAblation', right(textTokenInput('the king', tok)), { genArgs: { maxNewTokens: 3 } })
    expect(r.targetIds).toEqual(g.ids.slice(0, 3))
  })
})

describe('LLMAttribution: bad inputs give typed errors a user can act on', () => {
  const input = right(textTemplateInput('{} saw {}', ['the king', 'a dog']))
  const fail = async (o: LLMAttributionOptions, i: InterpretableInput = input) => {
    const r = await llmAttribution(model, tok, 'FeatureAblation', i, o)()
    if (E.isRight(r)) throw new Error('expected an error')
    return r.left
  }

  it('an empty target (or one with only skipped tokens)', async () => {
    const e = await fail({ target: '', skipTokens: ['<bos>'] })
    expect(e._tag).toBe('BadTarget')
    expect(e.message).toMatch(/no tokens left to score/)
  })

  it('a prompt + target longer than the model takes', async () => {
    const long = right(textTokenInput(Array(30).fill('the').join(' '), tok))
    const e = await fail({ target: 'a dog saw', maxPositions: 32 }, long)
    expect(e._tag).toBe('BadTarget')
    expect(e.message).toMatch(/at most 32 positions/)
  })

  it('both a target and genArgs; an unknown skip token; an unknown method', async () => {
    expect((await fail({ target: 'a', genArgs: { maxNewTokens: 2 } }))._tag).toBe('BadTarget')
    expect((await fail({ target: 'a', skipTokens: ['<nope>'] })).message).toMatch(/<nope>/)
    expect((await fail({ target: 'a', nSamples: 10 })).message).toMatch(/FeatureAblation does not read nSamples/)
    const r = await llmAttribution(model, tok, 'IntegratedGradients' as LLMPerturbationMethod, input, { target: 'a' })()
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })

  it("the Captum-style class gives the function's result and throws a ClarusError with the typed error", async () => {
    const lla = new LLMAttribution(model, tok, 'FeatureAblation', { skipTokens: ['<bos>'] })
    const a = await lla.attribute(input, { target: 'a dog' })
    const b = await explain('FeatureAblation', input, { target: 'a dog', skipTokens: ['<bos>'] })
    expect(Array.from(a.seqAttr.data)).toEqual(Array.from(b.seqAttr.data))
    await expect(lla.attribute(input, { target: '' })).rejects.toSatisfy((e: unknown) => e instanceof ClarusError && e.error._tag === 'BadTarget')
  })
})
