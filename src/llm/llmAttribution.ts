/**
 * LLM attribution by perturbation: which parts of a prompt made a causal language model produce a
 * target text. The prompt is cut into interpretable features (an {@link InterpretableInput});
 * a perturbation method (FeatureAblation, ShapleyValues, ShapleyValueSampling, Lime, KernelShap)
 * switches them on and off, and each perturbed prompt is scored by the teacher-forced
 * log-probabilities of the target tokens.
 *
 * For a feature vector z the score row is `[Σ_t lp_t, lp₁, …, lp_T]` (log p of target token t
 * given the perturbed prompt and the earlier target tokens), or its `exp` with `attrTarget:
 * 'prob'` (so `seqAttr ≠ Σ tokenAttr` there). Column 0 gives `seqAttr`, columns 1..T `tokenAttr`;
 * Lime and KernelShap explain column 0 only (`tokenAttr` null), as Captum does.
 *
 * How it runs: the method is clarus's own pipeline, run once on a host function of the 0/1
 * feature matrix, with a batch of T + 1 all-ones rows whose row k explains score column k (a
 * per-example target), so every column sees the same perturbations and random draws, as in
 * Captum's single multi-output forward. The function scores each distinct perturbed prompt once
 * (memoised across columns and trials) and batches prompts of equal length into one model call.
 *
 * Captum: `LLMAttribution(attr_method, tokenizer, attr_target='log_prob').attribute(inp, target,
 * skip_tokens, num_trials, gen_args, use_cached_outputs)`. Differences: `forwardInTokens: false`
 * scores prompt + target in one pass (Captum always decodes token by token); many perturbed
 * prompts share a model call (Captum's `perturbations_per_eval > 1` raises); `useCachedOutputs` is
 * accepted and changes nothing (there is no KV cache: each pass re-runs the sequence, which gives
 * the same numbers); `outputProbs` holds the unperturbed target-token probabilities (Captum 0.8:
 * None); random methods take `seed` (trial k uses seed + k).
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { attribute } from '../api/attribute.js'
import { featureAblation } from '../algorithms/featureAblation.js'
import { kernelShap } from '../algorithms/kernelShap.js'
import { lime, limeDefaults } from '../algorithms/lime.js'
import { shapleyValueSampling } from '../algorithms/shapleyValueSampling.js'
import { shapleyValues } from '../algorithms/shapleyValues.js'
import { fromFunction } from '../backends/host/fromFunction.js'
import type { Model } from '../core/backend.js'
import { decodeWith, Integer, PositiveInt } from '../core/codecs.js'
import { ClarusError, err, invalidSpec, type AttributionError } from '../core/errors.js'
import { float32, type HostTensor } from '../core/tensor.js'
import { Sampler, Similarity } from '../dsl/perturbation/designs.js'
import { InterpretableModel } from '../dsl/perturbation/linearModels.js'
import type { Pipeline } from '../dsl/spec.js'
import { generateGreedy, scorePrompts, type PassCounter, type Prompt } from './causalLm.js'
import { allPresent, TokenRef, type InterpretableInput } from './inputs.js'
import { prettyTokens } from './prettyTokens.js'
import type { LLMAttributionResult, Tokenizer } from './types.js'

/** The perturbation method an LLM attribution runs (Captum's class names). */
export const LLMPerturbationMethod = t.keyof({ FeatureAblation: null, ShapleyValues: null, ShapleyValueSampling: null, Lime: null, KernelShap: null })
export type LLMPerturbationMethod = t.TypeOf<typeof LLMPerturbationMethod>

/** Greedy generation arguments (Captum's `gen_args`; `max_new_tokens` default 25). */
export const GenArgs = t.readonly(t.partial({ maxNewTokens: PositiveInt, stopTokens: t.readonlyArray(TokenRef) }))
export type GenArgs = t.TypeOf<typeof GenArgs>

