/**
 * The gradient core of {@link llmGradientAttribution}: per-target-token embedding attributions of a
 * causal LM over token ids, for every path method that integrates ∂ log p(target_t) / ∂a along
 * points a(b) + α (a(x) − a(b)) of the embedding output a (Layer Integrated Gradients: quadrature
 * nodes; LayerGradientShap: random baselines and α; LayerGradientXActivation: the one point α = 1).
 *
 * Why not Captum's scheme. Captum makes one full attribution call per target token t, on the
 * sequence prompt + target[:t] (T calls, T × points forward/backward rows). Here ONE teacher-forced
 * sequence s = prompt + target[:T−1] serves every token: with causal masking, the logits at position
 * P + t − 1 of s equal the last-position logits of prompt + target[:t], and the target positions'
 * embeddings are the same for input and baseline (so they stay put on the path). The explained
 * scalar log p(target_t) = log_softmax(z_{P+t−1})[target_t] is not linear in the output, but its
 * cotangent on the logits is onehot(target_t) − softmax(z_{P+t−1}): a value-dependent seed. So
 * for a chunk of path points
 *
 *   1. one forward over the K points (K rows, the embedding injected) gives softmax(z) at every
 *      position, hence the seeds of all T tokens at once;
 *   2. one vjp over K·T rows (each point replicated once per token, row (k, t) seeded only at
 *      position P + t − 1) gives every token's gradient at every point. One vjp cannot seed all T
 *      positions of one row: it would return the gradient of their sum.
 *
 * Passes per chunk: 1 forward + 1 vjp, plus one forward for the endpoints a(x), a(b) (which also
 * gives the target's log-probs under the prompt). Points at α = 1 (and α = 0 on a real baseline)
 * reuse the endpoint logits and need no forward of their own. Captum: 3 model calls per target
 * token for LayerIntegratedGradients (two layer-eval forwards and one forward+backward over
 * n_steps rows), i.e. 3T calls and T·(n_steps + 2) forward rows.
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Model } from '../core/backend.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import { int32, int64, sizeOf, type HostTensor } from '../core/tensor.js'

/** One point of the path: which baseline, how far along (α), and its weight in the sum. */
export interface PathPoint {
  readonly baseline: number
  readonly alpha: number
  readonly weight: number
}

/** What the core attributes (all ids already resolved; see `llmGradient.ts` for the options). */
export interface EmbeddingPathPlan {
  /** The embedding output tensor (one vector per position): [batch, seq, …]. */
  readonly layer: string
  /** Prompt ids (P ≥ 1), as the model receives them (skipped tokens included). */
  readonly promptIds: readonly number[]
  /** Target ids (T ≥ 1), teacher-forced after the prompt. */
  readonly targetIds: readonly number[]
  /**
   * Baseline prompts (each P ids), as layer endpoints a(b); `'zero'`: one baseline whose embedding
   * is 0 (gradient × activation).
   */
  readonly baselines: readonly (readonly number[])[] | 'zero'
  readonly points: readonly PathPoint[]
  /** × (a(x) − a(b)) before summing over the embedding dims (Captum's `multiply_by_inputs`). */
  readonly multiplyByInputs: boolean
  /** Most rows (one sequence each) in one vjp call; default: as many as {@link memoryBudgetBytes} allows. */
  readonly maxRowsPerPass?: number
  /**
   * Bytes the logits and seeds of one vjp call may take (float32 [rows, seq, vocabulary] each;
   * default {@link DEFAULT_BUDGET}); sets the rows per call when `maxRowsPerPass` is not given.
   */
  readonly memoryBudgetBytes?: number
}

/** How many model calls and rows a run took. */
export interface PassCount {
  readonly forwardCalls: number
  readonly forwardRows: number
  readonly vjpCalls: number
  readonly vjpRows: number
}

