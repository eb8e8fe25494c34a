/**
 * Graph-level helpers for rules that compare each row with its reference, for the batch layout
 * `referenceRows: 'halves'`: the batch has 2n rows and row n + i is the reference of row i (Captum's
 * DeepLift runs `[inputs; baselines]` as one batch the same way). Every helper works with a batch
 * size known only at run time.
 *
 * @internal
 */
import { attr } from '../../graph/ir.js'
import type { GradContext } from '../context.js'

export interface ReferenceHelpers {
  /** The first n rows (the inputs) and the last n rows (their references) of a 2n-row tensor. */
  halves(x: string): { readonly input: string; readonly reference: string }
  /** A per-pair tensor of n rows tiled back to 2n rows ([p; p]), so each half gets its pair's value. */
  tile(p: string): string
  /** Two n-row tensors stacked into 2n rows ([a; b]). */
  stack(a: string, b: string): string
  /** x − x_ref per pair (x[i] − x[n + i]), tiled to 2n rows: the same value for both halves, as Captum does. */
  delta(x: string): string
  /**
   * The batch seen as two rows of the same length M (the flattened input half and reference half),
   * without copying: `rows(t)` is t reshaped to [2, M], `pairDelta(t)` is row 0 − row 1 as [1, M],
   * which broadcasts over both rows (no tiling), and `back(t2, like)` reshapes a [2, M] result to
   * the shape of `like`.
   */
  rows(x: string): string
  pairDelta(x: string): string
  back(t2: string, like: string): string
}

/** The helpers, emitting their nodes through `g` (names stay unique and deterministic). */
export const referenceHelpers = (g: GradContext): ReferenceHelpers => {
  let half: string | undefined
  const halfOf = (x: string): string => {
    // n = rows / 2, as a 1-element int64 tensor (computed once per node, from the first tensor split)
    half ??= g.node('Div', [g.node('Slice', [g.node('Shape', [x]), g.int64([0]), g.int64([1])]), g.int64([2])])
    return half
  }
  const halves: ReferenceHelpers['halves'] = (x) => {
    const n = halfOf(x)
    const axes = g.int64([0])
    return {
      input: g.node('Slice', [x, g.int64([0]), n, axes]),
      reference: g.node('Slice', [x, n, g.int64([Number.MAX_SAFE_INTEGER]), axes]),
    }
  }
  const stack: ReferenceHelpers['stack'] = (a, b) => g.node('Concat', [a, b], [attr.int('axis', 0)])
  const tile: ReferenceHelpers['tile'] = (p) => stack(p, p)
  const delta: ReferenceHelpers['delta'] = (x) => {
    const h = halves(x)
    return tile(g.node('Sub', [h.input, h.reference]))
  }
  const rows: ReferenceHelpers['rows'] = (x) => g.node('Reshape', [x, g.int64([2, -1])])
  const pairDelta: ReferenceHelpers['pairDelta'] = (x) => {
    const r = rows(x)
    const axes = g.int64([0])
    return g.node('Sub', [g.node('Slice', [r, g.int64([0]), g.int64([1]), axes]), g.node('Slice', [r, g.int64([1]), g.int64([2]), axes])])
  }
  const back: ReferenceHelpers['back'] = (t2, like) => g.node('Reshape', [t2, g.node('Shape', [like])])
  return { halves, tile, stack, delta, rows, pairDelta, back }
}