/** Options of {@link llmAttribution}; see the module doc for the defaults. */
export const LLMAttributionOptions = t.readonly(
  t.partial({
    /** The text to explain (encoded WITH special tokens, as Captum does) or its ids; absent: generated greedily. */
    target: t.union([t.string, t.readonlyArray(Integer)]),
    genArgs: GenArgs,
    /** 'logProb' (default) or 'prob' (Captum's `attr_target`). */
    attrTarget: t.keyof({ logProb: null, prob: null }),
    /** Tokens removed from the target before scoring (ids or token strings). */
    skipTokens: t.readonlyArray(TokenRef),
    numTrials: PositiveInt,
    useCachedOutputs: t.boolean,
    /** true (default, Captum): one pass per target token; false: one teacher-forced pass. */
    forwardInTokens: t.boolean,
    /** Longest sequence the model accepts; longer prompt + target is a BadTarget error up front. */
    maxPositions: PositiveInt,
    memoryBudgetBytes: PositiveInt,
    /** Prompts of different lengths share model calls, right-padded (exact for causal models; default false). */
    padBatches: t.boolean,
    seed: Integer,
    /** ShapleyValueSampling, Lime, KernelShap: samples (Captum's defaults 25). */
    nSamples: PositiveInt,
    /** Lime's plug-ins, as data (default: Captum's lasso / cosine exp kernel / Bernoulli sampler). */
    interpretableModel: InterpretableModel,
    similarity: Similarity,
    sampler: Sampler,
    /** KernelShap: enumerate all coalitions (exact Shapley values; not in Captum). */
    exact: t.boolean,
  }),
)
export type LLMAttributionOptions = t.TypeOf<typeof LLMAttributionOptions>

const pipelineFor = (method: LLMPerturbationMethod, o: LLMAttributionOptions): Pipeline => {
  switch (method) {
    case 'FeatureAblation':
      return featureAblation()
    case 'ShapleyValues':
      return shapleyValues()
    case 'ShapleyValueSampling':
      return shapleyValueSampling(o.nSamples !== undefined ? { nSamples: o.nSamples } : {})
    case 'Lime':
      return lime({
        nSamples: o.nSamples ?? limeDefaults.nSamples,
        ...(o.interpretableModel ? { interpretableModel: o.interpretableModel } : {}),
        ...(o.similarity ? { similarity: o.similarity } : {}),
        ...(o.sampler ? { sampler: o.sampler } : {}),
      })
    case 'KernelShap':
      return kernelShap({ ...(o.nSamples !== undefined ? { nSamples: Math.max(2, o.nSamples) } : {}), ...(o.exact ? { exact: true } : {}) })
  }
}

const STOCHASTIC: ReadonlySet<LLMPerturbationMethod> = new Set(['ShapleyValueSampling', 'Lime', 'KernelShap'])

/** Options only some methods read; giving one to another method is a mistake to report, not to ignore. */
const METHOD_OPTIONS: Readonly<Record<string, readonly LLMPerturbationMethod[]>> = {
  nSamples: ['ShapleyValueSampling', 'Lime', 'KernelShap'],
  seed: ['ShapleyValueSampling', 'Lime', 'KernelShap'],
  interpretableModel: ['Lime'],
  similarity: ['Lime'],
  sampler: ['Lime'],
  exact: ['KernelShap'],
}

/** How much a run cost: model calls and rows, and distinct prompts scored. */
export interface LLMRunInfo {
  /** Model calls and rows used (generation and scoring). */
  readonly passes: PassCounter
  /** Distinct perturbed prompts scored. */
  readonly promptsScored: number
}

const resolveIds = (tok: Tokenizer, refs: readonly TokenRef[], path: string): E.Either<AttributionError, number[]> => {
  const out: number[] = []
  for (const [i, r] of refs.entries()) {
    const id = typeof r === 'number' ? r : tok.tokenToId(r)
    if (id === undefined) return E.left(invalidSpec([{ path: [path, String(i)], message: `token ${JSON.stringify(r)} is not in the tokenizer's vocabulary` }]))
    out.push(id)
  }
  return E.right(out)
}

/**
 * Explains `target` (or the model's greedy continuation) by the interpretable features of `input`
 * with a perturbation `method`; see the module doc. Returns the result and the pass counts.
 */