export interface EmbeddingPathResult {
  /** [T, P] row-major: token t's attribution of each prompt position (summed over the embedding). */
  readonly tokenAttr: Float64Array
  /** log p(target_t | prompt, target[:t]) for the unperturbed prompt, [T]. */
  readonly logProbs: Float64Array
  readonly passes: PassCount
}

/** Default bytes for one vjp call's logits and seeds: 256 MiB (tinylm fits thousands of rows; a 50k vocabulary, tens). */
export const DEFAULT_BUDGET = 256 * 1024 * 1024

/** The extra inputs an exported causal LM may take, filled for an all-ones, unpadded batch. */
const FILLED_INPUTS = new Set(['attention_mask', 'position_ids'])

const idsTensor = (dtype: 'int32' | 'int64', rows: number, seq: readonly number[]): HostTensor => {
  const data = new Array<number>(rows * seq.length)
  for (let r = 0; r < rows; r++) for (let i = 0; i < seq.length; i++) data[r * seq.length + i] = seq[i]!
  return dtype === 'int32' ? int32([rows, seq.length], data) : int64([rows, seq.length], data)
}

/** The model's inputs for `rows` copies of `seqs` (ids first, then mask / positions if it takes them). */
const feedsFor = <T>(model: Model<T>, seqs: readonly (readonly number[])[]): E.Either<AttributionError, T[]> => {
  const ins = model.signature.inputs
  // a model that declares no inputs (a tfjs function) takes the ids alone
  const first = ins[0] ?? { name: 'input_ids', dtype: 'int64' as const }
  const dtype = first.dtype === 'int32' ? 'int32' : first.dtype === 'int64' ? 'int64' : undefined
  if (dtype === undefined) {
    return E.left(err('DTypeMismatch', `the model's first input ${JSON.stringify(first.name)} is ${first.dtype}; a causal LM takes integer token ids (int32 or int64)`, ['model', 'inputs', '0']))
  }
  const others = ins.slice(1).filter((i) => !FILLED_INPUTS.has(i.name))
  if (others.length > 0) {
    return E.left(err('Unsupported', `the model takes inputs clarus cannot fill for a causal LM: ${others.map((o) => JSON.stringify(o.name)).join(', ')} (known: token ids first, then attention_mask, position_ids)`, ['model', 'inputs']))
  }
  const L = seqs[0]!.length
  const flat = seqs.flat()
  const b = model.backend
  const feeds: T[] = [b.fromHost(dtype === 'int32' ? int32([seqs.length, L], flat) : int64([seqs.length, L], flat))]
  for (const extra of ins.slice(1)) {
    const pos = Array.from({ length: L }, (_, i) => i)
    const one = extra.name === 'attention_mask' ? new Array<number>(L).fill(1) : pos
    const xd = extra.dtype === 'int32' ? 'int32' : 'int64'
    feeds.push(b.fromHost(idsTensor(xd, seqs.length, one)))
  }
  return E.right(feeds)
}

const float32Of = (h: HostTensor, what: string): E.Either<AttributionError, Float32Array> =>
  h.data instanceof Float32Array ? E.right(h.data) : E.left(err('DTypeMismatch', `${what} is ${h.dtype}; expected float32`, ['model']))

/** Softmax of `V` logits at `off` (float64, max-shifted), and the log-prob of `id`. */
const softmaxAt = (z: Float32Array, off: number, V: number, id: number): { p: Float64Array; logp: number } => {
  let m = -Infinity
  for (let v = 0; v < V; v++) m = Math.max(m, z[off + v]!)
  const p = new Float64Array(V)
  let s = 0
  for (let v = 0; v < V; v++) s += p[v] = Math.exp(z[off + v]! - m)
  for (let v = 0; v < V; v++) p[v]! /= s
  return { p, logp: z[off + id]! - m - Math.log(s) }
}

/**
 * Runs the plan: one endpoint forward, then per chunk of (point, token) rows one forward over the
 * chunk's points and one vjp over its rows. Every backend tensor made here is disposed here.
 */
