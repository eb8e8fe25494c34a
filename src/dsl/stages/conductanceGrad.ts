/**
 * `conductanceGrad`: the integrand of neuron conductance (Dhamdhere et al. 2018,
 * arXiv:1805.12233) at every row: the target's gradient *through one neuron* y_n of an internal
 * tensor, (∂F/∂y_n) · (∂y_n/∂x), w.r.t. the attributed inputs. Two backward passes per chunk:
 * F w.r.t. the layer, then y_n w.r.t. the inputs.
 *
 * The neuron may be any selection of dsl/neuron.ts. As Captum does, the selector is applied to
 * both factors: ∂F/∂y_n is the selection of the layer gradient ∂F/∂y (for a slice, Σ over the
 * block; for a mask m, Σ m ⊙ ∂F/∂y; for a function, the function of ∂F/∂y), and ∂y_n/∂x is the
 * gradient of the selected value. For one element that is exact; for an aggregate (slice, mask,
 * or a function that sums) it is (Σ_j m_j ∂F/∂y_j)(Σ_j m_j ∂y_j/∂x), which is *not* the sum of
 * the neurons' conductances. Captum documents that its conductance callables should only select,
 * not aggregate, and warns about it; clarus computes the same value and says so here.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, selectorAt } from '../modelCall.js'
import { isTargetExpr } from '../../core/targetExpr.js'
import { describeNeuron, NeuronRef, neuronNeeds, neuronSelector, selectNeuron } from '../neuron.js'
import type { MapStageDef } from '../stage.js'

export const ConductanceGradParams = t.readonly(t.type({ neuron: NeuronRef }))
export type ConductanceGradParams = t.TypeOf<typeof ConductanceGradParams>

export const conductanceGrad: MapStageDef<'conductanceGrad', ConductanceGradParams> = {
  tag: 'conductanceGrad',
  kind: 'map',
  // a target expression costs one forward pass more (selectorAt)
  modelCalls: (_p, call) => (isTargetExpr(call.target) ? 3 : 2),
  params: ConductanceGradParams,
  needs: (p) => ['floatInputs', ...neuronNeeds(p.neuron)],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'conductanceGrad differentiates the model at points'),
      f.space.kind === 'input' ? undefined : 'conductanceGrad differentiates w.r.t. the model inputs: put it before any layer stage',
    ], () => ({ ...f, kind: 'values', slots: withSlots(f, f.slots.has('baseline') ? ['anchor', 'anchorBaseline'] : ['anchor'], ['anchorBaseline']) })),
  summary: (p) => `(∂F/∂y_n)(∂y_n/∂x), y_n = ${describeNeuron(p.neuron)}`,
  run: <T>(p: ConductanceGradParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => async () => {
    const rows = flow.rowExample
    const b = ctx.backend
    const inputs = [...flow.value, ...extraRows(ctx, rows)]
    const n = flow.value.length
    // ∂F/∂a, and its selection per row
    const sel = await selectorAt(ctx, rows, true, inputs)()
    if (sel._tag === 'Left') return sel
    const outer = await ctx.model.vjp(inputs, sel.right, { ...ctx.modelOptions, wrt: { kind: 'layer', name: p.neuron.layer } })()
    if (outer._tag === 'Left') return outer
    ctx.track(outer.right.output)
    ctx.track(outer.right.value)
    outer.right.grads.forEach((g) => ctx.track(g))
    ctx.tick(rows.length)
    // ∂y_n/∂x (first: a backend that cannot differentiate a selector function says so here)
    const inner = await ctx.model.vjp(inputs, neuronSelector(p.neuron, rows, ctx), {
      ...ctx.modelOptions,
      of: { kind: 'tensor', name: p.neuron.layer },
      wrt: { kind: 'inputs', count: n },
    })()
    if (inner._tag === 'Left') return inner
    ctx.track(inner.right.output)
    ctx.track(inner.right.value)
    inner.right.grads.forEach((g) => ctx.track(g))
    ctx.tick(rows.length)
    if (inner.right.grads.length < n) {
      return { _tag: 'Left', left: err('DTypeMismatch', `the backend returned gradients for ${inner.right.grads.length} of ${n} attributed inputs: every attributed input must be float32`, ['inputs']) }
    }
    // (∂F/∂a)_n per row, on the backend: the neuron's selection applied to ∂F/∂a
    const through = selectNeuron(ctx, p.neuron, outer.right.grads[0]!, rows)
    if (through._tag === 'Left') return through
    const value = inner.right.grads.slice(0, n).map((g) => {
      const rank = b.shapeOf(g).length
      return ctx.track(b.mul(g, ctx.track(b.reshape(through.right, [rows.length, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]))))
    })
    return { _tag: 'Right', right: { ...flow, value, anchor: { value: flow.value, ...(flow.baseline ? { baseline: flow.baseline } : {}) } } }
  },
}
