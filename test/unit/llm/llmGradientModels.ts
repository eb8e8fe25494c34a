// A tiny differentiable causal LM in tfjs (token embedding tapped as 'emb' → causal mixing → tanh →
// head over tinylm's 102-token vocabulary), a non-causal twin for negative controls, and an
// independent per-token oracle of gradient attributions: Captum's scheme, one sequence
// prompt + target[:t] per target token and one row per path point, through the Model API only.
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { fromTfjs } from '../../../src/backends/tfjs/model.js'
import type { Model } from '../../../src/core/backend.js'
import type { AttributionError } from '../../../src/core/errors.js'
import { int64, type HostTensor } from '../../../src/core/tensor.js'

export const VOCAB = 102
const D = 4
const H = 6

const table = (rows: number, cols: number, salt: number): number[] =>
  Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898 + salt * 78.233) * 1.3)

/** The tiny LM as a tfjs tapped function; `causal: false` lets every position see every other. */
export const tinyTfjsLm = (causal = true): { model: Model<tf.Tensor>; dispose: () => void } => {
  const emb = tf.tensor2d(table(VOCAB, D, 1), [VOCAB, D])
  const w = tf.tensor2d(table(D, H, 2), [D, H])
  const u = tf.tensor2d(table(H, VOCAB, 3).map((v) => v * 2), [H, VOCAB])
  const model = fromTfjs({
    layers: ['emb'],
    // no tf.tidy here: fromTfjs owns the scope, and tapped tensors must outlive the call
    fn: (tap, ids) => {
        const L = ids!.shape[1]!
        const e = tap('emb', tf.gather(emb, tf.cast(ids!, 'int32'))) as tf.Tensor3D // [n, L, D]
        // position p mixes positions j with weight 1/(1 + |p − j|), j ≤ p when causal
        const mix = tf.tensor2d(
          Array.from({ length: L * L }, (_, k) => {
            const p = Math.floor(k / L)
            const j = k % L
            return causal && j > p ? 0 : 1 / (1 + Math.abs(p - j))
          }),
          [L, L],
        )
        const n = e.shape[0]
        // [n, L, D] → [L, n·D], mixed over positions, → [n·L, D]
        const byPos = tf.reshape(tf.transpose(e, [1, 0, 2]), [L, n * D])
        const mixed = tf.reshape(tf.transpose(tf.reshape(tf.matMul(mix, byPos), [L, n, D]), [1, 0, 2]), [n * L, D])
        return tf.reshape(tf.matMul(tf.tanh(tf.matMul(mixed, w)), u), [n, L, VOCAB])
    },
  })
  return { model, dispose: () => tf.dispose([emb, w, u]) }
}

const unwrap = <A>(r: E.Either<AttributionError, A>): A => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

export interface OraclePoint {
  readonly baseline: number
  readonly alpha: number
  readonly weight: number
}

/**
 * Captum's scheme, literally: for each target token t, the sequence prompt + target[:t]; for each
 * path point, one forward (its log-softmax at the last position) and one single-row vjp seeded
 * with onehot − softmax there. Returns [T][P] attributions (summed over the embedding dims) and
 * the number of model calls it took. `baselines: 'zero'` = gradient × activation.
 */
export const perTokenOracle = async <T>(
  model: Model<T>,
  layer: string,
  prompt: readonly number[],
  target: readonly number[],
  baselines: readonly (readonly number[])[] | 'zero',
  points: readonly OraclePoint[],
  multiplyByInputs = true,
): Promise<{ attr: number[][]; calls: number }> => {
  const b = model.backend
  const P = prompt.length
  let calls = 0
  const attr: number[][] = []
  for (let t = 0; t < target.length; t++) {
    const seq = [...prompt, ...target.slice(0, t)]
    const L = seq.length
    const embOf = async (ids: readonly number[]): Promise<Float32Array> => {
      const x = b.fromHost(int64([1, L], ids))
      const f = unwrap(await model.forward([x], { capture: [layer] })())
      calls++
      const a = (await b.toHost(f.captured[layer]!)).data as Float32Array
      b.dispose(x)
      b.dispose(f.output)
      b.dispose(f.captured[layer]!)
      return a
    }
    const ax = await embOf(seq)
    const abs = baselines === 'zero' ? [new Float32Array(ax.length)] : await Promise.all(baselines.map((bl) => embOf([...bl, ...target.slice(0, t)])))
    const row = new Array<number>(P).fill(0)
    for (const pt of points) {
      const ab = abs[pt.baseline]!
      const v = Float32Array.from(ax, (xv, i) => ab[i]! + pt.alpha * (xv - ab[i]!))
      const x = b.fromHost(int64([1, L], seq))
      const inj = b.fromHost({ dtype: 'float32', shape: [1, L, ax.length / L], data: v })
      const f = unwrap(await model.forward([x], { inject: { [layer]: inj } })())
      calls++
      const z = (await b.toHost(f.output)) as HostTensor<'float32'>
      b.dispose(f.output)
      const V = z.shape[2]!
      const last = z.data.subarray((L - 1) * V, L * V)
      const m = Math.max(...last)
      const s = last.reduce((a, zv) => a + Math.exp(zv - m), 0)
      const seed = new Float32Array(L * V)
      for (let k = 0; k < V; k++) seed[(L - 1) * V + k] = -Math.exp(last[k]! - m) / s
      seed[(L - 1) * V + target[t]!]! += 1
      const g = unwrap(
        await model.vjp([x], { kind: 'linear', seed: (shape) => E.right({ dtype: 'float32', shape: [...shape], data: seed }) }, { wrt: { kind: 'layer', name: layer }, inject: { [layer]: inj } })(),
      )
      calls++
      const gd = (await b.toHost(g.grads[0]!)).data as Float32Array
      for (const x2 of [g.output, g.value, ...g.grads]) b.dispose(x2)
      b.dispose(x)
      b.dispose(inj)
      const Dm = ax.length / L
      for (let p = 0; p < P; p++) {
        let acc = 0
        for (let d = 0; d < Dm; d++) acc += (multiplyByInputs ? ax[p * Dm + d]! - ab[p * Dm + d]! : 1) * gd[p * Dm + d]!
        row[p]! += pt.weight * acc
      }
    }
    attr.push(row)
  }
  return { attr, calls }
}
