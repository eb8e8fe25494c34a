/**
 * Model outputs as the perturbation methods see them (captum-semantics.md §3.10): the target picks
 * values from the output without summing them, so a target that leaves several values per example
 * (`null` on an `(N, C)` output, an index into a 3-D output) explains every one of them, and a
 * forward that returns one value for the whole batch ("aggregate" mode) is explained as is.
 *
 * A {@link Probe} says what is evaluated: the model at perturbed inputs (the default), at perturbed
 * values of a layer fed into it (layer perturbation methods), and/or one neuron of an internal
 * tensor instead of the target on the output (neuron perturbation methods).
 *
 * @category dsl
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { err, type AttributionError } from '../../core/errors.js'
import { seedOf } from '../../core/target.js'
import { evalTargetExpr, isTargetExpr } from '../../core/targetExpr.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import type { Reference, RunContext } from '../flow.js'
import { extraRows, rowsOf, targetRows } from '../modelCall.js'
import { neuronValues, type NeuronRef } from '../neuron.js'

/**
 * What a perturbation method evaluates at each perturbed copy:
 * - `inject`: the perturbed tensors are values of this internal tensor (layer), fed into the model
 *   (the graph is cut there) while it runs on the call's inputs, as Captum's layer perturbation
 *   methods substitute the layer through a hook;
 * - `neuron`: the explained values are this neuron of an internal tensor, one per row (Captum's
 *   `neuron_selector`), instead of the call's target on the model output.
 */
export interface Probe {
  readonly inject?: string
  readonly neuron?: NeuronRef
}

/** A key naming what a probe explains (recorded with F(x), so F(x̃) is checked to explain the same). */
export const explainedBy = (probe: Probe): string | undefined => (probe.neuron === undefined ? undefined : JSON.stringify(probe.neuron))

/** One model call at `xs` for these rows: the tensor whose values are explained (the output, or the neuron's tensor), tracked. */
const evaluate = async <T>(ctx: RunContext<T>, probe: Probe, xs: readonly T[], rows: Int32Array): Promise<E.Either<AttributionError, T>> => {
  const inputs = probe.inject === undefined ? xs : ctx.inputs.map((x) => rowsOf(ctx, x, rows))
  const res = await ctx.model.forward([...inputs, ...extraRows(ctx, rows)], {
    ...ctx.modelOptions,
    ...(probe.inject !== undefined ? { inject: { [probe.inject]: xs[0]! } } : {}),
    ...(probe.neuron !== undefined ? { capture: [probe.neuron.layer] } : {}),
  })()
  if (E.isLeft(res)) return res
  ctx.track(res.right.output)
  Object.values(res.right.captured).forEach((c) => ctx.track(c))
  ctx.tick(rows.length)
  if (probe.neuron === undefined) return E.right(res.right.output)
  const a = res.right.captured[probe.neuron.layer]
  return a === undefined ? E.left(err('UnknownTensor', `the model did not return layer ${JSON.stringify(probe.neuron.layer)}, which holds the neuron`, ['neuron'])) : E.right(a)
}

/** The neuron's value per row of `a` (its tensor), as every neuron method selects it (dsl/neuron.ts). */
const neuronSelected = async <T>(ctx: RunContext<T>, n: NeuronRef, a: T, rows: Int32Array): Promise<E.Either<AttributionError, Selected>> => {
  const shape = ctx.backend.shapeOf(a)
  if (shape.length === 0 || shape[0] !== rows.length) {
    return E.left(err('ShapeMismatch', `layer ${JSON.stringify(n.layer)} has shape [${shape.join(', ')}] for ${rows.length} input rows; a neuron is read per example, so the layer needs one row per example (dimension 0)`, ['neuron']))
  }
  const values = await neuronValues(ctx, n, a, rows)
  return E.map((v: Float32Array): Selected => ({ values: v, shape: [rows.length] }))(values)
}

/** Target-selected values of one output, row-major, and their shape. */
export interface Selected {
  readonly values: Float32Array
  readonly shape: readonly number[]
}

const asFloat = (h: HostTensor): Float32Array => {
  if (h.dtype === 'float32') return h.data as Float32Array
  const out = new Float32Array(h.data.length)
  for (let i = 0; i < out.length; i++) out[i] = Number(h.data[i])
  return out
}

