/**
 * A causal language model as LLM attribution uses it: any {@link Model} taking `input_ids` (int64
 * [batch, seq], plus optionally `attention_mask` and `position_ids`, filled in here) and returning
 * `logits` [batch, seq, vocab]. Three operations:
 *
 * - {@link scoreTargets}: the log-probability of each target token after each prompt, teacher-forced.
 *   `forwardInTokens: true` (Captum's way) runs one pass per target token on the growing sequence;
 *   `false` runs prompt + target through the model ONCE and reads every target position from that
 *   pass (a causal model's position p sees only tokens ≤ p, so both give the same numbers up to
 *   float rounding). Either way, prompts of equal length are batched into one call, in chunks that
 *   keep the logits under the memory budget.
 * - {@link generateGreedy}: greedy decoding (argmax, first index on ties), `maxNewTokens`, stop tokens.
 *
 * Log-softmax is taken in float64 on the host from the model's float32 logits.
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'

/** How sequences are scored. */
export interface ScoringOptions {
  /** Captum's default (true): one pass per target token; false: one teacher-forced pass for all. */
  readonly forwardInTokens?: boolean
  /** Longest sequence the model accepts (learned positions); longer ones are a typed error. */
  readonly maxPositions?: number
  /** Bytes the logits of one model call may take (default 256 MiB); sets the rows per call. */
  readonly memoryBudgetBytes?: number
  /**
   * Prompts of different lengths share a call, right-padded (default false: only equal lengths
   * share). Exact for a causal model, whose position p never sees later positions; an
   * `attention_mask` input gets 0 on the padding.
   */
  readonly padBatches?: boolean
}

const DEFAULT_BUDGET = 256 * 1024 * 1024

/** Counts the model calls made (for the pass-count figures and tests). */
export interface PassCounter {
  calls: number
  rows: number
}

/** Extra named model inputs of one prompt (e.g. `pixel_values`), each with a batch dim of 1. */
export type PromptInputs = Readonly<Record<string, HostTensor>>

/** A prompt: its token ids, and any other model inputs it comes with (an image for a multimodal LM). */
export interface Prompt {
  readonly ids: readonly number[]
  readonly inputs?: PromptInputs
}

/** Rows' extra inputs stacked along the batch dim (each row's tensor has batch dim 1). */
const stack = (ts: readonly HostTensor[]): HostTensor => {
  const per = ts[0]!.data.length
  const Ctor = ts[0]!.data.constructor as new (n: number) => { set(a: ArrayLike<number | bigint>, offset: number): void }
  const data = new Ctor(per * ts.length)
  ts.forEach((t, i) => data.set(t.data as ArrayLike<number | bigint>, i * per))
  return { dtype: ts[0]!.dtype, shape: [ts.length, ...ts[0]!.shape.slice(1)], data } as unknown as HostTensor
}

/** The model's inputs for `rows`, right-padded (id 0) to the longest. */
const inputFor = (model: Model<unknown>, rows: readonly (readonly number[])[], extras: readonly (PromptInputs | undefined)[]): E.Either<AttributionError, HostTensor[]> => {
  const n = rows.length
  const len = Math.max(...rows.map((r) => r.length))
  const ids = new BigInt64Array(n * len)
  rows.forEach((r, i) => r.forEach((v, j) => (ids[i * len + j] = BigInt(v))))
  const mask = new BigInt64Array(n * len)
  rows.forEach((r, i) => mask.fill(1n, i * len, i * len + r.length))
  const names = model.signature.inputs.map((i) => i.name)
  if (names.length === 0) return E.right([{ dtype: 'int64', shape: [n, len], data: ids }])
  const out: HostTensor[] = []
  for (const name of names) {
    if (name === 'input_ids') out.push({ dtype: 'int64', shape: [n, len], data: ids })
    else if (name === 'attention_mask') out.push({ dtype: 'int64', shape: [n, len], data: mask })
    else if (name === 'position_ids') {
      const p = new BigInt64Array(n * len)
      for (let i = 0; i < n; i++) for (let j = 0; j < len; j++) p[i * len + j] = BigInt(j)
      out.push({ dtype: 'int64', shape: [n, len], data: p })
    } else {
      const given = extras.map((x) => x?.[name])
      if (given.some((g) => g === undefined)) {
        return E.left(err('BadModel', `the causal LM has an input ${JSON.stringify(name)}; clarus fills input_ids, attention_mask and position_ids, and others must come with the prompt (e.g. an ImageMaskInput's pixel input)`, ['model', 'inputs', name]))
      }
      out.push(stack(given as HostTensor[]))
    }
  }
  return E.right(out)
}

