/**
 * LLM attribution by gradients at the embedding output: how much each prompt token contributes to
 * the log-probability of each target token, log p(target_t | prompt, target[:t]), for a causal LM
 * that maps token ids [batch, seq] to logits [batch, seq, vocabulary].
 *
 * Methods (the attribution a of position p for target token t, summed over the embedding dims d):
 * - `LayerIntegratedGradients`: (a(x) − a(b))_{p,d} · Σ_k w_k ∂ log p_t / ∂a_{p,d} at
 *   a(b) + α_k (a(x) − a(b)) (Sundararajan et al. 2017, arXiv:1703.01365), b = the baseline prompt;
 * - `LayerGradientXActivation`: a(x)_{p,d} · ∂ log p_t / ∂a_{p,d} at a(x);
 * - `LayerGradientShap`: the mean over `nSamples` draws of (a(x) − a(b))_{p,d} · ∂ log p_t / ∂a_{p,d}
 *   at a(b) + α (a(x) − a(b)), b drawn uniformly from `baselines`, α ~ U(0, 1)
 *   (Lundberg & Lee 2017, arXiv:1705.07874).
 * `seqAttr` = Σ_t tokenAttr[t] (the attribution of the whole target's log-probability).
 *
 * Passes: ONE teacher-forced sequence prompt + target[:T−1] serves every target token (see
 * `llmGradientCore.ts`): per chunk of path points one forward (K rows) and one vjp (K·T rows, row
 * (k, t) seeded only at token t's position), plus one endpoint forward. For IG with n steps and one
 * chunk that is 2 forwards and 1 vjp, against Captum's T attribution calls (3T model calls, with
 * T·n forward+backward rows on sequences up to the same length).
 *
 * Captum: `LLMGradientAttribution(LayerIntegratedGradients(model, emb) | LayerGradientXActivation(…)
 * | LayerGradientShap(…), tokenizer).attribute(TextTokenInput, target, skip_tokens, gen_args,
 * **kwargs)`, Captum 0.8.0 semantics: a string target is encoded WITH special tokens, and ids in
 * `skipTokens` are removed from it. Differences: LayerGradientShap interpolates the embedding, where
 * Captum interpolates the 0/1 feature vector, which TextTokenInput turns into the baseline token for
 * every α < 1 (so Captum's gradient is always taken at a(b)); `stdevs` is not offered (noise on token
 * ids has no meaning); `outputProbs` holds p(target_t) under the prompt (Captum 0.8.0: None).
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith, Integer, PositiveInt } from '../core/codecs.js'
import { ClarusError, err, invalidSpec, type AttributionError } from '../core/errors.js'
import { foldIn, keyOf, uniforms } from '../core/random.js'
import { float32 } from '../core/tensor.js'
import { checkSteps, quadrature, QuadratureRule, StepCount } from '../dsl/quadratureRules.js'
import { TokenRef, type InterpretableInput } from './inputs.js'
import { embeddingPathAttribution, type PassCount, type PathPoint } from './llmGradientCore.js'
import { generateGreedy } from './causalLm.js'
import { GenArgs } from './llmAttribution.js'
import { embeddingLayerOf, tokenPositions } from './llmGradientInput.js'
import { prettyTokens } from './prettyTokens.js'
import type { LLMAttributionResult, Tokenizer } from './types.js'

/** The gradient methods {@link llmGradientAttribution} wraps (Captum's class names). */
export const LLMGradientMethod = t.keyof({ LayerIntegratedGradients: null, LayerGradientXActivation: null, LayerGradientShap: null })
export type LLMGradientMethod = t.TypeOf<typeof LLMGradientMethod>

