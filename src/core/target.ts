/**
 * Targets: which scalar per example is explained. Every data target is a *linear functional* of
 * the model output: a one-hot for an index, a mask for a region. {@link seedOf} turns a target
 * into that cotangent ("seed"), so one backward pass per seed serves any target, and the selected
 * value is Σ output ⊙ seed over the non-batch dims.
 *
 * Captum: `target` of `attribute(...)`; `null` ↔ `None`, `k` ↔ `int`, `{ index: [...] }` ↔ a
 * tuple, `[t0, t1, …]` ↔ a per-example list, `[[…], […]]` ↔ a list of tuples. `{ mask }` is new:
 * a weighted sum over output elements (a segmentation region, a set of tokens, a sum of classes).
 * Negative indices count from the end, as in Python.
 *
 * @category core
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { err, type AttributionError } from './errors.js'
import { HostTensorCodec, Integer } from './codecs.js'
import { sizeOf, type HostTensor } from './tensor.js'

/** A data target (serialisable). See the module doc for the meaning of each form. */
export type Target =
  | null
  | number
  | readonly number[]
  | readonly (readonly number[])[]
  | { readonly index: readonly number[] }
  | { readonly mask: HostTensor }

export const Target: t.Type<Target, unknown> = t.union([
  t.null,
  Integer,
  t.readonlyArray(Integer),
  t.readonlyArray(t.readonlyArray(Integer)),
  t.readonly(t.type({ index: t.readonlyArray(Integer) })),
  t.readonly(t.type({ mask: HostTensorCodec })),
]) as unknown as t.Type<Target, unknown>

/** A reducer written in the backend's tensor language: output → one scalar per row (tfjs only). */
export type TargetFn<T> = (output: T) => T

const bad = (message: string): E.Either<AttributionError, never> => E.left(err('BadTarget', message, ['target']))

const normIndex = (k: number, size: number, what: string): E.Either<AttributionError, number> => {
  const j = k < 0 ? k + size : k
  return j >= 0 && j < size
    ? E.right(j)
    : bad(`${what} ${k} is out of range for an output dimension of size ${size} (valid: ${-size}..${size - 1})`)
}

/** Offset and block size inside one example's output selected by an index tuple. */
const tupleOffset = (
  idx: readonly number[],
  per: readonly number[],
): E.Either<AttributionError, { offset: number; block: number }> => {
  if (idx.length > per.length) {
    return bad(`target index (${idx.join(', ')}) has ${idx.length} entries but the output has only ${per.length} non-batch dimension(s) (shape [${per.join(', ')}])`)
  }
  let offset = 0
  for (let d = 0; d < idx.length; d++) {
    const j = normIndex(idx[d]!, per[d]!, `target index`)
    if (E.isLeft(j)) return j
    offset += j.right * sizeOf(per.slice(d + 1))
  }
  return E.right({ offset, block: sizeOf(per.slice(idx.length)) })
}

/**
 * The seed (cotangent) for `target` given the output shape of `rows` rows, where row r belongs to
 * example `rowExample[r]` of `nExamples`. With `scalar`, the target must pick exactly one element
 * per example (gradient methods need one scalar per example).
 */
export const seedOf = (
  target: Target,
  outputShape: readonly number[],
  rowExample: Int32Array,
  nExamples: number,
  scalar: boolean,
): E.Either<AttributionError, HostTensor<'float32'>> => {
  const rows = outputShape[0] ?? 1
  const per = outputShape.slice(1)
  const P = sizeOf(per)
  const seed = new Float32Array(rows * P)
  const blockCheck = (block: number): E.Either<AttributionError, void> =>
    scalar && block !== 1
      ? bad(`the target selects ${block} output values per example (output shape per example [${per.join(', ')}]); ` +
          'gradient methods explain one scalar per example: give a full index (e.g. target: 3 or { index: [i, j] }) or a { mask } that weights the values')
      : E.right(undefined)
  const done = E.right<AttributionError, HostTensor<'float32'>>({ dtype: 'float32', shape: [...outputShape], data: seed })

  if (target === null) {
    if (scalar && P !== 1) {
      return bad(`target is null but the model returns ${P} values per example (output shape [${outputShape.join(', ')}]); pass a target, e.g. target: 0`)
    }
    seed.fill(1)
    return done
  }
  if (typeof target === 'number' || 'index' in target) {
    if (typeof target === 'number' && per.length === 0) {
      return bad('an integer target needs an output with at least 2 dimensions (batch, …); this output has one value per example: use target: null')
    }
    const sel = tupleOffset(typeof target === 'number' ? [target] : target.index, per)
    if (E.isLeft(sel)) return sel
    const chk = blockCheck(sel.right.block)
    if (E.isLeft(chk)) return chk
    for (let r = 0; r < rows; r++) seed.fill(1, r * P + sel.right.offset, r * P + sel.right.offset + sel.right.block)
    return done
  }
  if ('mask' in target) {
    const m = target.mask
    const mShape = m.shape
    const perExample = mShape.length === per.length + 1 && mShape[0] === nExamples && nExamples > 1
    const shared = mShape.length === per.length ? mShape : mShape.length === per.length + 1 && mShape[0] === 1 ? mShape.slice(1) : undefined
    const inner = perExample ? mShape.slice(1) : shared
    if (inner === undefined || inner.length !== per.length || inner.some((d, i) => d !== per[i])) {
      return bad(`target mask has shape [${mShape.join(', ')}]; it must match the output without its batch dimension [${per.join(', ')}], with a leading 1, or with one row per example (${nExamples})`)
    }
    for (let r = 0; r < rows; r++) {
      const src = perExample ? rowExample[r]! * P : 0
      for (let j = 0; j < P; j++) seed[r * P + j] = Number(m.data[src + j])
    }
    return done
  }
  // Per-example lists: one int or one index tuple per example.
  const list = target as readonly (number | readonly number[])[]
  if (list.length !== nExamples) {
    return bad(`a per-example target list needs one entry per example: got ${list.length} for ${nExamples} example(s)`)
  }
  if (list.every((v) => typeof v === 'number') && per.length !== 1) {
    return bad(`a per-example list of integers needs a 2-D output (batch, classes); this output has shape [${outputShape.join(', ')}]: use a list of index tuples`)
  }
  const selections: { offset: number; block: number }[] = []
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!
    const sel = tupleOffset(typeof v === 'number' ? [v] : v, per)
    if (E.isLeft(sel)) return E.left({ ...sel.left, path: ['target', String(i)] })
    const chk = blockCheck(sel.right.block)
    if (E.isLeft(chk)) return chk
    selections.push(sel.right)
  }
  for (let r = 0; r < rows; r++) {
    const { offset, block } = selections[rowExample[r]!]!
    seed.fill(1, r * P + offset, r * P + offset + block)
  }
  return done
}