export const llmAttributionWithInfo = <T>(
  model: Model<T>,
  tokenizer: Tokenizer,
  method: LLMPerturbationMethod,
  input: InterpretableInput,
  options: LLMAttributionOptions = {},
): TE.TaskEither<AttributionError, { readonly result: LLMAttributionResult; readonly info: LLMRunInfo }> =>
  async () => {
    const m = decodeWith(LLMPerturbationMethod, method, ['method'])
    if (E.isLeft(m)) return m
    const od = decodeWith(LLMAttributionOptions, options)
    if (E.isLeft(od)) return od
    const o = od.right
    const unread = Object.entries(METHOD_OPTIONS).filter(([k, ms]) => (o as Record<string, unknown>)[k] !== undefined && !ms.includes(m.right))
    if (unread.length > 0) {
      return E.left(invalidSpec(unread.map(([k, ms]) => ({ path: [k], message: `${m.right} does not read ${k} (only ${ms.join(', ')} do): remove it` }))))
    }
    if (o.target !== undefined && o.genArgs !== undefined) {
      return E.left(err('BadTarget', 'give either a target or genArgs (generation arguments are for the case without a target)', ['genArgs']))
    }
    const skip = resolveIds(tokenizer, o.skipTokens ?? [], 'skipTokens')
    if (E.isLeft(skip)) return skip
    const stops = resolveIds(tokenizer, o.genArgs?.stopTokens ?? [], 'genArgs.stopTokens')
    if (E.isLeft(stops)) return stops
    const passes: PassCounter = { calls: 0, rows: 0 }
    const scoring = {
      forwardInTokens: o.forwardInTokens ?? true,
      ...(o.maxPositions !== undefined ? { maxPositions: o.maxPositions } : {}),
      ...(o.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: o.memoryBudgetBytes } : {}),
      ...(o.padBatches !== undefined ? { padBatches: o.padBatches } : {}),
    }
    const promptOf = (present: ArrayLike<number>): Prompt => {
      const extra = input.toModelInputs?.(present)
      return { ids: input.toIds(present, tokenizer), ...(extra !== undefined ? { inputs: extra } : {}) }
    }
    const basePrompt = promptOf(allPresent(input))
    const promptIds = basePrompt.ids

    // the target tokens: encoded WITH special tokens (Captum's quirk: <bos> is scored unless skipped), or generated
    let targetIds: number[]
    if (o.target === undefined) {
      const g = await generateGreedy(
        model,
        promptIds,
        {
          maxNewTokens: o.genArgs?.maxNewTokens ?? 25,
          stopTokens: stops.right,
          ...(o.maxPositions !== undefined ? { maxPositions: o.maxPositions } : {}),
          ...(basePrompt.inputs !== undefined ? { inputs: basePrompt.inputs } : {}),
        },
        passes,
      )
      if (E.isLeft(g)) return g
      targetIds = g.right.ids
    } else {
      const raw = typeof o.target === 'string' ? tokenizer.encode(o.target) : [...o.target]
      targetIds = raw.filter((id) => !skip.right.includes(id))
    }
    if (targetIds.length === 0) {
      return E.left(err('BadTarget', `the target has no tokens left to score${o.target !== undefined ? ` (target ${JSON.stringify(o.target)} after removing skipTokens)` : ''}: give a non-empty target`, ['target']))
    }
    for (const id of targetIds) {
      if (!Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize) return E.left(err('BadTarget', `target token id ${id} is outside the vocabulary (0..${tokenizer.vocabSize - 1})`, ['target']))
    }

    const prob = o.attrTarget === 'prob'
    const T = targetIds.length
    const K = method === 'Lime' || method === 'KernelShap' ? 1 : 1 + T
    const memo = new Map<string, Float64Array>()
    const rowOf = (lps: Float64Array): Float64Array => {
      const row = new Float64Array(1 + T)
      // the total accumulates in float32, as Captum sums a float32 tensor
      let total = Math.fround(0)
      for (let t = 0; t < T; t++) total = Math.fround(total + Math.fround(lps[t]!))
      row[0] = prob ? Math.exp(total) : total
      for (let t = 0; t < T; t++) row[1 + t] = prob ? Math.exp(lps[t]!) : lps[t]!
      return row
    }
    // the unperturbed prompt's scores (also the result's outputProbs)
    const base = await scorePrompts(model, [basePrompt], targetIds, scoring, passes)
    if (E.isLeft(base)) return base
    const M = input.nFeatures
    memo.set('1'.repeat(M), rowOf(base.right[0]!))

    let failure: AttributionError | undefined
    const scorer = fromFunction(async ([x]) => {
      const n = x!.shape[0]!
      const keys: string[] = []
      const todo = new Map<string, Prompt>()
      for (let r = 0; r < n; r++) {
        let k = ''
        for (let f = 0; f < M; f++) k += x!.data[r * M + f] === 1 ? '1' : '0'
        keys.push(k)
        if (!memo.has(k) && !todo.has(k)) {
          const present = Array.from(k, (ch) => (ch === '1' ? 1 : 0))
          todo.set(k, promptOf(present))
        }
      }
      if (todo.size > 0) {
        const ks = [...todo.keys()]
        const s = await scorePrompts(model, ks.map((k) => todo.get(k)!), targetIds, scoring, passes)
        if (E.isLeft(s)) {
          failure = s.left
          throw new Error(s.left.message)
        }
        ks.forEach((k, i) => memo.set(k, rowOf(s.right[i]!)))
      }
      const out = new Float32Array(n * K)
      keys.forEach((k, r) => {
        const row = memo.get(k)!
        for (let c = 0; c < K; c++) out[r * K + c] = row[c]!
      })
      return float32([n, K], out)
    })

    // one pipeline run explains every column: example k of a [K, M] batch of ones explains column k
    // (a per-example target), and all examples share the perturbations (and the random draws)
    const ones = float32([K, M], new Float32Array(K * M).fill(1))
    const target = Array.from({ length: K }, (_, c) => c)
    const sums = Array.from({ length: K }, () => new Float64Array(M))
    const nTrials = o.numTrials ?? 1
    const pipeline = pipelineFor(m.right, o)
    for (let trial = 0; trial < nTrials; trial++) {
      const r = await attribute(pipeline, scorer, ones, {
        target,
        baselines: 0,
        ...(STOCHASTIC.has(m.right) ? { seed: (o.seed ?? 0) + trial } : {}),
      })()
      if (E.isLeft(r)) return E.left(failure ?? r.left)
      const a = r.right.attributions[0]!
      for (let c = 0; c < K; c++) for (let f = 0; f < M; f++) sums[c]![f] = Math.fround(sums[c]![f]! + Number(a.data[c * M + f]))
    }
    // one column per label (a template mask's grouped values share their group's score)
    const cols = input.featureOfColumn
    const column = (c: number): Float32Array => Float32Array.from(cols, (f) => sums[c]![f]! / nTrials)
    const tokenAttr: HostTensor<'float32'> | null = K === 1 ? null : float32([T, cols.length], Float32Array.from(Array.from({ length: T }, (_, t) => [...column(1 + t)]).flat()))
    return E.right({
      result: {
        seqAttr: float32([cols.length], column(0)),
        tokenAttr,
        inputTokens: input.labels,
        outputTokens: prettyTokens(tokenizer, targetIds),
        targetIds,
        outputProbs: Array.from(base.right[0]!, (lp) => Math.exp(lp)),
      },
      info: { passes, promptsScored: memo.size },
    })
  }

