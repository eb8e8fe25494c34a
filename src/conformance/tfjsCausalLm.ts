/**
 * The reference causal language model (`tinylm`) rebuilt in TensorFlow.js from its weight JSON:
 * token embedding + learned positions → pre-norm blocks (causal multi-head self-attention, GELU
 * MLP) → final LayerNorm → linear head without bias. `input_ids` [batch, seq] → logits
 * [batch, seq, vocab], as the ONNX export computes them:
 *
 *   h = tok_emb(ids) + pos_emb(0 … seq−1)
 *   h = h + o_proj(softmax(q kᵀ / √head_dim + causal) v)   (q, k, v from ln1(h), heads split)
 *   h = h + fc2(gelu(fc1(ln2(h))))                          (GELU with erf)
 *   logits = lm_head(ln_f(h))
 *
 * The causal term is the export's constant: 0 where the key position ≤ the query position, −1e9
 * above the diagonal. Module outputs are tapped under their torch names (`tok_emb`, `pos_emb`,
 * `blocks.0`, …, `ln_f`, `lm_head`), which the conformance target renames to the ONNX tensors.
 *
 * @category conformance
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import * as tf from '@tensorflow/tfjs-core'
import type { Tap } from '../backends/tfjs/model.js'
import { decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'

/** The weight reader of `tfjsModels.ts` (parameters checked against their shapes, owned until disposed). */
export interface ParamSource {
  get(name: string, shape: readonly number[]): E.Either<AttributionError, tf.Tensor>
  derive<T extends tf.Tensor>(src: tf.Tensor, f: (s: tf.Tensor) => T): T
  bias(name: string, n: number): E.Either<AttributionError, tf.Tensor1D | undefined>
}

/** The architecture entry type that marks a causal LM. */
export const CAUSAL_LM_BLOCKS = 'ModuleList of Block'

const Entry = t.intersection([t.type({ type: t.string }), t.UnknownRecord])
const EmbeddingSpec = t.type({ name: t.string, num_embeddings: t.Int, embedding_dim: t.Int })
const LayerNormSpec = t.intersection([t.type({ name: t.string }), t.partial({ eps: t.number })])
const HeadSpec = t.type({ name: t.string, in_features: t.Int, out_features: t.Int })
const BlocksSpec = t.type({
  name: t.string,
  count: t.Int,
  block: t.type({
    ln1: t.partial({ eps: t.number }),
    ln2: t.partial({ eps: t.number }),
    attn: t.type({ heads: t.Int, head_dim: t.Int }),
    fc1: t.type({ in_features: t.Int, out_features: t.Int }),
    act: t.partial({ approximate: t.string }),
  }),
})

interface Linear {
  readonly wT: tf.Tensor2D
  readonly b: tf.Tensor1D | undefined
}

/** `x Wᵀ + b` over the last axis of a rank-3 `x`. */
const linear = (x: tf.Tensor, l: Linear): tf.Tensor => {
  const [n, len, inF] = x.shape as [number, number, number]
  const y = tf.matMul(tf.reshape(x, [n * len, inF]) as tf.Tensor2D, l.wT)
  return tf.reshape(l.b === undefined ? y : tf.add(y, l.b), [n, len, l.wT.shape[1]])
}

const layerNorm = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor => {
  const centered = tf.sub(x, tf.mean(x, -1, true))
  const variance = tf.mean(tf.square(centered), -1, true)
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), w), b)
}

const gelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1))

const bad = (message: string, at: readonly string[]): AttributionError => err('Unsupported', message, ['architecture', ...at])

/** A built causal LM: the forward pass (with optional taps) and its tapped module names in graph order. */
export interface CausalLm {
  readonly run: (ids: tf.Tensor, tap?: Tap) => tf.Tensor
  readonly modules: readonly string[]
}

/**
 * Builds the causal LM of a weight JSON whose architecture is `[Embedding (tokens), Embedding
 * (positions), ModuleList of Block, LayerNorm, Linear]`; anything else is an `Unsupported` error.
 */
