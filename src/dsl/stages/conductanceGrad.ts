/**
 * `conductanceGrad`: the integrand of neuron conductance (Dhamdhere et al. 2018,
 * arXiv:1805.12233) at every row: the target's gradient *through one neuron* y_n of an internal
 * tensor, (∂F/∂y_n) · (∂y_n/∂x), w.r.t. the attributed inputs. Two backward passes per chunk:
 * F w.r.t. the layer (its element n per row), then y_n w.r.t. the inputs.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, selectorOf, sumPerRow } from '../modelCall.js'
import type { MapStageDef } from '../stage.js'
import { NeuronRef, neuronSeed } from './grad.js'

export const ConductanceGradParams = t.readonly(t.type({ neuron: NeuronRef }))
export type ConductanceGradParams = t.TypeOf<typeof ConductanceGradParams>

export const conductanceGrad: MapStageDef<'conductanceGrad', ConductanceGradParams> = {
  tag: 'conductanceGrad',
  kind: 'map',
  modelCalls: 2,
  params: ConductanceGradParams,
  needs: () => ['floatInputs'],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'conductanceGrad differentiates the model at points'),
      f.space.kind === 'input' ? undefined : 'conductanceGrad differentiates w.r.t. the model inputs: put it before any layer stage',
    ], () => ({ ...f, kind: 'values', slots: withSlots(f, f.slots.has('baseline') ? ['anchor', 'anchorBaseline'] : ['anchor'], ['anchorBaseline']) })),
  summary: (p) => `(∂F/∂y_n)(∂y_n/∂x), y_n = ${JSON.stringify(p.neuron.layer)}[${p.neuron.index.join(', ')}]`,
  run: <T>(p: ConductanceGradParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => async () => {
    const rows = flow.rowExample
    const b = ctx.backend
    const inputs = [...flow.value, ...extraRows(ctx, rows)]
    const n = flow.value.length
    // ∂F/∂a, and its element n per row
    const outer = await ctx.model.vjp(inputs, selectorOf(ctx, rows, true), { ...ctx.modelOptions, wrt: { kind: 'layer', name: p.neuron.layer } })()
    if (outer._tag === 'Left') return outer
    ctx.track(outer.right.output)
    ctx.track(outer.right.value)
    outer.right.grads.forEach((g) => ctx.track(g))
    // (∂F/∂a)_n per row, on the backend: Σ ∂F/∂a ⊙ (the neuron's one-hot seed)
    const seedFor = neuronSeed(p.neuron, rows, ctx.nExamples)
    const ga = outer.right.grads[0]!
    const seed = seedFor(b.shapeOf(ga))
    if (seed._tag === 'Left') return seed
    const through = sumPerRow(ctx, ctx.track(b.mul(ga, ctx.track(b.fromHost(seed.right)))))
    // ∂y_n/∂x
    const inner = await ctx.model.vjp(inputs, { kind: 'linear', seed: seedFor }, {
      ...ctx.modelOptions,
      of: { kind: 'tensor', name: p.neuron.layer },
      wrt: { kind: 'inputs', count: n },
    })()
    if (inner._tag === 'Left') return inner
    ctx.track(inner.right.output)
    ctx.track(inner.right.value)
    inner.right.grads.forEach((g) => ctx.track(g))
    ctx.tick(2 * rows.length)
    if (inner.right.grads.length < n) {
      return { _tag: 'Left', left: err('DTypeMismatch', `the backend returned gradients for ${inner.right.grads.length} of ${n} attributed inputs: every attributed input must be float32`, ['inputs']) }
    }
    const value = inner.right.grads.slice(0, n).map((g) => {
      const rank = b.shapeOf(g).length
      return ctx.track(b.mul(g, ctx.track(b.reshape(through, [rows.length, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]))))
    })
    return { _tag: 'Right', right: { ...flow, value, anchor: { value: flow.value, ...(flow.baseline ? { baseline: flow.baseline } : {}) } } }
  },
}