/** Shape of what an index target leaves of an output of shape `shape`. */
const selectedShape = (target: unknown, shape: readonly number[]): readonly number[] => {
  const rows = shape[0] ?? 1
  const per = shape.slice(1)
  if (target === null) return shape.length === 0 ? [1] : shape
  if (typeof target === 'number') return [rows, ...per.slice(1)]
  if (typeof target === 'object' && target !== null && 'index' in target) return [rows, ...per.slice((target as { index: readonly number[] }).index.length)]
  if (typeof target === 'object' && target !== null && 'mask' in target) return [rows]
  const list = target as readonly (number | readonly number[])[]
  const first = list[0]
  return typeof first === 'number' || first === undefined ? [rows] : [rows, ...per.slice(first.length)]
}

/**
 * The target's values in `out`. `rowExample` maps output rows to examples (per-example targets);
 * it is absent in aggregate mode, where per-example targets make no sense.
 */
export const selectValues = <T>(ctx: RunContext<T>, out: T, rowExample: Int32Array | undefined): TE.TaskEither<AttributionError, Selected> => async () => {
  const b = ctx.backend
  const target = ctx.target
  if (typeof target === 'function') {
    const v = ctx.track(ctx.backend.tidy ? ctx.backend.tidy(() => target(out)) : target(out))
    const h = await b.toHost(v)
    return E.right({ values: asFloat(h), shape: h.shape.length === 0 ? [1] : h.shape })
  }
  const h = await b.toHost(out)
  if (isTargetExpr(target)) {
    // like a target function: the expression's values, each explained
    return E.map((v: HostTensor): Selected => ({ values: v.data as Float32Array, shape: v.shape.length === 0 ? [1] : v.shape }))(evalTargetExpr(target, h))
  }
  const shape = h.shape.length === 0 ? [1] : h.shape
  if (rowExample === undefined && Array.isArray(target)) {
    return E.left(err('BadTarget', `a per-example target list needs one output row per example, but the forward returned shape [${h.shape.join(', ')}] for ${ctx.nExamples} example(s)`, ['target']))
  }
  const rows = shape[0]!
  const forTarget = targetRows(ctx, rowExample ?? new Int32Array(rows))
  const seed = seedOf(target, shape, forTarget.rows, forTarget.n, false)
  if (E.isLeft(seed)) return seed
  const x = asFloat(h)
  const s = seed.right.data
  const P = sizeOf(shape.slice(1))
  if (typeof target === 'object' && target !== null && 'mask' in target) {
    const values = new Float32Array(rows)
    for (let r = 0; r < rows; r++) {
      let acc = 0
      for (let j = 0; j < P; j++) acc += x[r * P + j]! * s[r * P + j]!
      values[r] = acc
    }
    return E.right({ values, shape: [rows] })
  }
  const picked: number[] = []
  for (let i = 0; i < s.length; i++) if (s[i] !== 0) picked.push(x[i]!)
  const sel = selectedShape(target, shape)
  if (picked.length !== sizeOf(sel)) return E.left(err('BadTarget', `the target selects ${picked.length} values from an output of shape [${shape.join(', ')}]; expected ${sizeOf(sel)}`, ['target']))
  return E.right({ values: Float32Array.from(picked), shape: sel })
}

/** F(x) at the flow's rows (one per example): the raw output shape (of the neuron's tensor for a neuron) and the selected values. */
export const evaluateReference = <T>(ctx: RunContext<T>, inputs: readonly T[], rowExample: Int32Array, probe: Probe = {}): TE.TaskEither<AttributionError, Reference> => async () => {
  const res = await evaluate(ctx, probe, inputs, rowExample)
  if (E.isLeft(res)) return res
  const out = res.right
  const outputShape = ctx.backend.shapeOf(out)
  const aggregate = probe.neuron === undefined && (outputShape.length === 0 || outputShape[0] !== rowExample.length)
  const sel = probe.neuron !== undefined ? await neuronSelected(ctx, probe.neuron, out, rowExample) : await selectValues(ctx, out, aggregate ? undefined : rowExample)()
  if (E.isLeft(sel)) return sel
  const of = explainedBy(probe)
  return E.right({ outputShape, aggregate, selected: sel.right.values, selShape: sel.right.shape, ...(of !== undefined ? { of } : {}) })
}

