/**
 * Concept activation vectors (CAVs) as data. One {@link Cav} is what a linear classifier learned
 * for one experimental set at one layer: a weight row per class (`weights`, `[classes, D]`, D = the
 * layer's per-example size, flattened row-major), the concept id of each row (`classes`), and the
 * classifier's accuracy. {@link Cavs} holds them by set key and layer.
 *
 * CAVs are stored as JSON through {@link CavCodec} / {@link CavsCodec} (float32 weights written as
 * numbers, read back bit-exactly; only −0 comes back as 0), so they can be trained once and reused, or shipped with a
 * model. Captum pickles them under `save_path/model_id/`; clarus leaves where to keep them to you.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, Integer } from '../core/codecs.js'
import { invalidSpec, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'

/** One CAV: a linear classifier's weight rows for the concepts of one experimental set, at one layer. */
export interface Cav {
  /** The set's concepts, in the set's order (ids and names; the data is not stored). */
  readonly concepts: readonly { readonly id: number; readonly name: string }[]
  /** The layer (tensor name) whose activations were classified. */
  readonly layer: string
  /** `[classes.length, D]`: row r is the direction of concept `classes[r]`. */
  readonly weights: HostTensor<'float32'>
  /** The concept id of each weight row (ascending for the built-in classifiers). */
  readonly classes: readonly number[]
  /** The classifier's accuracy (on its held-out split, or on the training rows; see the classifier). */
  readonly accuracy: number
}

/** CAVs by experimental-set key (`"0-2"`) and layer name. */
export type Cavs = Readonly<Record<string, Readonly<Record<string, Cav>>>>

const CavJson = t.type(
  {
    format: t.literal('clarus-cav/1'),
    concepts: t.readonlyArray(t.type({ id: Integer, name: t.string })),
    layer: t.string,
    classes: t.readonlyArray(Integer),
    accuracy: t.number,
    weights: t.type({ shape: t.tuple([Integer, Integer]), data: t.readonlyArray(t.number) }),
  },
  'CavJson',
)
/** A CAV as JSON: the weights as `{ shape: [rows, D], data: [...] }`, row-major. */
export type CavJson = t.TypeOf<typeof CavJson>

/** What is inconsistent in a decoded CAV, or undefined. */
const cavProblem = (j: CavJson): string | undefined => {
  const [rows, d] = j.weights.shape
  if (rows !== j.classes.length) return `weights has ${rows} row(s) but classes lists ${j.classes.length}`
  if (d < 1) return 'weights has no columns'
  if (j.weights.data.length !== rows * d) return `weights.data has ${j.weights.data.length} values; shape [${rows}, ${d}] needs ${rows * d}`
  if (j.weights.data.some((v) => !Number.isFinite(v))) return 'weights.data holds a non-finite value'
  const ids = new Set(j.concepts.map((c) => c.id))
  const stray = j.classes.find((c) => !ids.has(c))
  if (stray !== undefined) return `class ${stray} is not one of the concepts' ids (${[...ids].join(', ')})`
  return undefined
}

/** JSON ⇄ {@link Cav}. Decoding checks that shape, classes and concepts agree. */
export const CavCodec = new t.Type<Cav, CavJson, unknown>(
  'Cav',
  (u): u is Cav => typeof u === 'object' && u !== null && 'weights' in u && 'classes' in u && 'layer' in u,
  (u, ctx) => {
    const j = CavJson.validate(u, ctx)
    if (E.isLeft(j)) return j
    const problem = cavProblem(j.right)
    if (problem !== undefined) return t.failure(u, ctx, problem)
    const { concepts, layer, classes, accuracy, weights } = j.right
    return t.success({
      concepts: concepts.map((c) => ({ id: c.id, name: c.name })),
      layer,
      classes: [...classes],
      accuracy,
      weights: { dtype: 'float32', shape: [...weights.shape], data: Float32Array.from(weights.data) },
    })
  },
  (c) => ({
    format: 'clarus-cav/1',
    concepts: c.concepts.map((x) => ({ id: x.id, name: x.name })),
    layer: c.layer,
    classes: [...c.classes],
    accuracy: c.accuracy,
    weights: { shape: [c.weights.shape[0] ?? 0, c.weights.shape[1] ?? 0], data: Array.from(c.weights.data) },
  }),
)

/** JSON ⇄ {@link Cavs} (set key → layer → CAV). */
export const CavsCodec = t.readonly(t.record(t.string, t.readonly(t.record(t.string, CavCodec))), 'Cavs')

/** The CAVs as a JSON string (float32 weights round-trip exactly through {@link cavsFromJson}). */
export const cavsToJson = (cavs: Cavs): string => JSON.stringify(CavsCodec.encode(cavs))

/** CAVs from {@link cavsToJson}'s JSON (a string or the parsed value); a typed `InvalidSpec` names each bad field. */
export const cavsFromJson = (json: string | unknown): E.Either<AttributionError, Cavs> => {
  let u: unknown = json
  if (typeof json === 'string') {
    try {
      u = JSON.parse(json)
    } catch (e) {
      return E.left(invalidSpec([{ path: ['cavs'], message: `not JSON (${e instanceof Error ? e.message : String(e)})` }]))
    }
  }
  return decodeWith(CavsCodec, u, ['cavs'])
}