export const buildCausalLm = (P: ParamSource, architecture: readonly unknown[]): E.Either<AttributionError, CausalLm> => {
  if (architecture.length !== 5) return E.left(bad(`a causal LM rebuild expects 5 architecture entries (token and position embeddings, blocks, final norm, head), got ${architecture.length}`, []))
  const at = (i: number) => <A>(codec: t.Decoder<unknown, A>): E.Either<AttributionError, A> =>
    pipe(decodeWith(Entry, architecture[i], ['architecture', String(i)]), E.chain((e) => decodeWith(codec, e, ['architecture', String(i)])))
  const lin = (name: string, outF: number, inF: number): E.Either<AttributionError, Linear> =>
    pipe(
      P.get(`${name}.weight`, [outF, inF]),
      E.map((w) => P.derive(w, (x) => tf.transpose(x as tf.Tensor2D))),
      E.chain((wT) => pipe(P.bias(`${name}.bias`, outF), E.map((b) => ({ wT, b })))),
    )
  return pipe(
    E.Do,
    E.bind('tok', () => at(0)(EmbeddingSpec)),
    E.bind('pos', () => at(1)(EmbeddingSpec)),
    E.bind('blocks', () => at(2)(BlocksSpec)),
    E.bind('lnf', () => at(3)(LayerNormSpec)),
    E.bind('head', () => at(4)(HeadSpec)),
    E.chain((s) => {
      const d = s.tok.embedding_dim
      const { heads: h, head_dim: dh } = s.blocks.block.attn
      if (h * dh !== d) return E.left(bad(`attention heads × head_dim = ${h * dh} differs from the embedding width ${d}`, ['2', 'block', 'attn']))
      if (s.blocks.block.act.approximate !== undefined && s.blocks.block.act.approximate !== 'none') {
        return E.left(bad(`GELU approximation ${JSON.stringify(s.blocks.block.act.approximate)} is not supported (only the erf form)`, ['2', 'block', 'act']))
      }
      const ff = s.blocks.block.fc1.out_features
      const blockWeights = Array.from({ length: s.blocks.count }, (_, l) => {
        const p = `${s.blocks.name}.${l}`
        return pipe(
          E.Do,
          E.bind('ln1w', () => P.get(`${p}.ln1.weight`, [d])),
          E.bind('ln1b', () => P.get(`${p}.ln1.bias`, [d])),
          E.bind('q', () => lin(`${p}.attn.q_proj`, d, d)),
          E.bind('k', () => lin(`${p}.attn.k_proj`, d, d)),
          E.bind('v', () => lin(`${p}.attn.v_proj`, d, d)),
          E.bind('o', () => lin(`${p}.attn.o_proj`, d, d)),
          E.bind('ln2w', () => P.get(`${p}.ln2.weight`, [d])),
          E.bind('ln2b', () => P.get(`${p}.ln2.bias`, [d])),
          E.bind('fc1', () => lin(`${p}.fc1`, ff, d)),
          E.bind('fc2', () => lin(`${p}.fc2`, d, ff)),
        )
      })
      return pipe(
        E.Do,
        E.bind('tokTable', () => P.get(`${s.tok.name}.weight`, [s.tok.num_embeddings, d])),
        E.bind('posTable', () => P.get(`${s.pos.name}.weight`, [s.pos.num_embeddings, d])),
        E.bind('blockW', () => E.sequenceArray(blockWeights)),
        E.bind('lnfw', () => P.get(`${s.lnf.name}.weight`, [d])),
        E.bind('lnfb', () => P.get(`${s.lnf.name}.bias`, [d])),
        E.bind('headW', () => lin(s.head.name, s.head.out_features, d)),
        E.map((w): CausalLm => {
          const eps1 = s.blocks.block.ln1.eps ?? 1e-5
          const eps2 = s.blocks.block.ln2.eps ?? 1e-5
          const epsF = s.lnf.eps ?? 1e-5
          const maxPos = s.pos.num_embeddings
          const blockNames = w.blockW.map((_, l) => `${s.blocks.name}.${l}`)
          const run = (ids: tf.Tensor, tap?: Tap): tf.Tensor => {
            const out = (name: string, x: tf.Tensor): tf.Tensor => (tap ? tap(name, x) : x)
            const [n, len] = ids.shape as [number, number]
            if (len > maxPos) throw new Error(`the sequence has ${len} tokens; this model has ${maxPos} positions`)
            const tokIds = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32')
            const tokE = out(s.tok.name, tf.gather(w.tokTable, tokIds))
            const posE = out(s.pos.name, tf.gather(w.posTable, tf.range(0, len, 1, 'int32')))
            // causal term [len, len]: 0 on and below the diagonal, −1e9 above
            const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([len, len]), -1, 0)), -1e9)
            let x = tf.add(tokE, posE)
            w.blockW.forEach((b, l) => {
              const a = layerNorm(x, b.ln1w, b.ln1b, eps1)
              // [n, len, d] → [n, h, len, dh]
              const split = (y: tf.Tensor) => tf.transpose(tf.reshape(y, [n, len, h, dh]), [0, 2, 1, 3])
              const q = split(linear(a, b.q))
              const k = split(linear(a, b.k))
              const v = split(linear(a, b.v))
              const scores = tf.add(tf.div(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), Math.sqrt(dh)), causal)
              const ctx = tf.matMul(tf.softmax(scores) as tf.Tensor4D, v as tf.Tensor4D)
              const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [n, len, d])
              x = tf.add(x, linear(merged, b.o))
              const m = linear(gelu(linear(layerNorm(x, b.ln2w, b.ln2b, eps2), b.fc1)), b.fc2)
              x = out(blockNames[l]!, tf.add(x, m))
            })
            const f = out(s.lnf.name, layerNorm(x, w.lnfw, w.lnfb, epsF))
            return out(s.head.name, linear(f, w.headW))
          }
          return { run, modules: [s.tok.name, s.pos.name, ...blockNames, s.lnf.name, s.head.name] }
        }),
      )
    }),
  )
}