const rowsOfRange = <T>(ctx: RunContext<T>, t: T, start: number, count: number): T => {
  const s = ctx.backend.shapeOf(t)
  return ctx.track(ctx.backend.slice(t, [start, ...s.slice(1).map(() => 0)], [count, ...s.slice(1)]))
}

/**
 * F at K perturbed copies of the batch (rows step-major, K·N rows): a `[K, nOut]` matrix of
 * selected values. Packed into one call when the output grows with the batch (checked against the
 * reference, like Captum's `_is_output_shape_valid`); one call per copy otherwise. A caller who
 * asked for `perturbationsPerEval > 1` on a forward whose output does not grow gets an error, as in
 * Captum; with automatic packing clarus falls back to one copy per call instead.
 */
export const evaluatePerturbed = <T>(
  ctx: RunContext<T>,
  ref: Reference,
  inputs: readonly T[],
  rowExample: Int32Array,
  probe: Probe = {},
): TE.TaskEither<AttributionError, Float32Array> => async () => {
  const N = ctx.nExamples
  const R = rowExample.length
  const K = R / N
  const nOut = ref.selected.length
  if (ref.of !== explainedBy(probe)) {
    return E.left(err('BadPipeline', `F(x) was recorded for ${ref.of ?? 'the target on the output'} but the perturbed copies are evaluated for ${explainedBy(probe) ?? 'the target on the output'}: give reference and forward the same neuron`, ['stages']))
  }
  const one = async (xs: readonly T[], rows: Int32Array): Promise<E.Either<AttributionError, Selected & { raw: readonly number[] }>> => {
    const res = await evaluate(ctx, probe, xs, rows)
    if (E.isLeft(res)) return res
    const out = res.right
    const raw = ctx.backend.shapeOf(out)
    const grows = !ref.aggregate && raw.length === ref.outputShape.length && raw[0] === (rows.length / N) * ref.outputShape[0]!
    if (!grows && rows.length !== N) return E.right({ values: new Float32Array(0), shape: [], raw })
    const sel = probe.neuron !== undefined ? await neuronSelected(ctx, probe.neuron, out, rows) : await selectValues(ctx, out, ref.aggregate ? undefined : rows)()
    return E.map((s: Selected) => ({ ...s, raw }))(sel)
  }
  const perCopy = async (): Promise<E.Either<AttributionError, Float32Array>> => {
    const all = new Float32Array(K * nOut)
    const ident = Int32Array.from({ length: N }, (_, i) => i)
    for (let k = 0; k < K; k++) {
      const r = await one(inputs.map((x) => (K === 1 ? x : rowsOfRange(ctx, x, k * N, N))), ident)
      if (E.isLeft(r)) return r
      if (r.right.values.length !== nOut) {
        return E.left(err('ShapeMismatch', `the forward returned ${r.right.values.length} selected values for a perturbed batch but ${nOut} for the original inputs (shapes [${r.right.raw.join(', ')}] vs [${ref.outputShape.join(', ')}])`, ['model']))
      }
      all.set(r.right.values, k * nOut)
    }
    return E.right(all)
  }
  const refuse = (raw: string): E.Either<AttributionError, never> =>
    E.left(err('ShapeMismatch',
      `with perturbationsPerEval > 1 the forward's output must grow with the batch: for ${N} example(s) it returned shape [${ref.outputShape.join(', ')}], ` +
      `for ${R} rows ${raw}. Set perturbationsPerEval: 1 (or leave it unset) for a forward that aggregates the batch`, ['perturbationsPerEval']))
  const explicit = (ctx.callData.perturbationsPerEval ?? 0) > 1
  if (K === 1) return perCopy()
  if (ref.aggregate) return explicit ? refuse('an output that does not have one row per example') : perCopy()
  const packed = await one(inputs, rowExample)
  if (E.isLeft(packed)) return packed
  if (packed.right.values.length === K * nOut) return E.right(packed.right.values)
  return explicit ? refuse(`shape [${packed.right.raw.join(', ')}]`) : perCopy()
}