export const embeddingPathAttribution = <T>(model: Model<T>, plan: EmbeddingPathPlan): TE.TaskEither<AttributionError, EmbeddingPathResult> => async () => {
  const b = model.backend
  const { layer, promptIds, targetIds, points } = plan
  const P = promptIds.length
  const Tn = targetIds.length
  if (P === 0) return E.left(err('EmptyInput', 'the prompt has no tokens; the first target token needs at least one prompt position to be predicted from', ['input']))
  if (Tn === 0) return E.left(err('EmptyInput', 'the target has no tokens (after skipTokens); give a non-empty target or genArgs', ['target']))
  if (points.length === 0) return E.left(err('EmptyInput', 'the path has no points', ['points']))
  if (!model.signature.layers.includes(layer)) {
    return E.left(err('UnknownTensor', `no layer named ${JSON.stringify(layer)} in the model; give the embedding output (a tensor of signature.layers)`, ['layer']))
  }
  const isId = (id: number): boolean => Number.isInteger(id) && id >= 0
  const badPrompt = promptIds.findIndex((id) => !isId(id))
  if (badPrompt >= 0) return E.left(invalidSpec([{ path: ['input', String(badPrompt)], message: `prompt token ${promptIds[badPrompt]} is not a token id (a non-negative integer)` }]))
  const badTarget = targetIds.findIndex((id) => !isId(id))
  if (badTarget >= 0) return E.left(err('BadTarget', `target token ${targetIds[badTarget]} (position ${badTarget}) is not a token id (a non-negative integer)`, ['target', String(badTarget)]))
  // the last target token is only predicted, never read: the sequence stops before it (P + T − 1 positions, as Captum's longest call)
  const forced = targetIds.slice(0, -1)
  const seq = [...promptIds, ...forced]
  const L = seq.length
  const realBaselines = plan.baselines === 'zero' ? [] : plan.baselines
  const nB = plan.baselines === 'zero' ? 1 : realBaselines.length
  for (const [i, bl] of realBaselines.entries()) {
    if (bl.length !== P) return E.left(err('BadBaseline', `baseline ${i} has ${bl.length} ids; it must have one per prompt token (${P})`, ['baselines', String(i)]))
    if (!bl.every(isId)) return E.left(err('BadBaseline', `baseline ${i} holds a value that is not a token id (a non-negative integer)`, ['baselines', String(i)]))
  }
  for (const [i, pt] of points.entries()) {
    if (!(Number.isInteger(pt.baseline) && pt.baseline >= 0 && pt.baseline < nB)) {
      return E.left(err('BadBaseline', `path point ${i} names baseline ${pt.baseline}; there are ${nB}`, ['points', String(i)]))
    }
  }
  const passes = { forwardCalls: 0, forwardRows: 0, vjpCalls: 0, vjpRows: 0 }
  const owned: T[] = []
  const keep = <X extends T>(x: X): X => {
    owned.push(x)
    return x
  }
  const release = (): void => {
    for (const x of owned.splice(0)) b.dispose(x)
  }
  try {
    // Endpoints: a(x) and a(b) per baseline, and the logits of x and of each baseline.
    const endSeqs = [seq, ...realBaselines.map((bl) => [...bl, ...forced])]
    const endFeeds = feedsFor(model, endSeqs)
    if (E.isLeft(endFeeds)) return endFeeds
    endFeeds.right.forEach(keep)
    const ends = await model.forward(endFeeds.right, { capture: [layer] })()
    passes.forwardCalls++
    passes.forwardRows += endSeqs.length
    if (E.isLeft(ends)) return ends
    keep(ends.right.output)
    const capturedT = ends.right.captured[layer]
    if (capturedT === undefined) return E.left(err('UnknownTensor', `the model did not return the layer ${JSON.stringify(layer)}`, ['layer']))
    keep(capturedT)
    const aHost = await b.toHost(capturedT)
    const zHost = await b.toHost(ends.right.output)
    release()
    if (aHost.shape.length < 3 || aHost.shape[1] !== L) {
      return E.left(err('ShapeMismatch', `the layer ${JSON.stringify(layer)} has shape [${aHost.shape.join(', ')}]; the embedding output must be [batch, seq (${L}), …]: one vector per position`, ['layer']))
    }
    if (zHost.shape.length !== 3 || zHost.shape[1] !== L) {
      return E.left(err('ShapeMismatch', `the model output has shape [${zHost.shape.join(', ')}]; a causal LM returns logits [batch, seq (${L}), vocabulary]`, ['model', 'outputs']))
    }
    const a = float32Of(aHost, `the layer ${layer}`)
    const z0 = float32Of(zHost, 'the model output')
    if (E.isLeft(a)) return a
    if (E.isLeft(z0)) return z0
    const V = zHost.shape[2]!
    const bad = targetIds.findIndex((id) => !(Number.isInteger(id) && id >= 0 && id < V))
    if (bad >= 0) return E.left(err('BadTarget', `target token ${targetIds[bad]} (position ${bad}) is not an id of the model's vocabulary (0..${V - 1})`, ['target', String(bad)]))
    const D = sizeOf(aHost.shape.slice(2))
    const seqSize = L * D
    const ax = a.right.subarray(0, seqSize)
    const abOf = (k: number): Float32Array => (plan.baselines === 'zero' ? new Float32Array(seqSize) : a.right.subarray((1 + k) * seqSize, (2 + k) * seqSize))
    const ab = Array.from({ length: nB }, (_, k) => abOf(k))

    // Teacher-forced log-probs under the unperturbed prompt, and per (endpoint row, token) softmax.
    const endProbs = (row: number, t: number): { p: Float64Array; logp: number } => softmaxAt(z0.right, (row * L + P + t - 1) * V, V, targetIds[t]!)
    const logProbs = Float64Array.from(targetIds, (_, t) => endProbs(0, t).logp)

    // The embedding at a path point (α = 1 is a(x) and α = 0 is a(b) exactly, not recomputed).
    const pointValue = (pt: PathPoint): Float32Array => {
      if (pt.alpha === 1) return ax
      const base = ab[pt.baseline]!
      if (pt.alpha === 0) return base
      const v = new Float32Array(seqSize)
      for (let i = 0; i < seqSize; i++) v[i] = base[i]! + pt.alpha * (ax[i]! - base[i]!)
      return v
    }
    // Which endpoint row already holds a point's logits, if any.
    const endpointRow = (pt: PathPoint): number | undefined => (pt.alpha === 1 ? 0 : pt.alpha === 0 && plan.baselines !== 'zero' ? 1 + pt.baseline : undefined)

    const attr = new Float64Array(Tn * P)
    const rowsTotal = points.length * Tn
    // a row's logits and its seed, float32 [seq, vocabulary] each
    const byBudget = Math.floor((plan.memoryBudgetBytes ?? DEFAULT_BUDGET) / (2 * 4 * L * V))
    const chunk = Math.max(1, Math.min(rowsTotal, plan.maxRowsPerPass ?? byBudget))
    for (let start = 0; start < rowsTotal; start += chunk) {
      const rows = Array.from({ length: Math.min(chunk, rowsTotal - start) }, (_, i) => ({ point: Math.floor((start + i) / Tn), t: (start + i) % Tn }))
      const pts = [...new Set(rows.map((r) => r.point))]
      const values = new Map(pts.map((k) => [k, pointValue(points[k]!)]))
      // 1. softmax at the scored positions of every point in the chunk (one forward for the points the endpoints do not cover)
      const fresh = pts.filter((k) => endpointRow(points[k]!) === undefined)
      const probsOf = new Map<number, Float32Array>()
      if (fresh.length > 0) {
        const inj = new Float32Array(fresh.length * seqSize)
        fresh.forEach((k, i) => inj.set(values.get(k)!, i * seqSize))
        const feeds = feedsFor(model, fresh.map(() => seq))
        if (E.isLeft(feeds)) return feeds
        feeds.right.forEach(keep)
        const injT = keep(b.fromHost({ dtype: 'float32', shape: [fresh.length, ...aHost.shape.slice(1)], data: inj }))
        const f = await model.forward(feeds.right, { inject: { [layer]: injT } })()
        passes.forwardCalls++
        passes.forwardRows += fresh.length
        if (E.isLeft(f)) return f
        keep(f.right.output)
        for (const x of Object.values(f.right.captured)) keep(x)
        const zf = float32Of(await b.toHost(f.right.output), 'the model output')
        release()
        if (E.isLeft(zf)) return zf
        fresh.forEach((k, i) => probsOf.set(k, zf.right.subarray(i * L * V, (i + 1) * L * V)))
      }
      // 2. one vjp over the chunk's rows, row (k, t) seeded with onehot(target_t) − softmax at position P + t − 1
      const R = rows.length
      const seedData = new Float32Array(R * L * V)
      rows.forEach((r, i) => {
        const pt = points[r.point]!
        const er = endpointRow(pt)
        const { p } = er !== undefined ? endProbs(er, r.t) : softmaxAt(probsOf.get(r.point)!, (P + r.t - 1) * V, V, targetIds[r.t]!)
        const off = (i * L + P + r.t - 1) * V
        for (let v = 0; v < V; v++) seedData[off + v] = -p[v]!
        seedData[off + targetIds[r.t]!]! += 1
      })
      const inj = new Float32Array(R * seqSize)
      rows.forEach((r, i) => inj.set(values.get(r.point)!, i * seqSize))
      const feeds = feedsFor(model, rows.map(() => seq))
      if (E.isLeft(feeds)) return feeds
      feeds.right.forEach(keep)
      const injT = keep(b.fromHost({ dtype: 'float32', shape: [R, ...aHost.shape.slice(1)], data: inj }))
      const seedShape = [R, L, V]
      const g = await model.vjp(
        feeds.right,
        {
          kind: 'linear',
          seed: (shape) =>
            shape.length === 3 && shape.every((d, i) => d === seedShape[i])
              ? E.right({ dtype: 'float32', shape: seedShape, data: seedData })
              : E.left(err('ShapeMismatch', `the seeded output has shape [${shape.join(', ')}]; expected logits [${seedShape.join(', ')}]`, ['model', 'outputs'])),
        },
        { wrt: { kind: 'layer', name: layer }, inject: { [layer]: injT } },
      )()
      passes.vjpCalls++
      passes.vjpRows += R
      if (E.isLeft(g)) return g
      keep(g.right.output)
      keep(g.right.value)
      g.right.grads.forEach(keep)
      for (const x of Object.values(g.right.captured)) keep(x)
      const gradT = g.right.grads[0]
      if (gradT === undefined) return E.left(err('NotReachable', `no gradient reached the layer ${JSON.stringify(layer)}`, ['layer']))
      const gd = float32Of(await b.toHost(gradT), `the gradient at ${layer}`)
      release()
      if (E.isLeft(gd)) return gd
      // 3. Σ_d w · (a(x) − a(b))_{p,d} · ∂ log p_t / ∂a_{p,d} over the prompt positions p
      rows.forEach((r, i) => {
        const pt = points[r.point]!
        const base = ab[pt.baseline]!
        for (let p = 0; p < P; p++) {
          let s = 0
          const o = p * D
          const go = i * seqSize + o
          if (plan.multiplyByInputs) for (let d = 0; d < D; d++) s += (ax[o + d]! - base[o + d]!) * gd.right[go + d]!
          else for (let d = 0; d < D; d++) s += gd.right[go + d]!
          attr[r.t * P + p]! += pt.weight * s
        }
      })
    }
    return E.right({ tokenAttr: attr, logProbs, passes })
  } finally {
    release()
  }
}
