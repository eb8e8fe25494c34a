// fromTransformers: mobylm loaded by transformers.js from a local folder gives the same LLM
// attributions as the direct ONNX route (perturbation through transformers.js's own forward,
// gradients through the re-read ONNX file), its tokenizer behaves as clarus's own reader of the
// same tokenizer.json, and bad objects and files are typed errors.
import { mkdtempSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers'
import { afterAll, describe, expect, it } from 'vitest'
import { makeMobylmHf } from '../../../scripts/make-mobylm-hf.js'
import { fromOnnx } from '../../../src/backends/onnx/model.js'
import { int64 } from '../../../src/core/tensor.js'
import { textTemplateInput, textTokenInput } from '../../../src/llm/inputs.js'
import { llmAttribution } from '../../../src/llm/llmAttribution.js'
import { llmGradientAttribution } from '../../../src/llm/llmGradient.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'
import { fromTransformers, type TransformersCausalLM } from '../../../src/backends/onnx/transformers.js'
import type { TransformersTokenizer } from '../../../src/llm/transformersTokenizer.js'
import type { LLMAttributionResult } from '../../../src/llm/types.js'

const unwrap = <A>(e: E.Either<{ _tag: string; message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}
const leftOf = <A>(e: E.Either<{ _tag: string; message: string; path: readonly string[] }, A>): string => (E.isLeft(e) ? `${e.left._tag}:${e.left.path.join('.')}` : 'ok')

const ASSETS = path.join(import.meta.dirname, '..', '..', '..', 'examples', 'assets', 'mobylm')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'clarus-hf-'))
const dir = makeMobylmHf(path.join(tmp, 'mobylm'))
env.allowRemoteModels = false
const hf = await AutoModelForCausalLM.from_pretrained(dir, { dtype: 'fp32' })
const hfTok = await AutoTokenizer.from_pretrained(dir)

// the user's model seen through a wrapper that counts its forward calls
let hfCalls = 0
const counted: TransformersCausalLM = { config: hf.config, sessions: hf.sessions, forward: (x) => (hfCalls++, hf.forward(x)) }

const direct = unwrap(await fromOnnx(path.join(ASSETS, 'mobylm.onnx')))
const tok = unwrap(await loadTokenizerFile(path.join(ASSETS, 'mobylm.tokenizer.json')))
const forwardOnly = unwrap(await fromTransformers(counted, hfTok))
const withGrads = unwrap(await fromTransformers(hf, hfTok, { modelPath: dir }))
afterAll(async () => {
  await Promise.all([direct.dispose(), forwardOnly.model.dispose(), withGrads.model.dispose(), hf.dispose()])
  rmSync(tmp, { recursive: true, force: true })
})

const closeTo = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tol)
}
const same = (a: LLMAttributionResult, b: LLMAttributionResult, tol: number): void => {
  expect(a.inputTokens).toEqual(b.inputTokens)
  expect(a.outputTokens).toEqual(b.outputTokens)
  expect(a.targetIds).toEqual(b.targetIds)
  closeTo(a.seqAttr.data, b.seqAttr.data, tol)
  closeTo(a.tokenAttr!.data, b.tokenAttr!.data, tol)
  closeTo(a.outputProbs ?? [], b.outputProbs ?? [], tol)
}