/** {@link llmAttributionWithInfo} without the pass counts. */
export const llmAttribution = <T>(
  model: Model<T>,
  tokenizer: Tokenizer,
  method: LLMPerturbationMethod,
  input: InterpretableInput,
  options: LLMAttributionOptions = {},
): TE.TaskEither<AttributionError, LLMAttributionResult> =>
  TE.map((r: { readonly result: LLMAttributionResult }) => r.result)(llmAttributionWithInfo(model, tokenizer, method, input, options))

/**
 * Captum-style facade: `new LLMAttribution(model, tokenizer, 'FeatureAblation', { attrTarget:
 * 'prob' }).attribute(input, { target })`. Logic-free: it merges the constructor's options with the
 * call's and runs {@link llmAttribution}; a failure throws a {@link ClarusError} carrying the typed error.
 *
 * Captum: `LLMAttribution(FeatureAblation(model), tokenizer, attr_target='prob').attribute(inp, target=…)`.
 */
export class LLMAttribution<T> {
  constructor(
    readonly model: Model<T>,
    readonly tokenizer: Tokenizer,
    readonly method: LLMPerturbationMethod,
    readonly options: LLMAttributionOptions = {},
  ) {}
  async attribute(input: InterpretableInput, options: LLMAttributionOptions = {}): Promise<LLMAttributionResult> {
    const r = await llmAttribution(this.model, this.tokenizer, this.method, input, { ...this.options, ...options })()
    if (E.isLeft(r)) throw new ClarusError(r.left)
    return r.right
  }
}