/**
 * One batch of sequences, right-padded to the longest, through `run` (the model's forward or its
 * scoring head), read back to the host and checked to be float32 [rows, len, …] of rank `rank`
 * (`expected` names it in the error). Inputs and everything `run` returns are disposed.
 */
const runBatch = async <T>(
  model: Model<T>,
  rows: readonly (readonly number[])[],
  counter: PassCounter | undefined,
  extras: readonly (PromptInputs | undefined)[],
  run: (inputs: readonly T[]) => Promise<E.Either<AttributionError, { readonly result: T; readonly others: readonly T[] }>>,
  rank: number,
  expected: string,
): Promise<E.Either<AttributionError, HostTensor>> => {
  const feeds = inputFor(model as Model<unknown>, rows, extras)
  if (E.isLeft(feeds)) return feeds
  const b = model.backend
  const ts = feeds.right.map((h) => b.fromHost(h))
  try {
    const r = await run(ts)
    if (E.isLeft(r)) return r
    try {
      const out = await b.toHost(r.right.result)
      const len = Math.max(...rows.map((x) => x.length))
      if (out.dtype !== 'float32' || out.shape.length !== rank || out.shape[0] !== rows.length || out.shape[1] !== len) {
        return E.left(err('BadModel', `${expected}; got ${out.dtype} [${out.shape.join(', ')}] for input [${rows.length}, ${len}]`, ['model', 'outputs']))
      }
      if (counter) {
        counter.calls++
        counter.rows += rows.length
      }
      return E.right(out)
    } finally {
      b.dispose(r.right.result)
      for (const c of r.right.others) b.dispose(c)
    }
  } finally {
    for (const t of ts) b.dispose(t)
  }
}

/** Logits [rows, len, vocab] of one batch of sequences, right-padded to the longest (float32 host data). */
const logitsOf = async <T>(
  model: Model<T>,
  rows: readonly (readonly number[])[],
  counter: PassCounter | undefined,
  extras: readonly (PromptInputs | undefined)[] = [],
): Promise<E.Either<AttributionError, { data: Float32Array; vocab: number }>> => {
  const out = await runBatch(model, rows, counter, extras, async (ts) => {
    const r = await model.forward(ts)()
    if (E.isRight(r)) return E.right({ result: r.right.output, others: Object.values(r.right.captured) })
    // the usual cause on a causal LM: a sequence longer than its learned positions or causal-mask constant
    const hint = ` (the model ran on ${rows.length} sequence(s) of ${Math.max(...rows.map((x) => x.length))} tokens; if that is more positions than the model was built for, pass maxPositions to have it checked before any call)`
    return r.left._tag === 'BackendFailure' ? E.left({ ...r.left, message: r.left.message.trimEnd() + hint }) : r
  }, 3, 'a causal LM must return float32 logits [batch, seq, vocab]')
  return E.map((o: HostTensor) => ({ data: o.data as Float32Array, vocab: o.shape[2]! }))(out)
}

/**
 * Next-token log-probabilities [rows, len] of one batch (right-padded), from the model's own scoring
 * head (`Model.nextTokenLogProbs`): the logits stay where the model runs.
 */
const nextLogProbsOf = async <T>(
  model: Model<T>,
  head: NonNullable<Model<T>['nextTokenLogProbs']>,
  rows: readonly (readonly number[])[],
  counter: PassCounter | undefined,
  extras: readonly (PromptInputs | undefined)[],
): Promise<E.Either<AttributionError, Float32Array>> => {
  const out = await runBatch(model, rows, counter, extras, async (ts) => E.map((result: T) => ({ result, others: [] }))(await head.call(model, ts)()),
    2, "the model's next-token log-probabilities must be float32 [batch, seq]")
  return E.map((o: HostTensor) => o.data as Float32Array)(out)
}