/**
 * Options of {@link llmGradientAttribution}. Method options apply only to their methods (another
 * method given one is an `InvalidSpec`):
 *
 * | option | methods | default | meaning |
 * |---|---|---|---|
 * | `layer` | all | the Gather/embedding reading the ids | the embedding output tensor |
 * | `target` | all | generated | a string (encoded with special tokens) or token ids |
 * | `genArgs` | all | `{ maxNewTokens: 25 }` | greedy continuation (`maxNewTokens`, `stopTokens`) when `target` is absent |
 * | `skipTokens` | all | none | ids or token strings removed from the target |
 * | `nSteps`, `method` | IG | 50, `gausslegendre` | quadrature of the path integral |
 * | `multiplyByInputs` | all | true | × (a(x) − a(b)) (IG, GradientShap) or × a(x) (G×A) |
 * | `baselines` | IG (one), GradientShap | the input's baseline | a token for every feature, or one token per feature |
 * | `nSamples`, `seed` | GradientShap | 5, 0 | draws of (baseline, α) |
 * | `internalBatchSize` | all | from the budget | most (point, token) rows per backward call |
 * | `memoryBudgetBytes` | all | 256 MiB | bytes of logits + seeds one backward call may hold (sets the rows when `internalBatchSize` is absent) |
 * | `maxPositions` | all | none | most positions the model takes; prompt + target − 1 must fit (checked up front) |
 */
export const LLMGradientOptions = t.readonly(
  t.partial({
    layer: t.string,
    target: t.union([t.string, t.readonlyArray(Integer)]),
    genArgs: GenArgs,
    skipTokens: t.readonlyArray(TokenRef),
    nSteps: StepCount,
    method: QuadratureRule,
    multiplyByInputs: t.boolean,
    baselines: t.readonlyArray(t.union([TokenRef, t.readonlyArray(TokenRef)])),
    nSamples: PositiveInt,
    seed: Integer,
    internalBatchSize: PositiveInt,
    memoryBudgetBytes: PositiveInt,
    maxPositions: PositiveInt,
  }),
)
export type LLMGradientOptions = t.TypeOf<typeof LLMGradientOptions>

/** {@link LLMAttributionResult} plus how many model calls and rows the run took. */
export interface LLMGradientResult extends LLMAttributionResult {
  readonly passes: PassCount
}

const ONLY: Readonly<Record<string, readonly LLMGradientMethod[]>> = {
  nSteps: ['LayerIntegratedGradients'],
  method: ['LayerIntegratedGradients'],
  baselines: ['LayerIntegratedGradients', 'LayerGradientShap'],
  nSamples: ['LayerGradientShap'],
  seed: ['LayerGradientShap'],
}

const idOf = (tok: Tokenizer, ref: TokenRef, path: readonly string[]): E.Either<AttributionError, number> => {
  if (typeof ref === 'number') return ref >= 0 && ref < tok.vocabSize ? E.right(ref) : E.left(invalidSpec([{ path, message: `token id ${ref} is outside the vocabulary (0..${tok.vocabSize - 1})` }]))
  const id = tok.tokenToId(ref)
  return id !== undefined ? E.right(id) : E.left(invalidSpec([{ path, message: `token ${JSON.stringify(ref)} is not in the tokenizer's vocabulary` }]))
}

/** The baseline prompts (model ids) for the `baselines` option, or the input's own baseline. */
const baselinePrompts = (
  o: LLMGradientOptions,
  tok: Tokenizer,
  promptIds: readonly number[],
  positions: readonly number[],
  inputBaseline: readonly number[],
): E.Either<AttributionError, number[][]> => {
  if (o.baselines === undefined) return E.right([[...inputBaseline]])
  const out: number[][] = []
  for (const [i, bl] of o.baselines.entries()) {
    const at = ['baselines', String(i)]
    const refs = Array.isArray(bl) ? (bl as readonly TokenRef[]) : positions.map(() => bl as TokenRef)
    if (refs.length !== positions.length) return E.left(err('BadBaseline', `baseline ${i} gives ${refs.length} tokens; the input has ${positions.length} features`, at))
    const ids = [...promptIds]
    for (const [f, r] of refs.entries()) {
      const id = idOf(tok, r, [...at, String(f)])
      if (E.isLeft(id)) return id
      ids[positions[f]!] = id.right
    }
    out.push(ids)
  }
  return E.right(out)
}

