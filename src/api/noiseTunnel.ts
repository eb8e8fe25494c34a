/**
 * Captum's `NoiseTunnel(attribution_method)`: wraps any clarus class (any {@link Explainer}) and
 * averages its attributions over noisy copies of the inputs. See {@link noiseTunnel}.
 *
 * ```ts
 * const nt = new NoiseTunnel(new IntegratedGradients(model))
 * const attr = await nt.attribute(x, { target: 3, ntType: 'smoothgrad_sq', nSamples: 20, stdevs: 0.1, nSteps: 32 })
 * ```
 *
 * @category api
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { noiseTunnel, NoiseTunnelOptions } from '../algorithms/noiseTunnel.js'
import { ClarusError, invalidSpec } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { SampleStatistic } from '../dsl/stages/sampleMean.js'
import { abstractResult, type Pipeline } from '../dsl/spec.js'
import { isLayerList } from '../dsl/layers.js'
import type { CallOptions } from './attribute.js'
import { checked, mirror, pick, runOrThrow, type Explainer, type Inputs, type Mirrored } from './explainer.js'
import { neuronCallOptions } from './neuronSelector.js'

/** NoiseTunnel's own options (Captum's names, camelCased); the wrapped method's options sit next to them. */
export interface NoiseTunnelCallOptions<T> extends CallOptions<T> {
  /** `smoothgrad` (default): E[a]; `smoothgrad_sq`: E[a²]; `vargrad`: Var[a]. */
  readonly ntType?: SampleStatistic
  /** Noisy copies per example (default 5). */
  readonly nSamples?: number
  /** Copies per model call at most (Captum's `nt_samples_batch_size`); it also orders the deltas as Captum does. */
  readonly nSamplesBatchSize?: number
  /** σ of the Gaussian noise: one for every input or one per input (default 1). */
  readonly stdevs?: number | readonly number[]
  /** Draw one baseline row per copy from `baselines`, a distribution [B, …] per input (default false). */
  readonly drawBaselineFromDistrib?: boolean
  /** The wrapped method's deltas (N·nSamples values), when it has them. */
  readonly returnConvergenceDelta?: boolean
  /** Any option of the wrapped method (nSteps, abs, slidingWindowShapes, …). */
  readonly [methodOption: string]: unknown
}

const NT_KEYS = ['ntType', 'nSamples', 'nSamplesBatchSize', 'stdevs', 'drawBaselineFromDistrib'] as const

/**
 * What {@link NoiseTunnel.attribute} resolves to for a wrapped method `M` and inputs `I`: a layer
 * class's layer result (a list for a list of layers), the inputs' shape for the others, and the
 * union when `M` is only known as an {@link Explainer}.
 */
export type NoiseTunnelResult<M, I> =
  M extends { readonly resultKind: 'layer'; readonly layer: infer L } ? (L extends readonly string[] ? HostTensor[] : HostTensor)
    : 'resultKind' extends keyof M ? Mirrored<I> | HostTensor | HostTensor[]
      : Mirrored<I>

export class NoiseTunnel<T, M extends Explainer<T> = Explainer<T>> {
  readonly model: Explainer<T>['model']
  constructor(readonly method: M & Explainer<T>) {
    this.model = method.model
  }

  /** The pipeline for these options: NoiseTunnel around the wrapped method's pipeline. */
  pipelineFor(options: object): Pipeline {
    const o = checked(NoiseTunnelOptions, pick(options, NT_KEYS))
    // nSamples and its kin belong to NoiseTunnel here; the wrapped method gets the rest
    const inner = Object.fromEntries(Object.entries(options).filter(([k]) => !(NT_KEYS as readonly string[]).includes(k)))
    return noiseTunnel(this.method.pipelineFor(inner), o)
  }

  // a layer method's result is one tensor, or a list for a list of layers
  attribute<I extends Inputs<T>>(inputs: I, options: NoiseTunnelCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[NoiseTunnelResult<M, I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: NoiseTunnelCallOptions<T>): Promise<NoiseTunnelResult<M, I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: NoiseTunnelCallOptions<T> = {}): Promise<NoiseTunnelResult<M, I> | [NoiseTunnelResult<M, I>, HostTensor]> {
    const p = this.pipelineFor(options)
    const shape = abstractResult(p)
    if (options.returnConvergenceDelta === true && E.isRight(shape) && !shape.right.flow.slots.has('delta')) {
      throw new ClarusError(invalidSpec([{ path: ['returnConvergenceDelta'], message: `${p.name}: the wrapped method has no convergence delta; call without returnConvergenceDelta` }]))
    }
    const plugins = this.method.plugins
    // a neuron method's selector function travels as call data (see neuronSelector.ts)
    const call = neuronCallOptions(options)
    const r = await runOrThrow(p, this.model, inputs, plugins !== undefined ? { ...call, plugins: { ...options.plugins, ...plugins } } : call)
    const space = E.isRight(shape) ? shape.right.flow.space : undefined
    // the run's shape is what NoiseTunnelResult<M, I> states for M (layer classes declare resultKind)
    const attrs = (space?.kind === 'layer' ? (isLayerList(space) ? [...r.attributions] : r.attributions[0]!) : mirror(inputs, r.attributions)) as NoiseTunnelResult<M, I>
    if (options.returnConvergenceDelta !== true || r.delta === undefined) return attrs
    return [attrs, r.delta]
  }
}
