/**
 * Helpers the model-calling stages share: lay out the model's positional inputs for a set of rows,
 * turn the call's target into a backend {@link Selector}, and evaluate the selected output.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { Selector } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import { seedOf } from '../core/target.js'
import type { RunContext } from './flow.js'

/** Is the row map the identity over all examples (no expansion)? */
const isIdentity = (rowExample: Int32Array, n: number): boolean =>
  rowExample.length === n && rowExample.every((e, i) => e === i)

/** `t` (one row per example) laid out for `rowExample`; shared when no gather is needed. */
export const rowsOf = <T>(ctx: RunContext<T>, tensor: T, rowExample: Int32Array): T =>
  isIdentity(rowExample, ctx.nExamples) ? tensor : ctx.track(ctx.backend.gatherRows(tensor, rowExample))

/** Additional forward arguments laid out for `rowExample` (tensors with one row per example are expanded). */
export const extraRows = <T>(ctx: RunContext<T>, rowExample: Int32Array): T[] =>
  ctx.extraArgs.map((a) => {
    const s = ctx.backend.shapeOf(a)
    return s.length >= 1 && s[0] === ctx.nExamples ? rowsOf(ctx, a, rowExample) : a
  })

/** For each row, the call example its target entry belongs to, and the call's example count. */
export const targetRows = <T>(ctx: RunContext<T>, rowExample: Int32Array): { readonly rows: Int32Array; readonly n: number } => {
  const map = ctx.targetExamples
  return map === undefined ? { rows: rowExample, n: ctx.nExamples } : { rows: Int32Array.from(rowExample, (e) => map.of[e]!), n: map.n }
}

/** The target as a backend selector for these rows. */
export const selectorOf = <T>(ctx: RunContext<T>, rowExample: Int32Array, scalar: boolean): Selector<T> => {
  const target = ctx.target
  return typeof target === 'function'
    ? { kind: 'fn', fn: target }
    : { kind: 'linear', seed: (shape) => {
      const { rows, n } = targetRows(ctx, rowExample)
      return seedOf(target, shape, rows, n, scalar)
    } }
}

/** Σ over all non-batch axes; a 1-D tensor is returned as is. */
export const sumPerRow = <T>(ctx: RunContext<T>, x: T): T => {
  const rank = ctx.backend.shapeOf(x).length
  return rank <= 1 ? x : ctx.track(ctx.backend.sum(x, Array.from({ length: rank - 1 }, (_, i) => i + 1)))
}

/** The selected model output per row (Σ over any remaining non-batch dims), as Captum's delta uses it. */
export const selectedOutput = <T>(ctx: RunContext<T>, modelInputs: readonly T[], rowExample: Int32Array): TE.TaskEither<AttributionError, T> =>
  pipe(
    ctx.model.forward(modelInputs, ctx.modelOptions),
    TE.chainEitherK((res) => {
      const out = ctx.track(res.output)
      ctx.tick(rowExample.length)
      const shape = ctx.backend.shapeOf(out)
      if (shape.length === 0 || shape[0] !== rowExample.length) {
        return E.left(err('BadModel', `the model returned an output of shape [${shape.join(', ')}] for ${rowExample.length} input rows; ` +
          'a completeness delta compares F(x) − F(x′) per example, so the output needs one row per example (dimension 0). ' +
          'Return per-example outputs (do not sum or mean over the batch), or call without returnConvergenceDelta', ['output']))
      }
      const target = ctx.target
      if (typeof target === 'function') {
        const tidy = ctx.backend.tidy
        return E.right(sumPerRow(ctx, ctx.track(tidy ? tidy(() => target(out)) : target(out))))
      }
      const forTarget = targetRows(ctx, rowExample)
      return pipe(
        seedOf(target, ctx.backend.shapeOf(out), forTarget.rows, forTarget.n, false),
        E.map((seed) => sumPerRow(ctx, ctx.track(ctx.backend.mul(out, ctx.track(ctx.backend.fromHost(seed)))))),
      )
    }),
  )

/** The value of internal tensor `layer` when the model runs on `inputs` (one forward pass). */
export const layerValue = <T>(ctx: RunContext<T>, inputs: readonly T[], rowExample: Int32Array, layer: string): TE.TaskEither<AttributionError, T> =>
  pipe(
    ctx.model.forward([...inputs, ...extraRows(ctx, rowExample)], { ...ctx.modelOptions, capture: [layer] }),
    TE.chain((res) => {
      ctx.track(res.output)
      ctx.tick(rowExample.length)
      const a = res.captured[layer]
      return a === undefined
        ? TE.left(err('UnknownTensor', `the model did not return layer ${JSON.stringify(layer)}`, ['layer']))
        : TE.right(ctx.track(a))
    }),
  )

/** The values of several internal tensors when the model runs on `inputs`, in `layers` order (one forward pass for all). */
export const layerValues = <T>(ctx: RunContext<T>, inputs: readonly T[], rowExample: Int32Array, layers: readonly string[]): TE.TaskEither<AttributionError, readonly T[]> =>
  pipe(
    ctx.model.forward([...inputs, ...extraRows(ctx, rowExample)], { ...ctx.modelOptions, capture: layers }),
    TE.chain((res) => {
      ctx.track(res.output)
      Object.values(res.captured).forEach((c) => ctx.track(c))
      ctx.tick(rowExample.length)
      const missing = layers.find((l) => res.captured[l] === undefined)
      return missing !== undefined
        ? TE.left(err('UnknownTensor', `the model did not return layer ${JSON.stringify(missing)}`, ['layer']))
        : TE.right(layers.map((l) => res.captured[l]!))
    }),
  )