/** The path points of each method (weights sum to the mean / the integral). */
const pathPoints = (method: LLMGradientMethod, o: LLMGradientOptions, nBaselines: number): E.Either<AttributionError, PathPoint[]> => {
  if (method === 'LayerGradientXActivation') return E.right([{ baseline: 0, alpha: 1, weight: 1 }])
  if (method === 'LayerIntegratedGradients') {
    const q = quadrature(o.method ?? 'gausslegendre', o.nSteps ?? 50)
    if (typeof q === 'string') return E.left(invalidSpec([{ path: ['nSteps'], message: q }]))
    return E.right(Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! })))
  }
  const n = o.nSamples ?? 5
  const key = keyOf(o.seed ?? 0)
  return E.right(
    Array.from({ length: n }, (_, s) => {
      const u = uniforms(foldIn(key, s), 2)
      return { baseline: Math.min(nBaselines - 1, Math.floor(u[0]! * nBaselines)), alpha: u[1]!, weight: 1 / n }
    }),
  )
}

/**
 * Attributes the log-probabilities of a causal LM's target tokens to the prompt tokens of a
 * TextTokenInput by `method` at the embedding output. Returns Captum's result fields: `seqAttr`
 * [features], `tokenAttr` [T, features], `inputTokens`, `outputTokens`, `targetIds`, `outputProbs`
 * (p of each target token under the prompt, teacher-forced), and the `passes` the run took.
 *
 * @example
 * const r = await llmGradientAttribution(model, tokenizer, 'LayerIntegratedGradients', input, { target: 'and the bird sang', skipTokens: ['<bos>'] })()
 */
