/**
 * Runs Captum's LLMAttribution cases (area `llm`) with clarus's {@link llmAttributionWithInfo}:
 * the case's tokenizer file, its interpretable input (TextTokenInput / TextTemplateInput) and its
 * `attribute` keywords, compared field by field (`seq_attr`, `token_attr`, `input_tokens`,
 * `output_tokens`, `target_ids`). Captum 0.8 returns `output_probs = None`; clarus fills it, so
 * instead its log equals the case's forward check `llm.target_log_probs`, compared under the
 * `seq_attr` tolerance.
 *
 * Exact cases run twice: as Captum scores (token by token, one prompt length per call) and the
 * fast way (`forwardInTokens: false`, `padBatches: true`); both must match.
 *
 * Limit cases: `expected` is the converged value. ShapleyValueSampling's limit is exact Shapley
 * values (clarus's ShapleyValues, enumerated), held to the case's tolerance, plus a seeded
 * ShapleyValueSampling run with the case's `n_samples` held to `sampling_tolerance`. Lime's limit
 * enumerates all 2^M coalitions once (clarus's `sampler: 'enumerate'`), plus a seeded Bernoulli run
 * (400 samples, as Captum's draw) held to `sampling_tolerance`.
 *
 * @category conformance
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isHostTensor } from '../core/codecs.js'
import { int64, type HostTensor } from '../core/tensor.js'
import { textTemplateInput, textTokenInput, type InterpretableInput } from '../llm/inputs.js'
import { llmAttributionWithInfo, LLMPerturbationMethod, type LLMAttributionOptions } from '../llm/llmAttribution.js'
import { tokenizerOf } from './load.js'
import type { LLMAttributionResult, Tokenizer } from '../llm/types.js'
import { compareFields, fieldTolerance, type AreaCaseRunner, type AreaOutcome } from './fields.js'
import { compareTensors } from './compare.js'
import type { ReferenceCase } from './load.js'

const rec = (u: unknown): Readonly<Record<string, unknown>> => (typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {})

const KNOWN_ARGS = new Set(['target', 'skip_tokens', 'gen_args', 'num_trials', 'use_cached_outputs', 'n_samples'])

/** tinylm's learned positions (the fixture README: max 32). */
const TINYLM_MAX_POSITIONS = 32

const inputOf = (c: ReferenceCase, tok: Tokenizer): E.Either<string, InterpretableInput> => {
  const ii = rec(c.wave2['interpretable_input'])
  if (ii['type'] === 'TextTokenInput') {
    const skip = ii['skip_tokens']
    const r = textTokenInput(String(ii['text']), tok, {
      baselines: ii['baselines'] as number | string,
      ...(Array.isArray(skip) ? { skipTokens: skip as (number | string)[] } : {}),
    })
    return E.mapLeft((e: { message: string }) => e.message)(r)
  }
  if (ii['type'] === 'TextTemplateInput') {
    const values = ii['values'] as string[] | Record<string, string>
    const r = textTemplateInput(String(ii['template']), values, {
      ...(ii['baselines'] !== null && ii['baselines'] !== undefined ? { baselines: ii['baselines'] as string[] } : {}),
      ...(ii['mask'] !== null && ii['mask'] !== undefined ? { mask: ii['mask'] as number[] } : {}),
    })
    return E.mapLeft((e: { message: string }) => e.message)(r)
  }
  return E.left(`interpretable input ${String(ii['type'])} is not supported`)
}

const fieldsOf = (r: LLMAttributionResult): Record<string, unknown> => ({
  seq_attr: r.seqAttr,
  token_attr: r.tokenAttr,
  input_tokens: [...r.inputTokens],
  output_tokens: [...r.outputTokens],
  target_ids: int64([r.targetIds.length], r.targetIds),
})

/** The forward check: log(outputProbs) against `llm.target_log_probs`. */
const forwardCheck = (c: ReferenceCase, r: LLMAttributionResult): { ok: boolean; detail: string } => {
  const want = rec(c.wave2['llm'])['target_log_probs']
  if (!isHostTensor(want) || r.outputProbs === null) return { ok: false, detail: 'no target_log_probs to check' }
  const got: HostTensor = { dtype: 'float32', shape: [r.outputProbs.length], data: Float32Array.from(r.outputProbs, Math.log) }
  const cmp = compareTensors(got, want, fieldTolerance(c, 'seq_attr') ?? { abs: 1e-4, rel: 1e-3 })
  return { ok: cmp.ok, detail: `target_log_probs max|Δ| ${cmp.maxAbsErr.toExponential(2)}${cmp.ok ? '' : ` (${cmp.message})`}` }
}

