/**
 * `grad`: the gradient of the explained scalar (the call's target) w.r.t. the flow's tensors,
 * evaluated at every row. One forward+backward pass per chunk.
 *
 * - Without `layer`: w.r.t. the attributed inputs; the flow must be in input space.
 * - With `layer` and `inject: false`: the model runs on the flow's inputs and the gradient is taken
 *   w.r.t. the internal tensor `layer` (InternalInfluence, LayerGradientXActivation); the layer's
 *   activation becomes the anchor (the "x" of x ⊙ ∂F/∂x).
 * - With `layer` and `inject: true`: the flow holds *layer values*; the model runs on the call's
 *   inputs with the layer replaced by them, and the gradient is w.r.t. that layer
 *   (LayerIntegratedGradients).
 *
 * `layer` may be a list: one backward pass then gives one gradient per layer, in list order (the
 * flow holds one tensor per layer, and without `inject` one captured activation per layer as
 * anchor). Without `inject` each gradient is the total derivative at that layer, every path to
 * the output counted, so it equals a run with that layer alone (Captum's layer gradients with a
 * list of modules). With `inject` every listed layer is replaced at once by its value in the
 * flow, as Captum's multi-layer LayerIntegratedGradients does: a layer that reaches the output
 * only through another listed layer is cut off, and has no gradient (an error on every backend),
 * so the listed layers must not feed each other.
 *
 * Modified backprop: `ruleSet` (a {@link RuleSet} value, JSON like the rest of the pipeline) makes
 * the backend use that rule set's rules instead of the ordinary gradients (DeepLift, guided
 * backpropagation, deconvolution). `referenceRows: 'halves'` evaluates every row together with its
 * baseline in one batch of 2R rows (the rows, then their baselines; targets, extra arguments and
 * neurons follow each row's example), as Captum's DeepLift does, so rules that compare a row with
 * its reference (`rescale`) can read both. The pair lives inside one model call, so however the
 * interpreter chunks an enclosing expansion it never separates a row from its reference. The
 * gradient of the row half is kept; with a layer, the layer's values at the rows and at the
 * baselines become the anchor (x and x′ of `scaleByDelta`).
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { RuleSetCodec } from '../../core/ruleSet.js'
import { isTargetExpr } from '../../core/targetExpr.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, rowsOf, selectorAt } from '../modelCall.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import { LayerSelection, layerNames, layerSpace, sameLayers, showLayers, spaceLayers, spaceSelection } from '../layers.js'
import { describeNeuron, NeuronRef, neuronNeeds, neuronSelector } from '../neuron.js'
import type { MapStageDef } from '../stage.js'

/**
 * A neuron of an internal tensor: the explained scalar becomes that tensor's selection per example
 * (an index tuple with integers and slices, a mask, or the call's `neuronFn`; see dsl/neuron.ts)
 * instead of the call's target on the model output (neuron methods).
 */
export { NeuronRef, neuronSeed } from '../neuron.js'

export const GradParams = t.readonly(t.partial({ layer: LayerSelection, inject: t.boolean, neuron: NeuronRef, ruleSet: RuleSetCodec, referenceRows: t.literal('halves') }))
export type GradParams = t.TypeOf<typeof GradParams>