export const llmGradientAttribution = <T>(
  model: Model<T>,
  tokenizer: Tokenizer,
  method: LLMGradientMethod,
  input: InterpretableInput,
  options: LLMGradientOptions = {},
): TE.TaskEither<AttributionError, LLMGradientResult> => async () => {
  const m = decodeWith(LLMGradientMethod, method, ['method'])
  if (E.isLeft(m)) return m
  const od = decodeWith(LLMGradientOptions, options)
  if (E.isLeft(od)) return od
  const o = od.right
  const issues: { path: string[]; message: string }[] = []
  for (const [k, allowed] of Object.entries(ONLY)) {
    if ((o as Record<string, unknown>)[k] !== undefined && !allowed.includes(m.right)) issues.push({ path: [k], message: `${m.right} takes no ${k} (only ${allowed.join(', ')})` })
  }
  if (m.right === 'LayerIntegratedGradients' && o.baselines !== undefined && o.baselines.length !== 1) issues.push({ path: ['baselines'], message: `LayerIntegratedGradients integrates from one baseline; got ${o.baselines.length}` })
  const steps = m.right === 'LayerIntegratedGradients' ? checkSteps(o.method ?? 'gausslegendre', o.nSteps ?? 50) : undefined
  if (steps !== undefined) issues.push({ path: ['nSteps'], message: steps })
  if (o.baselines?.length === 0) issues.push({ path: ['baselines'], message: 'give at least one baseline, or leave baselines out to use the input\'s' })
  if (issues.length > 0) return E.left(invalidSpec(issues))
  if (o.target !== undefined && o.genArgs !== undefined) return E.left(err('BadTarget', 'give either a target or genArgs (generation arguments are for the case without a target)', ['genArgs']))

  const pos = tokenPositions(input, tokenizer)
  if (E.isLeft(pos)) return pos
  const { promptIds, baselineIds, positions } = pos.right
  const layer = o.layer !== undefined ? E.right(o.layer) : embeddingLayerOf(model)
  if (E.isLeft(layer)) return layer

  const skip = new Set<number>()
  for (const [i, s] of (o.skipTokens ?? []).entries()) {
    const id = idOf(tokenizer, s, ['skipTokens', String(i)])
    if (E.isLeft(id)) return id
    skip.add(id.right)
  }
  let targetIds: number[]
  if (o.target === undefined) {
    const stops: number[] = []
    for (const [i, s] of (o.genArgs?.stopTokens ?? []).entries()) {
      const id = idOf(tokenizer, s, ['genArgs', 'stopTokens', String(i)])
      if (E.isLeft(id)) return id
      stops.push(id.right)
    }
    const g = await generateGreedy(model, promptIds, { maxNewTokens: o.genArgs?.maxNewTokens ?? 25, stopTokens: stops, ...(o.maxPositions !== undefined ? { maxPositions: o.maxPositions } : {}) })
    if (E.isLeft(g)) return g
    targetIds = g.right.ids
  } else {
    const raw = typeof o.target === 'string' ? tokenizer.encode(o.target) : [...o.target]
    targetIds = raw.filter((id) => !skip.has(id))
    if (targetIds.length === 0) return E.left(err('BadTarget', `the target ${JSON.stringify(o.target)} has no tokens left once skipTokens are removed: give a non-empty target`, ['target']))
  }
  const badId = targetIds.find((id) => !(Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize))
  if (badId !== undefined) return E.left(err('BadTarget', `target token id ${badId} is outside the vocabulary (0..${tokenizer.vocabSize - 1})`, ['target']))
  if (o.maxPositions !== undefined && promptIds.length + targetIds.length - 1 > o.maxPositions) {
    return E.left(err('BadTarget', `the prompt plus the target minus its last token is ${promptIds.length + targetIds.length - 1} tokens long, but the model takes at most ${o.maxPositions} positions: shorten the prompt or the target`, ['target']))
  }

  const baselines = m.right === 'LayerGradientXActivation' ? E.right('zero' as const) : baselinePrompts(o, tokenizer, promptIds, positions, baselineIds)
  if (E.isLeft(baselines)) return baselines
  const points = pathPoints(m.right, o, baselines.right === 'zero' ? 1 : baselines.right.length)
  if (E.isLeft(points)) return points
  const r = await embeddingPathAttribution(model, {
    layer: layer.right,
    promptIds,
    targetIds,
    baselines: baselines.right,
    points: points.right,
    multiplyByInputs: o.multiplyByInputs ?? true,
    ...(o.internalBatchSize !== undefined ? { maxRowsPerPass: o.internalBatchSize } : {}),
    ...(o.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: o.memoryBudgetBytes } : {}),
  })()
  if (E.isLeft(r)) return r

  // keep the feature columns; accumulate in float64, report float32 (Captum's dtype)
  const T = targetIds.length
  const F = positions.length
  const P = promptIds.length
  const tokenAttr = new Float32Array(T * F)
  const seq = new Float64Array(F)
  for (let tt = 0; tt < T; tt++) {
    positions.forEach((p, f) => {
      const v = Math.fround(r.right.tokenAttr[tt * P + p]!)
      tokenAttr[tt * F + f] = v
      seq[f]! += v
    })
  }
  return E.right({
    seqAttr: float32([F], seq),
    tokenAttr: float32([T, F], tokenAttr),
    inputTokens: [...input.labels],
    outputTokens: prettyTokens(tokenizer, targetIds),
    targetIds,
    outputProbs: Array.from(r.right.logProbs, Math.exp),
    passes: r.right.passes,
  })
}

/**
 * Captum-style facade: `new LLMGradientAttribution(model, tokenizer, 'LayerIntegratedGradients',
 * { layer }).attribute(input, { target, nSteps })`. Logic-free: it merges the constructor's options
 * with the call's and runs {@link llmGradientAttribution}; a failure throws a {@link ClarusError}
 * carrying the typed error.
 *
 * Captum: `LLMGradientAttribution(LayerIntegratedGradients(model, model.emb), tokenizer).attribute(inp, target=…, n_steps=…)`.
 */
export class LLMGradientAttribution<T> {
  constructor(
    readonly model: Model<T>,
    readonly tokenizer: Tokenizer,
    readonly method: LLMGradientMethod,
    readonly options: LLMGradientOptions = {},
  ) {}
  async attribute(input: InterpretableInput, options: LLMGradientOptions = {}): Promise<LLMGradientResult> {
    const r = await llmGradientAttribution(this.model, this.tokenizer, this.method, input, { ...this.options, ...options })()
    if (E.isLeft(r)) throw new ClarusError(r.left)
    return r.right
  }
}
