/**
 * Runs Captum's LLMGradientAttribution cases (area `llm`, family `layer`) with clarus's
 * {@link llmGradientAttribution}: the case's tokenizer file, its TextTokenInput, the wrapped layer
 * method (`constructor.attr_method`, at `constructor.layer`) and its keywords (`n_steps`, `method`,
 * …), compared field by field (`seq_attr`, `token_attr`, `input_tokens`, `output_tokens`,
 * `target_ids`). Captum 0.8 returns `output_probs = None`; clarus fills it, so its log is checked
 * against the case's forward check `llm.target_log_probs` instead (under the `token_attr`
 * tolerance).
 *
 * @category conformance
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isHostTensor } from '../core/codecs.js'
import { int64, type HostTensor } from '../core/tensor.js'
import { textTokenInput } from '../llm/inputs.js'
import { llmGradientAttribution, LLMGradientMethod, type LLMGradientOptions } from '../llm/llmGradient.js'
import { tokenizerOf } from './load.js'
import { compareFields, fieldTolerance, type AreaCaseRunner, type AreaOutcome } from './fields.js'
import { compareTensors } from './compare.js'

const rec = (u: unknown): Readonly<Record<string, unknown>> => (typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {})

/** Captum keyword → clarus option, for the keywords this runner understands. */
const ARGS: Readonly<Record<string, keyof LLMGradientOptions | null>> = {
  target: 'target',
  skip_tokens: 'skipTokens',
  gen_args: null,
  n_steps: 'nSteps',
  method: 'method',
  n_samples: 'nSamples',
}

const optionsOf = (args: Readonly<Record<string, unknown>>): LLMGradientOptions | string => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(args)) {
    if (!(k in ARGS)) return `LLMGradientAttribution argument ${k} is not supported`
    if (v === null || v === undefined) continue
    if (k === 'gen_args') {
      const g = rec(v)
      const extra = Object.keys(g).find((x) => x !== 'max_new_tokens' && x !== 'do_sample')
      if (extra !== undefined || g['do_sample'] === true) return `gen_args ${extra ?? 'do_sample'} is not supported`
      out['genArgs'] = typeof g['max_new_tokens'] === 'number' ? { maxNewTokens: g['max_new_tokens'] } : {}
      continue
    }
    out[ARGS[k]!] = isHostTensor(v) ? Array.from(v.data as ArrayLike<number | bigint>, Number) : v
  }
  return out as LLMGradientOptions
}

export const runLlmGradCase: AreaCaseRunner = async (c, ctx): Promise<AreaOutcome> => {
  const ctor = rec(c.wave2['constructor'])
  const method = ctor['attr_method']
  if (!LLMGradientMethod.is(method)) return { kind: 'unsupported', reason: `attr_method ${String(method)} is not supported` }
  if (Object.keys(rec(ctor['attr_method_constructor'])).length > 0) return { kind: 'unsupported', reason: 'attr_method constructor arguments are not supported' }
  const layer = ctor['layer']
  if (typeof layer !== 'string') return { kind: 'unsupported', reason: 'the case names no layer tensor' }
  const options = optionsOf(c.args)
  if (typeof options === 'string') return { kind: 'unsupported', reason: options }
  const ii = rec(c.wave2['interpretable_input'])
  if (ii['type'] !== 'TextTokenInput') return { kind: 'unsupported', reason: `interpretable input ${String(ii['type'])} is not supported by gradient methods` }
  const llm = rec(c.wave2['llm'])
  const tok = tokenizerOf(ctx.ref, String(llm['tokenizer_file']))
  if (E.isLeft(tok)) return { kind: 'unsupported', reason: `tokenizer: ${tok.left.message}` }
  const skip = ii['skip_tokens']
  const input = textTokenInput(String(ii['text']), tok.right, { baselines: ii['baselines'] as number | string, ...(Array.isArray(skip) ? { skipTokens: skip as (number | string)[] } : {}) })
  if (E.isLeft(input)) return { kind: 'compared', ok: false, detail: `input: ${input.left.message}` }
  const model = await ctx.model(c.model)
  if (E.isLeft(model)) return { kind: 'unsupported', reason: model.left }
  const r = await llmGradientAttribution(model.right, tok.right, method, input.right, { ...options, layer })()
  if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  const fields = compareFields(c, {
    seq_attr: r.right.seqAttr,
    token_attr: r.right.tokenAttr,
    input_tokens: [...r.right.inputTokens],
    output_tokens: [...r.right.outputTokens],
    target_ids: int64([r.right.targetIds.length], r.right.targetIds),
  })
  const want = llm['target_log_probs']
  const probs = r.right.outputProbs
  if (!isHostTensor(want) || probs === null) return { kind: 'compared', ok: false, detail: `${fields.detail}, no target_log_probs to check` }
  const got: HostTensor = { dtype: 'float32', shape: [probs.length], data: Float32Array.from(probs, Math.log) }
  const lp = compareTensors(got, want, fieldTolerance(c, 'token_attr') ?? { abs: 1e-4, rel: 1e-3 })
  const p = r.right.passes
  return {
    kind: 'compared',
    ok: fields.ok && lp.ok,
    detail: `${fields.detail}, target_log_probs max|Δ| ${lp.maxAbsErr.toExponential(2)}${lp.ok ? '' : ` (${lp.message})`}; ${p.forwardCalls} forward + ${p.vjpCalls} vjp call(s)`,
  }
}