export const grad: MapStageDef<'grad', GradParams> = {
  tag: 'grad',
  kind: 'map',
  // with references, every row is evaluated next to its baseline: 2 model rows per row; a target
  // expression costs one forward pass more (selectorAt)
  modelCalls: (p, call) => (p.referenceRows !== undefined ? 2 : 1) * (p.neuron === undefined && isTargetExpr(call.target) ? 2 : 1),
  params: GradParams,
  needs: (p) => [
    ...(p.layer === undefined ? ['floatInputs' as const] : []),
    ...(p.neuron !== undefined ? neuronNeeds(p.neuron) : []),
    ...(p.referenceRows !== undefined ? ['baselines' as const] : []),
  ],
  abstract: (p, f) => {
    const injecting = p.layer !== undefined && p.inject === true
    return firstProblem([
      wrongKind(f, ['points'], 'grad differentiates the model at points'),
      injecting && f.space.kind !== 'layer' ? 'grad({ inject: true }) differentiates layer values: put layerEndpoints before it' : undefined,
      !injecting && f.space.kind === 'layer' ? 'this flow holds layer values: use grad({ layer, inject: true }) to differentiate them' : undefined,
      injecting && f.space.kind === 'layer' && !sameLayers(spaceSelection(f.space)!, p.layer!)
        ? `the flow holds the values of layer ${showLayers(spaceSelection(f.space)!)}, but grad injects ${showLayers(p.layer!)}: name the same layers in layerEndpoints and grad`
        : undefined,
      p.referenceRows !== undefined && injecting ? 'grad({ referenceRows }) pairs model inputs with their baselines; it cannot inject layer values' : undefined,
      p.referenceRows !== undefined && !f.slots.has('baseline') ? 'grad({ referenceRows }) evaluates every row with its baseline, and this flow has none' : undefined,
    ], () => p.layer === undefined
      ? { ...f, kind: 'values', slots: withSlots(f, f.slots.has('baseline') ? ['anchor', 'anchorBaseline'] : ['anchor'], ['anchorBaseline']) }
      : { ...f, kind: 'values', space: layerSpace(p.layer), slots: withSlots(f, p.referenceRows !== undefined ? ['anchor', 'anchorBaseline'] : ['anchor'], p.referenceRows !== undefined ? ['baseline'] : injecting ? ['anchorBaseline'] : ['anchorBaseline', 'baseline']) })
  },
  summary: (p) =>
    (p.neuron !== undefined ? `∂ ${describeNeuron(p.neuron)} ` : '') +
    (p.layer === undefined ? 'wrt inputs' : `wrt layer ${showLayers(p.layer)}${p.inject ? ' (injected)' : ''}`) +
    (p.ruleSet !== undefined ? `, rules ${JSON.stringify(p.ruleSet.name)}` : '') +
    (p.referenceRows !== undefined ? ', each row with its baseline in one batch' : ''),
  run: <T>(p: GradParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const rows = flow.rowExample
    const injecting = p.layer !== undefined && p.inject === true
    if (injecting !== (flow.space.kind === 'layer')) {
      return TE.left(
        err('BadPipeline', injecting
          ? 'grad({ inject: true }) needs a flow in layer space: put layerEndpoints before it'
          : 'this flow holds layer values: use grad({ layer, inject: true }) to differentiate them', ['stages']),
      )
    }
    const layer = p.layer
    const names = layer === undefined ? [] : layerNames(layer)
    if (injecting && (!sameLayers(spaceSelection(flow.space) ?? [], layer!) || flow.value.length !== names.length)) {
      return TE.left(err('BadPipeline', `grad injects layer ${showLayers(layer!)}, but the flow holds the values of ${showLayers(spaceLayers(flow.space))}: name the same layers in layerEndpoints and grad`, ['stages']))
    }
    const paired = p.referenceRows !== undefined
    if (paired && (injecting || flow.baseline === undefined || flow.baseline.length !== flow.value.length)) {
      return TE.left(err('BadPipeline', injecting
        ? 'grad({ referenceRows }) pairs model inputs with their baselines; it cannot inject layer values'
        : 'grad({ referenceRows }) evaluates every row with its baseline: this flow has no baselines (DeepLift takes one per input, zeros by default)', ['stages']))
    }
    const b = ctx.backend
    const R = rows.length
    // with references: the rows, then their baselines, one batch of 2R rows (row R + r is the reference of row r)
    const callRows = paired ? Int32Array.from({ length: 2 * R }, (_, q) => rows[q % R]!) : rows
    const firstHalf = (x: T): T => (paired ? ctx.track(b.slice(x, [0, ...b.shapeOf(x).slice(1).map(() => 0)], [R, ...b.shapeOf(x).slice(1)])) : x)
    const secondHalf = (x: T): T => ctx.track(b.slice(x, [R, ...b.shapeOf(x).slice(1).map(() => 0)], [R, ...b.shapeOf(x).slice(1)]))
    const attributed = paired ? flow.value.map((x, j) => ctx.track(b.concat([x, flow.baseline![j]!], 0))) : flow.value
    const modelInputs = injecting
      ? [...ctx.inputs.map((x) => rowsOf(ctx, x, rows)), ...extraRows(ctx, rows)]
      : [...attributed, ...extraRows(ctx, callRows)]
    const nAttributed = injecting ? 0 : flow.value.length
    const inject = injecting ? Object.fromEntries(names.map((n, j) => [n, flow.value[j]!])) : undefined
    // a target expression is seeded from the output at these inputs (one forward pass first)
    const selector = p.neuron === undefined
      ? selectorAt(ctx, callRows, true, modelInputs, inject !== undefined ? { inject } : {})
      : TE.right(neuronSelector(p.neuron, callRows, ctx))
    return pipe(
      selector,
      TE.chain((sel) => ctx.model.vjp(modelInputs, sel, {
        ...ctx.modelOptions,
        ...(p.ruleSet !== undefined ? { ruleSet: p.ruleSet } : {}),
        ...(paired ? { referenceRows: 'halves' as const } : {}),
        ...(p.neuron !== undefined ? { of: { kind: 'tensor' as const, name: p.neuron.layer } } : {}),
        // one layer (alone or as a one-element list) keeps the single-layer form of the contract
        wrt: layer === undefined ? { kind: 'inputs', count: nAttributed } : names.length === 1 ? { kind: 'layer', name: names[0]! } : names.map((name) => ({ kind: 'layer' as const, name })),
        ...(inject !== undefined ? { inject } : {}),
        ...(layer !== undefined && !injecting ? { capture: names } : {}),
      })),
      TE.map((res) => {
        ctx.track(res.output)
        ctx.track(res.value)
        res.grads.forEach((g) => ctx.track(g))
        Object.values(res.captured).forEach((c) => ctx.track(c))
        ctx.tick(callRows.length)
        if (layer === undefined) {
          if (res.grads.length < nAttributed) {
            throw err('DTypeMismatch', `the backend returned gradients for ${res.grads.length} of ${nAttributed} attributed inputs: every attributed input must be float32`, ['inputs'])
          }
          return { ...flow, value: res.grads.slice(0, nAttributed).map(firstHalf), anchor: { value: flow.value, ...(flow.baseline ? { baseline: flow.baseline } : {}) } }
        }
        if (res.grads.length < names.length) {
          throw err('NotReachable', `the backend returned gradients for ${res.grads.length} of the ${names.length} layers ${showLayers(layer)}`, ['layer'])
        }
        const activations = injecting ? flow.value : names.map((n) => res.captured[n])
        const captured = activations.every((a) => a !== undefined) ? (activations as readonly T[]) : undefined
        const anchor = captured === undefined ? undefined
          : paired ? { value: captured.map(firstHalf), baseline: captured.map(secondHalf) }
            : { value: captured }
        return {
          ...flow,
          value: res.grads.slice(0, names.length).map(firstHalf),
          space: layerSpace(layer),
          ...(anchor !== undefined ? { anchor } : {}),
          ...(injecting ? {} : { baseline: undefined }),
        }
      }),
    )
  },
}
