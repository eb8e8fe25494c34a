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
import type { ForwardOptions, Selector } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import { seedOf } from '../core/target.js'
import { evalTargetExpr, isTargetExpr, targetExprSeed } from '../core/targetExpr.js'
import type { HostTensor } from '../core/tensor.js'
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

/**
 * The target as a backend selector for these rows. A target expression has no selector without
 * the output's value: model-calling stages use {@link selectorAt}, which evaluates it first.
 */
export const selectorOf = <T>(ctx: RunContext<T>, rowExample: Int32Array, scalar: boolean): Selector<T> => {
  const target = ctx.target
  if (isTargetExpr(target)) {
    return { kind: 'linear', seed: () => E.left(err('BadTarget', 'a target expression is seeded from the output\'s value: this stage does not support target expressions yet; use an index target', ['target'])) }
  }
  return typeof target === 'function'
    ? { kind: 'fn', fn: target }
    : { kind: 'linear', seed: (shape) => {
      const { rows, n } = targetRows(ctx, rowExample)
      return seedOf(target, shape, rows, n, scalar)
    } }
}

/**
 * The target as a selector for one model call at `modelInputs` (with `options`, e.g. injected
 * layers): {@link selectorOf}, except for a target expression, whose gradient depends on where it
 * is taken: one forward pass at the same inputs gives the output, and the expression's gradient
 * there seeds the backward pass (chain rule; see core/targetExpr.ts). That pass is a model call of
 * its own, reported to progress.
 */
export const selectorAt = <T>(
  ctx: RunContext<T>,
  rowExample: Int32Array,
  scalar: boolean,
  modelInputs: readonly T[],
  options: ForwardOptions<T> = {},
): TE.TaskEither<AttributionError, Selector<T>> => {
  const target = ctx.target
  if (!isTargetExpr(target)) return TE.right(selectorOf(ctx, rowExample, scalar))
  return async () => {
    const res = await ctx.model.forward(modelInputs, { ...ctx.modelOptions, ...options })()
    if (E.isLeft(res)) return res
    ctx.track(res.right.output)
    Object.values(res.right.captured).forEach((c) => ctx.track(c))
    ctx.tick(ctx.backend.shapeOf(modelInputs[0]!)[0] ?? rowExample.length)
    const y = await ctx.backend.toHost(res.right.output)
    return E.map(({ seed }: { seed: HostTensor }): Selector<T> => ({
      kind: 'linear',
      seed: (shape) => (shape.length === seed.shape.length && shape.every((d, i) => d === seed.shape[i])
        ? E.right(seed)
        : E.left(err('BadTarget', `the target expression was evaluated on an output of shape [${seed.shape.join(', ')}], but the backward pass seeds one of shape [${shape.join(', ')}]`, ['target']))),
    }))(targetExprSeed(target, y))
  }
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
    TE.chain((res) => async (): Promise<E.Either<AttributionError, T>> => {
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
      if (isTargetExpr(target)) {
        const v = evalTargetExpr(target, await ctx.backend.toHost(out))
        return E.map((h: HostTensor) => sumPerRow(ctx, ctx.track(ctx.backend.fromHost(h))))(v)
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