export const runLlmCase: AreaCaseRunner = async (c, ctx): Promise<AreaOutcome> => {
  const unknown = Object.keys(c.args).find((k) => !KNOWN_ARGS.has(k))
  if (unknown !== undefined) return { kind: 'unsupported', reason: `LLMAttribution argument ${unknown} is not supported` }
  const ctor = rec(c.wave2['constructor'])
  const method = ctor['attr_method']
  if (!LLMPerturbationMethod.is(method)) return { kind: 'unsupported', reason: `attr_method ${String(method)} is not supported` }
  if (Object.keys(rec(ctor['attr_method_constructor'])).length > 0) return { kind: 'unsupported', reason: 'attr_method constructor arguments are not run here' }
  const llm = rec(c.wave2['llm'])
  const tok = tokenizerOf(ctx.ref, String(llm['tokenizer_file']))
  if (E.isLeft(tok)) return { kind: 'compared', ok: false, detail: `tokenizer: ${tok.left.message}` }
  const input = inputOf(c, tok.right)
  if (E.isLeft(input)) return { kind: 'unsupported', reason: input.left }
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return { kind: 'unsupported', reason: m.left }
  const a = c.args
  const gen = rec(a['gen_args'])
  const base: LLMAttributionOptions = {
    ...(typeof a['target'] === 'string' ? { target: a['target'] } : {}),
    ...(a['target'] === null && typeof gen['max_new_tokens'] === 'number' ? { genArgs: { maxNewTokens: gen['max_new_tokens'] } } : {}),
    ...(Array.isArray(a['skip_tokens']) ? { skipTokens: a['skip_tokens'] as (number | string)[] } : {}),
    ...(typeof a['num_trials'] === 'number' ? { numTrials: a['num_trials'] } : {}),
    ...(typeof a['use_cached_outputs'] === 'boolean' ? { useCachedOutputs: a['use_cached_outputs'] } : {}),
    attrTarget: ctor['attr_target'] === 'prob' ? 'prob' : 'logProb',
    maxPositions: TINYLM_MAX_POSITIONS,
  }
  const nSamples = typeof a['n_samples'] === 'number' ? a['n_samples'] : undefined
  const run = async (meth: LLMPerturbationMethod, extra: LLMAttributionOptions) => llmAttributionWithInfo(m.right, tok.right, meth, input.right, { ...base, ...extra })()
  const nM = input.right.nFeatures

  // the main run: exact methods as given; limit cases through their enumerable limit
  const main =
    c.kind === 'limit'
      ? method === 'ShapleyValueSampling'
        ? await run('ShapleyValues', {})
        : method === 'Lime'
          ? await run('Lime', { sampler: 'enumerate', nSamples: 2 ** nM })
          : undefined
      : await run(method, nSamples !== undefined ? { nSamples } : {})
  if (main === undefined) return { kind: 'unsupported', reason: `limit case of ${method} has no enumerable limit here` }
  if (E.isLeft(main)) return { kind: 'compared', ok: false, detail: `${main.left._tag}: ${main.left.message}` }
  const r = main.right.result
  const fields = fieldsOf(r)
  const names = Object.keys(fields).filter((k) => k !== 'token_attr' || r.tokenAttr !== null || rec(c.wave2['expected'])['token_attr'] === null)
  const cmp = compareFields(c, fields, names)
  const fwd = forwardCheck(c, r)
  let ok = cmp.ok && fwd.ok
  const parts = [cmp.detail, fwd.detail, `${main.right.info.passes.calls} model calls, ${main.right.info.promptsScored} prompts`]

  // the same call scored the fast way (one teacher-forced pass per prompt, prompts of any length
  // right-padded into shared calls) must give the same fields
  if (c.kind === 'exact') {
    const fast = await run(method, { ...(nSamples !== undefined ? { nSamples } : {}), forwardInTokens: false, padBatches: true })
    if (E.isLeft(fast)) return { kind: 'compared', ok: false, detail: `one-pass run: ${fast.left.message}` }
    const f = compareFields(c, fieldsOf(fast.right.result), names)
    ok &&= f.ok
    parts.push(f.ok ? `one-pass padded: ok in ${fast.right.info.passes.calls} model calls` : `one-pass padded: ${f.detail}`)
  }

  if (c.kind === 'limit' && c.samplingTolerance !== undefined) {
    const sampled = await run(method, method === 'Lime' ? { nSamples: 400, seed: 0 } : { ...(nSamples !== undefined ? { nSamples } : {}), seed: 0 })
    if (E.isLeft(sampled)) return { kind: 'compared', ok: false, detail: `sampled run: ${sampled.left.message}` }
    const want = rec(c.wave2['expected'])['seq_attr']
    if (!isHostTensor(want)) return { kind: 'compared', ok: false, detail: 'no expected seq_attr' }
    const s = compareTensors(sampled.right.result.seqAttr, want, c.samplingTolerance)
    ok &&= s.ok
    parts.push(`sampled ${method} seq_attr max|Δ| ${s.maxAbsErr.toExponential(2)}${s.ok ? '' : ` (${s.message})`}`)
  }
  return { kind: 'compared', ok, detail: parts.join(', ') }
}
