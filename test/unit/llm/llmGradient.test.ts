// llmGradientAttribution: Captum's fixture on tinylm (ONNX, embedding found by itself), every method
// against the per-token oracle on a tiny tfjs LM, target handling, and bad inputs as typed errors.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/model.js'
import { ClarusError } from '../../../src/core/errors.js'
import { foldIn, keyOf, uniforms } from '../../../src/core/random.js'
import { quadrature } from '../../../src/dsl/quadratureRules.js'
import { generateGreedy, scoreTargets } from '../../../src/llm/causalLm.js'
import { textTemplateInput, textTokenInput, type InterpretableInput } from '../../../src/llm/inputs.js'
import { LLMGradientAttribution, llmGradientAttribution, type LLMGradientMethod, type LLMGradientOptions, type LLMGradientResult } from '../../../src/llm/llmGradient.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'
import { perTokenOracle, tinyTfjsLm } from './llmGradientModels.js'

const unwrap = <A>(e: E.Either<{ _tag: string; message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}
const tok = unwrap(await loadTokenizerFile(path.join(REFERENCE_DIR, 'models/tinylm.tokenizer.json')))
const lm = tinyTfjsLm()
afterAll(() => lm.dispose())

const TEXT = 'the old king saw a small bird'
const input = unwrap(textTokenInput(TEXT, tok, { skipTokens: ['<bos>'] }))
const explain = async (method: LLMGradientMethod, inp: InterpretableInput, o: LLMGradientOptions): Promise<LLMGradientResult> =>
  unwrap(await llmGradientAttribution(lm.model, tok, method, inp, { layer: 'emb', ...o })())
const errorOf = async (method: string, inp: InterpretableInput, o: unknown): Promise<string> => {
  const r = await llmGradientAttribution(lm.model, tok, method as LLMGradientMethod, inp, { layer: 'emb', ...(o as object) } as LLMGradientOptions)()
  return E.isLeft(r) ? `${r.left._tag}:${r.left.path.join('.')}` : 'ok'
}
const rowsOf = (r: LLMGradientResult): number[][] => {
  const [T, F] = r.tokenAttr!.shape as [number, number]
  return Array.from({ length: T }, (_, t) => Array.from(r.tokenAttr!.data.subarray(t * F, (t + 1) * F)))
}
const close = (a: number[][], b: number[][], tol: number): void => {
  expect(a.length).toBe(b.length)
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i]![j]!)).toBeLessThan(tol)))
}

const prompt = tok.encode(TEXT)
const features = prompt.map((_, p) => p).slice(1) // <bos> at 0 is skipped
const target = tok.encode('near the river').filter((id) => id !== 1)

interface GradCase {
  args: { target: string; skip_tokens: string[] | null; n_steps: number; method: 'gausslegendre' | 'riemann_trapezoid' }
  interpretable_input: { text: string; baselines: number | string; skip_tokens: string[] | null }
  expected: { seq_attr: { data: number[] }; token_attr: { data: number[][] }; input_tokens: string[]; output_tokens: string[] }
  llm: { target_ids: number[] }
  tolerances: { seq_attr: { abs: number }; token_attr: { abs: number } }
}

describe('llmGradientAttribution on Captum’s fixtures (tinylm, ONNX)', () => {
  it.each(['skip_bos', 'pad_baseline.trapezoid.bos_in_target'])('tinylm.llmgrad.layerig.token.%s: every field, with the embedding layer found from the graph', async (name) => {
    const c = JSON.parse(readFileSync(path.join(REFERENCE_DIR, `cases/tinylm/tinylm.llmgrad.layerig.token.${name}.json`), 'utf8')) as GradCase
    const model = unwrap(await fromOnnx(path.join(REFERENCE_DIR, 'models/tinylm.onnx')))
    try {
      const ii = c.interpretable_input
      const inp = unwrap(textTokenInput(ii.text, tok, { baselines: ii.baselines, ...(ii.skip_tokens ? { skipTokens: ii.skip_tokens } : {}) }))
      const o = { target: c.args.target, nSteps: c.args.n_steps, method: c.args.method, ...(c.args.skip_tokens ? { skipTokens: c.args.skip_tokens } : {}) }
      const r = unwrap(await llmGradientAttribution(model, tok, 'LayerIntegratedGradients', inp, o)())
      close(rowsOf(r), c.expected.token_attr.data, c.tolerances.token_attr.abs)
      close([Array.from(r.seqAttr.data)], [c.expected.seq_attr.data], c.tolerances.seq_attr.abs)
      expect(r.inputTokens).toEqual(c.expected.input_tokens)
      expect(r.outputTokens).toEqual(c.expected.output_tokens)
      expect(r.targetIds).toEqual(c.llm.target_ids)
      // one endpoint forward, one forward of the interior points, one vjp of steps × T rows; Captum: T attribution calls
      const interior = c.args.method === 'gausslegendre' ? c.args.n_steps : c.args.n_steps - 2
      expect(r.passes).toEqual({ forwardCalls: 2, forwardRows: 2 + interior, vjpCalls: 1, vjpRows: c.args.n_steps * c.llm.target_ids.length })
    } finally {
      await model.dispose()
    }
  })
})

