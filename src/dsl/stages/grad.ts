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
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import type { Selector } from '../../core/backend.js'
import { Integer } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { seedOf } from '../../core/target.js'
import type { HostTensor } from '../../core/tensor.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, rowsOf, selectorOf } from '../modelCall.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

/**
 * A neuron of an internal tensor: the explained scalar becomes that tensor's element at `index`
 * (per example, without the batch dimension; Captum's `neuron_selector` as an int or a tuple),
 * instead of the call's target on the model output (neuron methods).
 */
export const NeuronRef = t.readonly(t.type({ layer: t.string, index: t.readonlyArray(Integer) }), 'NeuronRef')
export type NeuronRef = t.TypeOf<typeof NeuronRef>

export const GradParams = t.readonly(t.partial({ layer: t.string, inject: t.boolean, neuron: NeuronRef }))
export type GradParams = t.TypeOf<typeof GradParams>

export const grad: MapStageDef<'grad', GradParams> = {
  tag: 'grad',
  kind: 'map',
  modelCalls: 1,
  params: GradParams,
  needs: (p) => (p.layer === undefined ? ['floatInputs'] : []),
  abstract: (p, f) => {
    const injecting = p.layer !== undefined && p.inject === true
    return firstProblem([
      wrongKind(f, ['points'], 'grad differentiates the model at points'),
      injecting && f.space.kind !== 'layer' ? 'grad({ inject: true }) differentiates layer values: put layerEndpoints before it' : undefined,
      !injecting && f.space.kind === 'layer' ? 'this flow holds layer values: use grad({ layer, inject: true }) to differentiate them' : undefined,
    ], () => p.layer === undefined
      ? { ...f, kind: 'values', slots: withSlots(f, f.slots.has('baseline') ? ['anchor', 'anchorBaseline'] : ['anchor'], ['anchorBaseline']) }
      : { ...f, kind: 'values', space: { kind: 'layer', name: p.layer }, slots: withSlots(f, ['anchor'], injecting ? ['anchorBaseline'] : ['anchorBaseline', 'baseline']) })
  },
  summary: (p) =>
    (p.neuron !== undefined ? `∂ ${JSON.stringify(p.neuron.layer)}[${p.neuron.index.join(', ')}] ` : '') +
    (p.layer === undefined ? 'wrt inputs' : `wrt layer ${JSON.stringify(p.layer)}${p.inject ? ' (injected)' : ''}`),
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
    const modelInputs = injecting
      ? [...ctx.inputs.map((x) => rowsOf(ctx, x, rows)), ...extraRows(ctx, rows)]
      : [...flow.value, ...extraRows(ctx, rows)]
    const nAttributed = injecting ? 0 : flow.value.length
    const layer = p.layer
    return pipe(
      ctx.model.vjp(modelInputs, p.neuron === undefined ? selectorOf(ctx, rows, true) : neuronSelector(p.neuron, rows, ctx.nExamples), {
        ...ctx.modelOptions,
        ...(p.neuron !== undefined ? { of: { kind: 'tensor' as const, name: p.neuron.layer } } : {}),
        wrt: layer === undefined ? { kind: 'inputs', count: nAttributed } : { kind: 'layer', name: layer },
        ...(injecting && layer !== undefined ? { inject: { [layer]: flow.value[0]! } } : {}),
        ...(layer !== undefined && !injecting ? { capture: [layer] } : {}),
      }),
      TE.map((res) => {
        ctx.track(res.output)
        ctx.track(res.value)
        res.grads.forEach((g) => ctx.track(g))
        Object.values(res.captured).forEach((c) => ctx.track(c))
        ctx.tick(rows.length)
        if (layer === undefined) {
          if (res.grads.length < nAttributed) {
            throw err('DTypeMismatch', `the backend returned gradients for ${res.grads.length} of ${nAttributed} attributed inputs: every attributed input must be float32`, ['inputs'])
          }
          return { ...flow, value: res.grads.slice(0, nAttributed), anchor: { value: flow.value, ...(flow.baseline ? { baseline: flow.baseline } : {}) } }
        }
        const activation = injecting ? flow.value[0]! : res.captured[layer]
        return {
          ...flow,
          value: res.grads.slice(0, 1),
          space: { kind: 'layer' as const, name: layer },
          ...(activation !== undefined ? { anchor: { value: [activation] } } : {}),
          ...(injecting ? {} : { baseline: undefined }),
        }
      }),
    )
  },
}

/** The seed that picks one element per row of the neuron's tensor (its batch dimension first). */
export const neuronSeed = (n: NeuronRef, rows: Int32Array, nExamples: number) => (shape: readonly number[]): E.Either<AttributionError, HostTensor> => {
  const s = seedOf({ index: n.index }, shape, rows, nExamples, true)
  return E.isLeft(s) ? E.left({ ...s.left, message: `neuron ${JSON.stringify(n.layer)}[${n.index.join(', ')}]: ${s.left.message}`, path: ['neuron'] }) : s
}

const neuronSelector = <T>(n: NeuronRef, rows: Int32Array, nExamples: number): Selector<T> => ({ kind: 'linear', seed: neuronSeed(n, rows, nExamples) })