/** log softmax(logits[off .. off+vocab])[id], in float64 (the vocabulary-wide sum is most of a scoring call's host time). */
const logProbAt = (data: Float32Array, off: number, vocab: number, id: number): number => {
  let max = -Infinity
  for (let v = off; v < off + vocab; v++) {
    const x = data[v]!
    if (x > max) max = x
  }
  let s = 0
  for (let v = off; v < off + vocab; v++) s += Math.exp(data[v]! - max)
  return data[off + id]! - max - Math.log(s)
}

const checkLength = (len: number, o: ScoringOptions, what: string): E.Either<AttributionError, void> =>
  o.maxPositions !== undefined && len > o.maxPositions
    ? E.left(err('BadTarget', `${what} is ${len} tokens long, but the model takes at most ${o.maxPositions} positions: shorten the prompt or the target (or maxNewTokens)`, ['target']))
    : E.right(undefined)

/** Rows per call so that rows × len × vocab float32 logits fit the budget (at least 1). */
const rowsPerCall = (len: number, vocab: number, o: ScoringOptions): number => Math.max(1, Math.floor((o.memoryBudgetBytes ?? DEFAULT_BUDGET) / (4 * len * Math.max(vocab, 1))))

/**
 * Teacher-forced log-probabilities: for each prompt, `[lp₁, …, lp_T]` with lp_t = log p(target_t |
 * prompt, target_<t). Prompts of equal length share model calls.
 */
export const scoreTargets = <T>(
  model: Model<T>,
  prompts: readonly (readonly number[])[],
  target: readonly number[],
  options: ScoringOptions = {},
  counter?: PassCounter,
): Promise<E.Either<AttributionError, Float64Array[]>> => scorePrompts(model, prompts.map((ids) => ({ ids })), target, options, counter)

const shapeKey = (p: Prompt, padded: boolean): string =>
  `${padded ? '' : p.ids.length}|${Object.entries(p.inputs ?? {})
    .map(([k, v]) => `${k}:${v.dtype}[${v.shape.join(',')}]`)
    .sort()
    .join(';')}`

/** {@link scoreTargets} for prompts that carry other model inputs too; prompts of equal length and input shapes share calls. */
export const scorePrompts = async <T>(
  model: Model<T>,
  prompts: readonly Prompt[],
  target: readonly number[],
  options: ScoringOptions = {},
  counter?: PassCounter,
): Promise<E.Either<AttributionError, Float64Array[]>> => {
  const T = target.length
  if (T === 0) return E.left(err('BadTarget', 'the target has no tokens to score', ['target']))
  const out: Float64Array[] = prompts.map(() => new Float64Array(T))
  const groups = new Map<string, number[]>()
  prompts.forEach((p, i) => {
    const k = shapeKey(p, options.padBatches === true)
    const g = groups.get(k)
    if (g) g.push(i)
    else groups.set(k, [i])
  })
  // the vocabulary size sets the rows per call; until a call tells it (or the signature does), one row at a time
  const declared = model.signature.outputs[0]?.shape.at(-1)
  let knownVocab: number | undefined = typeof declared === 'number' ? declared : undefined
  // a scoring head, where the model has one and declares [batch, seq, vocab] logits, or declares no output shape
  const rank = model.signature.outputs[0]?.shape.length ?? 0
  let head = rank === 3 || rank === 0 ? model.nextTokenLogProbs : undefined
  if (head !== undefined && knownVocab !== undefined) {
    for (const id of target) if (id < 0 || id >= knownVocab) return E.left(err('BadTarget', `target token id ${id} is outside the model's vocabulary (0..${knownVocab - 1})`, ['target']))
  }
  for (const group of groups.values()) {
    // longest first, so each padded chunk holds similar lengths
    const members = [...group].sort((a, b) => prompts[b]!.ids.length - prompts[a]!.ids.length)
    for (const i of members) {
      const L = prompts[i]!.ids.length
      if (L === 0) return E.left(err('EmptyInput', 'a prompt has no tokens: the model needs at least one token to predict from', ['input']))
      const long = checkLength(L + T - 1, options, `the prompt plus the target (${L} + ${T} − 1)`)
      if (E.isLeft(long)) return long
    }
    // one pass over prompt + target[0..T−2], or T passes over prompt + target[0..t−1]
    const steps = options.forwardInTokens === false ? [T - 1] : Array.from({ length: T }, (_, t) => t)
    for (const t0 of steps) {
      // the target tokens this pass scores: all of them in one teacher-forced pass, else the last
      const scored = options.forwardInTokens === false ? Array.from({ length: T }, (_, t) => t) : [t0]
      // row r's position L−1+t predicts target_t (padding, if any, comes after it)
      const fill = (idx: readonly number[], at: (r: number, pos: number, t: number) => number): void =>
        idx.forEach((i, r) => {
          const L = prompts[i]!.ids.length
          for (const t of scored) out[i]![t] = at(r, L - 1 + t, t)
        })
      for (let c = 0; c < members.length; ) {
        const len = prompts[members[c]!]!.ids.length + t0
        const chunk = knownVocab === undefined ? 1 : rowsPerCall(len, knownVocab, options)
        const start = c
        const idx = members.slice(c, c + chunk)
        c += chunk
        if (head !== undefined && knownVocab !== undefined) {
          // the model scores next tokens itself: feed one more token, the one position L−1+t predicts
          const rows = idx.map((i) => [...prompts[i]!.ids, ...target.slice(0, t0 + 1)])
          const lp = await nextLogProbsOf(model, head, rows, counter, idx.map((i) => prompts[i]!.inputs))
          if (E.isLeft(lp) && lp.left._tag === 'BackendFailure') {
            // e.g. one more position than the model was built for: score this and later chunks from the logits
            head = undefined
            c = start
            continue
          }
          if (E.isLeft(lp)) return lp
          fill(idx, (r, pos) => lp.right[r * (len + 1) + pos]!)
          continue
        }
        const rows = idx.map((i) => [...prompts[i]!.ids, ...target.slice(0, t0)])
        const lg = await logitsOf(model, rows, counter, idx.map((i) => prompts[i]!.inputs))
        if (E.isLeft(lg)) return lg
        const { data, vocab } = lg.right
        knownVocab = vocab
        for (const id of target) if (id < 0 || id >= vocab) return E.left(err('BadTarget', `target token id ${id} is outside the model's vocabulary (0..${vocab - 1})`, ['target']))
        fill(idx, (r, pos, t) => logProbAt(data, (r * len + pos) * vocab, vocab, target[t]!))
      }
    }
  }
  return E.right(out)
}