describe('llmGradientAttribution: each method equals Captum’s per-token scheme on the feature columns', () => {
  it('LayerIntegratedGradients (input baseline <pad>, riemann_trapezoid)', async () => {
    const inp = unwrap(textTokenInput(TEXT, tok, { skipTokens: ['<bos>'], baselines: '<pad>' }))
    const r = await explain('LayerIntegratedGradients', inp, { target, nSteps: 6, method: 'riemann_trapezoid' })
    const q = quadrature('riemann_trapezoid', 6) as { alphas: Float64Array; weights: Float64Array }
    const bl = prompt.map((id, p) => (p === 0 ? id : 3))
    const want = await perTokenOracle(lm.model, 'emb', prompt, target, [bl], Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! })))
    close(rowsOf(r), want.attr.map((row) => features.map((p) => row[p]!)), 2e-5)
    const sums = features.map((_, f) => rowsOf(r).reduce((a, row) => a + row[f]!, 0))
    close([Array.from(r.seqAttr.data)], [sums], 1e-5)
  })

  it('LayerGradientXActivation (and multiplyByInputs: false)', async () => {
    for (const multiplyByInputs of [true, false]) {
      const r = await explain('LayerGradientXActivation', input, { target, multiplyByInputs })
      const want = await perTokenOracle(lm.model, 'emb', prompt, target, 'zero', [{ baseline: 0, alpha: 1, weight: 1 }], multiplyByInputs)
      close(rowsOf(r), want.attr.map((row) => features.map((p) => row[p]!)), 2e-5)
    }
  })

  it('LayerGradientShap: seeded draws of (baseline, α), averaged; another seed gives other numbers', async () => {
    const o = { target, baselines: ['<pad>', '<unk>'], nSamples: 4, seed: 7 }
    const r = await explain('LayerGradientShap', input, o)
    const bls = [3, 0].map((id) => prompt.map((x, p) => (p === 0 ? x : id)))
    const points = Array.from({ length: 4 }, (_, s) => {
      const u = uniforms(foldIn(keyOf(7), s), 2)
      return { baseline: Math.floor(u[0]! * 2), alpha: u[1]!, weight: 1 / 4 }
    })
    const want = await perTokenOracle(lm.model, 'emb', prompt, target, bls, points)
    close(rowsOf(r), want.attr.map((row) => features.map((p) => row[p]!)), 2e-5)
    expect(rowsOf(await explain('LayerGradientShap', input, o))).toEqual(rowsOf(r))
    const other = await explain('LayerGradientShap', input, { ...o, seed: 8 })
    expect(Math.max(...rowsOf(other).flatMap((row, t) => row.map((v, f) => Math.abs(v - rowsOf(r)[t]![f]!))))).toBeGreaterThan(1e-4)
  })

  it('a per-feature baseline list replaces each feature by its own token', async () => {
    const ids = features.map((_, f) => (f % 2 === 0 ? '<pad>' : '<unk>'))
    const r = await explain('LayerIntegratedGradients', input, { target, nSteps: 4, baselines: [ids] })
    const bl = prompt.map((x, p) => (p === 0 ? x : (p - 1) % 2 === 0 ? 3 : 0))
    const q = quadrature('gausslegendre', 4) as { alphas: Float64Array; weights: Float64Array }
    const want = await perTokenOracle(lm.model, 'emb', prompt, target, [bl], Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! })))
    close(rowsOf(r), want.attr.map((row) => features.map((p) => row[p]!)), 2e-5)
  })
})

