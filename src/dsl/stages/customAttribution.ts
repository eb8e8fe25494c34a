/**
 * `customAttribution`: replaces the final product of a baseline method by a call-time function of
 * the multipliers, the values and their baselines — Captum's `custom_attribution_func` of DeepLift,
 * DeepLiftShap and their layer and neuron variants. The pipeline names the function
 * (`{ _tag: 'custom', name }`) and the call supplies it in `plugins.attributions`, as Lime's
 * plug-ins, so the pipeline stays JSON. The function gets host tensors (the multipliers, x and x′
 * of every attributed tensor, rows of this chunk) and returns one tensor per multiplier tensor, of
 * its shape; anything else is a typed error naming the function.
 *
 * @category stages
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { CustomRef, pluginOf } from '../perturbation/plugins.js'
import type { MapStageDef } from '../stage.js'

export const CustomAttributionParams = t.readonly(t.type({ fn: CustomRef }))
export type CustomAttributionParams = t.TypeOf<typeof CustomAttributionParams>

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

export const customAttribution: MapStageDef<'customAttribution', CustomAttributionParams> = {
  tag: 'customAttribution',
  kind: 'map',
  params: CustomAttributionParams,
  needs: () => ['plugins'],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'customAttribution combines computed multipliers with x and x′'),
      missingSlot(f, ['anchor', 'anchorBaseline'], 'put it right after a grad stage that evaluates each row with its baseline'),
    ], () => f),
  summary: (p) => `${p.fn.name}(multipliers, x, x′)`,
  run: <T>(p: CustomAttributionParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => async () => {
    const anchor = flow.anchor
    if (anchor?.baseline === undefined) {
      return E.left(err('BadPipeline', 'customAttribution needs the values and their baselines: put it right after grad({ referenceRows })', ['stages']))
    }
    const b = ctx.backend
    const fn = pluginOf(ctx.callData.plugins, 'attributions', p.fn.name)
    const host = (ts: readonly T[]): Promise<HostTensor[]> => Promise.all(ts.map((x) => b.toHost(x)))
    const multipliers = await host(flow.value)
    const request = { multipliers, inputs: await host(anchor.value), baselines: await host(anchor.baseline) }
    let out: readonly HostTensor[]
    try {
      out = fn(request)
    } catch (e) {
      return E.left(err('BadPipeline', `the custom attribution function ${JSON.stringify(p.fn.name)} failed: ${e instanceof Error ? e.message : String(e)}`, ['plugins', 'attributions', p.fn.name]))
    }
    if (!Array.isArray(out) || out.length !== multipliers.length || out.some((o, j) => o === null || typeof o !== 'object' || !Array.isArray(o.shape) || !same(o.shape, multipliers[j]!.shape))) {
      return E.left(err('BadPipeline', `the custom attribution function ${JSON.stringify(p.fn.name)} must return ${multipliers.length} tensor(s) shaped like the multipliers ` +
        `(${multipliers.map((m) => `[${m.shape.join(', ')}]`).join(', ')})`, ['plugins', 'attributions', p.fn.name]))
    }
    return E.right({ ...flow, value: out.map((o) => ctx.track(b.fromHost(o))) })
  },
}