describe('fromTransformers on mobylm (a transformers.js folder made by scripts/make-mobylm-hf.ts)', () => {
  it('the tokenizer encodes, decodes and places tokens as clarus’s own tokenizer.json reader does', () => {
    const t = forwardOnly.tokenizer
    for (const text of ['the old captain stood upon the deck', 'Queequeg and xyzzy <eos> the sea', '  call me   ishmael ']) {
      expect(t.encode(text)).toEqual(tok.encode(text))
      expect(t.encode(text, { addSpecialTokens: false })).toEqual(tok.encode(text, { addSpecialTokens: false }))
      expect(t.encodeWithOffsets(text)).toEqual(tok.encodeWithOffsets(text))
      expect(t.decode(tok.encode(text))).toBe(tok.decode(tok.encode(text)))
    }
    expect([t.vocabSize, t.tokenToId('whale'), t.idToToken(1), [...t.specialIds].sort()]).toEqual([2004, tok.tokenToId('whale'), '<bos>', [0, 1, 2, 3]])
  })

  it('FeatureAblation and ShapleyValues through transformers.js’s own forward equal the direct ONNX route', async () => {
    const values = { who: 'the old captain', place: 'deck' }
    const opts = { target: 'sea', skipTokens: ['<bos>'] }
    const tmpl = '{who} stood upon the {place} and looked at the'
    for (const method of ['FeatureAblation', 'ShapleyValues'] as const) {
      const before = hfCalls
      const a = unwrap(await llmAttribution(forwardOnly.model, forwardOnly.tokenizer, method, unwrap(textTemplateInput(tmpl, values, { baselines: { who: 'a man', place: 'house' } })), opts)())
      const b = unwrap(await llmAttribution(direct, tok, method, unwrap(textTemplateInput(tmpl, values, { baselines: { who: 'a man', place: 'house' } })), opts)())
      expect(hfCalls).toBeGreaterThan(before)
      same(a, b, 1e-5)
    }
    // and a generated target (greedy decoding through transformers.js), token features
    const a = unwrap(await llmAttribution(forwardOnly.model, forwardOnly.tokenizer, 'FeatureAblation', unwrap(textTokenInput('the whale', forwardOnly.tokenizer, { skipTokens: ['<bos>'] })), { genArgs: { maxNewTokens: 3 } })())
    const b = unwrap(await llmAttribution(direct, tok, 'FeatureAblation', unwrap(textTokenInput('the whale', tok, { skipTokens: ['<bos>'] })), { genArgs: { maxNewTokens: 3 } })())
    same(a, b, 1e-5)
  })

  it('LayerIntegratedGradients through the re-read ONNX file equals the direct ONNX route (embedding found by itself)', async () => {
    const opts = { target: 'near the sea', skipTokens: ['<bos>'], nSteps: 8 }
    const a = unwrap(await llmGradientAttribution(withGrads.model, withGrads.tokenizer, 'LayerIntegratedGradients', unwrap(textTokenInput('the old king saw a small bird', withGrads.tokenizer, { skipTokens: ['<bos>'] })), opts)())
    const b = unwrap(await llmGradientAttribution(direct, tok, 'LayerIntegratedGradients', unwrap(textTokenInput('the old king saw a small bird', tok, { skipTokens: ['<bos>'] })), opts)())
    same(a, b, 1e-5)
    expect(a.passes).toEqual(b.passes)
    expect(withGrads.differentiable).toBe(true)
    expect(withGrads.model.signature.layers).toEqual(direct.signature.layers)
  })

  it('the adapter’s forward returns transformers.js’s logits (not the ONNX file’s) when nothing internal is asked for', async () => {
    const ids = int64([1, 4], [1, 4, 61, 89])
    const before = hfCalls
    const y = unwrap(await forwardOnly.model.forward([ids])())
    const z = unwrap(await direct.forward([ids])())
    expect(hfCalls).toBe(before + 1)
    expect(y.output.shape).toEqual([1, 4, 2004])
    closeTo(y.output.data as Float32Array, z.output.data as Float32Array, 1e-4)
  })

  it('a session that also takes attention_mask gets it from clarus, and the ONNX file only the inputs it declares', async () => {
    const seen = new Set<string>()
    let padded = false
    const masked: TransformersCausalLM = {
      config: hf.config,
      sessions: { model: { inputNames: ['input_ids', 'attention_mask'], outputNames: ['logits'], config: { dtype: 'fp32' } } },
      forward: (x) => {
        seen.add(Object.keys(x).join())
        padded ||= (x['attention_mask']!.data as BigInt64Array).includes(0n)
        return hf.forward({ input_ids: x['input_ids']! })
      },
    }
    const lm = unwrap(await fromTransformers(masked, hfTok, { modelPath: dir }))
    try {
      expect(lm.model.signature.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask'])
      const opts = { target: 'the sea', skipTokens: ['<bos>'], padBatches: true }
      // absent segments become "": prompts of different lengths, right-padded into one call with a 0 mask
      const input = (): ReturnType<typeof textTemplateInput> => textTemplateInput('{who} saw {what}', { who: 'the old king', what: 'a small bird' })
      const a = unwrap(await llmAttribution(lm.model, lm.tokenizer, 'ShapleyValues', unwrap(input()), opts)())
      const b = unwrap(await llmAttribution(direct, tok, 'ShapleyValues', unwrap(input()), opts)())
      same(a, b, 1e-5)
      expect([...seen, padded]).toEqual(['input_ids,attention_mask', true])
      const g = unwrap(await llmGradientAttribution(lm.model, lm.tokenizer, 'LayerGradientXActivation', unwrap(textTokenInput('the old king', lm.tokenizer, { skipTokens: ['<bos>'] })), { target: 'sea' })())
      const h = unwrap(await llmGradientAttribution(direct, tok, 'LayerGradientXActivation', unwrap(textTokenInput('the old king', tok, { skipTokens: ['<bos>'] })), { target: 'sea' })())
      same(g, h, 1e-5)
    } finally {
      await lm.model.dispose()
    }
  })

  it('bad models, tokenizers and files are typed errors that say what to pass', async () => {
    const inp = unwrap(textTokenInput('the old king', forwardOnly.tokenizer, { skipTokens: ['<bos>'] }))
    const noGrad = await llmGradientAttribution(forwardOnly.model, forwardOnly.tokenizer, 'LayerGradientXActivation', inp, { target: 'sea' })()
    const grads = await forwardOnly.model.vjp([int64([1, 2], [1, 4])], { kind: 'linear', seed: () => E.left({ _tag: 'BadTarget', message: '', path: [] }) }, { wrt: { kind: 'layer', name: 'x' } })()
    expect(leftOf(grads)).toBe('Unsupported:model')
    expect(E.isLeft(grads) && grads.left.message).toMatch(/modelPath.*onnxFile/)
    expect(leftOf(noGrad)).toBe('InvalidSpec:layer')
    expect(E.isLeft(noGrad) && noGrad.left.message).toMatch(/fromTransformers without modelPath/)

    const sessions = { model: { inputNames: ['input_ids'], outputNames: ['logits'] } }
    const fake = (over: Partial<TransformersCausalLM>): TransformersCausalLM => ({ config: { model_type: 'x' }, sessions, forward: () => Promise.resolve({}), ...over })
    expect(leftOf(await fromTransformers({} as TransformersCausalLM, hfTok))).toBe('BadModel:model')
    expect(leftOf(await fromTransformers(fake({ sessions: { model: sessions.model, decoder_model_merged: sessions.model } }), hfTok))).toBe('BadModel:model')
    expect(leftOf(await fromTransformers(fake({ sessions: { model: { inputNames: ['input_ids'], outputNames: ['last_hidden_state'] } } }), hfTok))).toBe('BadModel:model.outputs')
    expect(leftOf(await fromTransformers(fake({ sessions: { model: { inputNames: ['inputs_embeds'], outputNames: ['logits'] } } }), hfTok))).toBe('BadModel:model.inputs')
    const emptyVocab: TransformersTokenizer = { encode: () => [], decode: () => '', get_vocab: () => new Map() }
    expect(leftOf(await fromTransformers(fake({}), emptyVocab))).toBe('BadModel:tokenizer.vocab')
    const notCallable: TransformersTokenizer = { encode: () => [], decode: () => '', get_vocab: () => ({ a: 0 }) }
    expect(leftOf(await fromTransformers(fake({}), notCallable))).toBe('BadModel:Tensor')
    const missing = await fromTransformers(hf, hfTok, { modelPath: tmp })
    expect(leftOf(missing)).toBe('BadModel:onnxFile')
    expect(E.isLeft(missing) && missing.left.message).toContain(path.join(tmp, 'onnx', 'model.onnx'))
    // the file name follows the session's dtype as transformers.js names it (q8 → model_quantized.onnx)
    const q8 = await fromTransformers({ ...counted, sessions: { model: { ...sessions.model, config: { dtype: 'q8' } } } }, hfTok, { modelPath: dir })
    expect(E.isLeft(q8) && q8.left.message).toContain('model_quantized.onnx')
  })
})