describe('llmGradientAttribution: targets', () => {
  it('a string target is encoded with special tokens (<bos> scored) unless skipTokens removes it', async () => {
    const withBos = await explain('LayerGradientXActivation', input, { target: 'near the river' })
    expect(withBos.targetIds).toEqual(tok.encode('near the river'))
    expect(withBos.targetIds[0]).toBe(1)
    const without = await explain('LayerGradientXActivation', input, { target: 'near the river', skipTokens: ['<bos>'] })
    expect(without.targetIds).toEqual(target)
    expect(without.outputTokens).toEqual(['near', 'the', 'river'])
    expect(without.tokenAttr!.shape).toEqual([3, features.length])
  })

  it('without a target the greedy continuation is explained (genArgs.maxNewTokens)', async () => {
    const r = await explain('LayerGradientXActivation', input, { genArgs: { maxNewTokens: 3 } })
    const g = unwrap(await generateGreedy(lm.model, prompt, { maxNewTokens: 3 }))
    expect(r.targetIds).toEqual(g.ids)
    expect(r.tokenAttr!.shape).toEqual([3, features.length])
  })

  it('outputProbs are the teacher-forced probabilities of the target under the prompt', async () => {
    const r = await explain('LayerGradientXActivation', input, { target })
    const lp = unwrap(await scoreTargets(lm.model, [prompt], target))[0]!
    r.outputProbs!.forEach((p, t) => expect(Math.abs(Math.log(p) - lp[t]!)).toBeLessThan(1e-5))
  })

  it('leaves no tfjs tensor behind', async () => {
    await explain('LayerIntegratedGradients', input, { target, nSteps: 3 })
    const before = tf.memory().numTensors
    await explain('LayerIntegratedGradients', input, { target, nSteps: 3, internalBatchSize: 2 })
    await errorOf('LayerIntegratedGradients', input, { target: 'near', skipTokens: ['near', '<bos>'] })
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('llmGradientAttribution: bad inputs are typed errors with a path', () => {
  const template = unwrap(textTemplateInput('{} saw {}', ['the king', 'a bird']))
  it.each([
    ['Saliency', input, { target }, 'InvalidSpec:method'],
    ['LayerGradientXActivation', input, { target, nSteps: 5, method: 'riemann_left' }, 'InvalidSpec:nSteps'],
    ['LayerIntegratedGradients', input, { target, nSamples: 3 }, 'InvalidSpec:nSamples'],
    ['LayerIntegratedGradients', input, { target, baselines: ['<pad>', '<unk>'] }, 'InvalidSpec:baselines'],
    ['LayerGradientShap', input, { target, baselines: [] }, 'InvalidSpec:baselines'],
    ['LayerIntegratedGradients', input, { target, nSteps: 0 }, 'InvalidSpec:nSteps'],
    ['LayerIntegratedGradients', input, { target, method: 'riemann_left', nSteps: 1 }, 'InvalidSpec:nSteps'],
    ['LayerIntegratedGradients', input, { target, baselines: [['<pad>']] }, 'BadBaseline:baselines.0'],
    ['LayerIntegratedGradients', input, { target, baselines: ['no-such-word'] }, 'InvalidSpec:baselines.0.0'],
    ['LayerIntegratedGradients', input, { target: 'near', genArgs: { maxNewTokens: 2 } }, 'BadTarget:genArgs'],
    ['LayerIntegratedGradients', input, { target: 'near', skipTokens: ['near', '<bos>'] }, 'BadTarget:target'],
    ['LayerIntegratedGradients', input, { target: [5, 400] }, 'BadTarget:target'],
    ['LayerIntegratedGradients', input, { target, skipTokens: ['no-such-word'] }, 'InvalidSpec:skipTokens.0'],
    ['LayerIntegratedGradients', input, { target, maxPositions: 9 }, 'BadTarget:target'],
    ['LayerIntegratedGradients', input, { target, layer: 'hidden' }, 'UnknownTensor:layer'],
    ['LayerIntegratedGradients', template, { target }, 'Unsupported:input'],
    ['LayerIntegratedGradients', input, { target, maxPositions: 10 }, 'ok'],
  ] as const)('%s %#: → %s', async (method, inp, o, want) => {
    expect(await errorOf(method, inp, o)).toBe(want)
  })

  it('a model whose embedding cannot be found asks for options.layer', async () => {
    const r = await llmGradientAttribution(lm.model, tok, 'LayerIntegratedGradients', input, { target })()
    expect(E.isLeft(r) && `${r.left._tag}:${r.left.path.join('.')}`).toBe('InvalidSpec:layer')
    expect(E.isLeft(r) && r.left.message).toMatch(/options\.layer/)
  })
})

describe('LLMGradientAttribution (Captum-style facade)', () => {
  it('merges constructor and call options, and throws the typed error', async () => {
    const ig = new LLMGradientAttribution(lm.model, tok, 'LayerIntegratedGradients', { layer: 'emb', nSteps: 4 })
    const r = await ig.attribute(input, { target })
    expect(rowsOf(r)).toEqual(rowsOf(await explain('LayerIntegratedGradients', input, { target, nSteps: 4 })))
    const e = await ig.attribute(input, { target, nSamples: 2 }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ClarusError)
    expect((e as ClarusError).error._tag).toBe('InvalidSpec')
  })
})