/** Options of {@link generateGreedy}. */
export interface GenerateOptions {
  /** How many tokens to generate at most (Captum's default `max_new_tokens` is 25). */
  readonly maxNewTokens: number
  /** Generation stops after producing one of these ids (the stop token is kept, as Hugging Face does). */
  readonly stopTokens?: readonly number[]
  readonly maxPositions?: number
  /** Other model inputs of the prompt (see {@link Prompt}). */
  readonly inputs?: PromptInputs
}

/** The greedy continuation of `prompt`, with each step's top-1 minus top-2 logit (its decision margin). */
export const generateGreedy = async <T>(
  model: Model<T>,
  prompt: readonly number[],
  options: GenerateOptions,
  counter?: PassCounter,
): Promise<E.Either<AttributionError, { ids: number[]; margins: number[] }>> => {
  if (prompt.length === 0) return E.left(err('EmptyInput', 'cannot generate from an empty prompt', ['input']))
  const long = checkLength(prompt.length + options.maxNewTokens - 1, options, `the prompt plus maxNewTokens − 1 (${prompt.length} + ${options.maxNewTokens} − 1)`)
  if (E.isLeft(long)) return long
  const seq = [...prompt]
  const ids: number[] = []
  const margins: number[] = []
  const stop = new Set(options.stopTokens ?? [])
  for (let k = 0; k < options.maxNewTokens; k++) {
    const lg = await logitsOf(model, [seq], counter, [options.inputs])
    if (E.isLeft(lg)) return lg
    const { data, vocab } = lg.right
    const off = (seq.length - 1) * vocab
    let best = 0
    let second = -Infinity
    for (let v = 1; v < vocab; v++) {
      // strict > keeps the first index on ties, as torch.argmax does
      if (data[off + v]! > data[off + best]!) {
        second = data[off + best]!
        best = v
      } else if (data[off + v]! > second) second = data[off + v]!
    }
    ids.push(best)
    margins.push(data[off + best]! - second)
    seq.push(best)
    if (stop.has(best)) break
  }
  return E.right({ ids, margins })
}
