/**
 * Captum-style classes: `new IntegratedGradients(model).attribute(inputs, { target, … })`.
 * A thin, logic-free facade over the pipelines and {@link attribute}: each class builds its
 * pipeline from the options and runs it. Results are host tensors that mirror the inputs (one
 * tensor in → one tensor out; a list in → a list out), so no backend tensor outlives the call.
 * Failures throw a {@link ClarusError} carrying the typed error.
 *
 * @category api
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { ClarusError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { inputXGradient } from '../algorithms/inputXGradient.js'
import { integratedGradients } from '../algorithms/integratedGradients.js'
import { layerActivation } from '../algorithms/layerActivation.js'
import { layerGradientXActivation } from '../algorithms/layerGradientXActivation.js'
import { layerIntegratedGradients } from '../algorithms/layerIntegratedGradients.js'
import { saliency } from '../algorithms/saliency.js'
import type { QuadratureRule } from '../dsl/quadratureRules.js'
import type { Pipeline } from '../dsl/spec.js'
import { attribute, type CallOptions } from './attribute.js'
import type { TensorLike } from './callData.js'
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { QuadratureRule as QuadratureRuleCodec } from '../dsl/quadratureRules.js'

/** A result mirroring the inputs' container. */
export type Mirrored<I> = I extends readonly unknown[] ? HostTensor[] : HostTensor

const run = async <T>(method: Pipeline, model: Model<T>, inputs: TensorLike<T> | readonly TensorLike<T>[], options: CallOptions<T>) => {
  const r = await attribute(method, model, inputs, options)()
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

const mirror = <I>(inputs: I, attrs: readonly HostTensor[]): Mirrored<I> =>
  (Array.isArray(inputs) ? [...attrs] : attrs[0]) as Mirrored<I>

const checked = <A>(codec: t.Decoder<unknown, A>, u: unknown): A => {
  const r = decodeWith(codec, u)
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

const PathOptions = t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec, returnConvergenceDelta: t.boolean })

/** Options of IntegratedGradients.attribute (Captum's names, camelCased). */
export interface IntegratedGradientsCallOptions<T> extends CallOptions<T> {
  readonly nSteps?: number
  readonly method?: QuadratureRule
  readonly returnConvergenceDelta?: boolean
}

/**
 * Captum: `IntegratedGradients(forward_func, multiply_by_inputs=True)`. See
 * {@link integratedGradients} for the formula. With `returnConvergenceDelta: true` the call
 * resolves to `[attributions, delta]`, as in Captum.
 */
export class IntegratedGradients<T> {
  constructor(
    readonly model: Model<T>,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}

  attribute<I extends TensorLike<T> | readonly TensorLike<T>[]>(inputs: I, options: IntegratedGradientsCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends TensorLike<T> | readonly TensorLike<T>[]>(inputs: I, options?: IntegratedGradientsCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends TensorLike<T> | readonly TensorLike<T>[]>(inputs: I, options: IntegratedGradientsCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const o = checked(PathOptions, options)
    const method = integratedGradients({ ...o, ...(this.options.multiplyByInputs !== undefined ? { multiplyByInputs: this.options.multiplyByInputs } : {}) })
    const r = await run(method, this.model, inputs, options)
    return o.returnConvergenceDelta ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/** Options of Saliency.attribute. */
export interface SaliencyCallOptions<T> extends CallOptions<T> {
  /** Absolute value of the gradient (default true, as in Captum). */
  readonly abs?: boolean
}

/** Captum: `Saliency(forward_func)`; `attribute(inputs, { target, abs = true, additionalForwardArgs })`. */
export class Saliency<T> {
  constructor(readonly model: Model<T>) {}
  async attribute<I extends TensorLike<T> | readonly TensorLike<T>[]>(inputs: I, options: SaliencyCallOptions<T> = {}): Promise<Mirrored<I>> {
    const o = checked(t.partial({ abs: t.boolean }), options)
    return mirror(inputs, (await run(saliency(o), this.model, inputs, options)).attributions)
  }
}

/** Captum: `InputXGradient(forward_func)`; `attribute(inputs, { target, additionalForwardArgs })`. */
export class InputXGradient<T> {
  constructor(readonly model: Model<T>) {}
  async attribute<I extends TensorLike<T> | readonly TensorLike<T>[]>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(inputXGradient(), this.model, inputs, options)).attributions)
  }
}

/**
 * Captum: `LayerIntegratedGradients(forward_func, layer, multiply_by_inputs=True)`. `layer` names
 * an internal tensor of the model (for ONNX: a tensor name in the graph). Resolves to the layer
 * attribution (one tensor), or `[attribution, delta]` with `returnConvergenceDelta: true`.
 */
export class LayerIntegratedGradients<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}

  attribute(inputs: TensorLike<T> | readonly TensorLike<T>[], options: IntegratedGradientsCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: TensorLike<T> | readonly TensorLike<T>[], options?: IntegratedGradientsCallOptions<T>): Promise<HostTensor>
  async attribute(inputs: TensorLike<T> | readonly TensorLike<T>[], options: IntegratedGradientsCallOptions<T> = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const o = checked(PathOptions, options)
    const method = layerIntegratedGradients({ layer: this.layer, ...o, ...(this.options.multiplyByInputs !== undefined ? { multiplyByInputs: this.options.multiplyByInputs } : {}) })
    const r = await run(method, this.model, inputs, options)
    return o.returnConvergenceDelta ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** Captum: `LayerGradientXActivation(forward_func, layer, multiply_by_inputs=True)`. */
export class LayerGradientXActivation<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  async attribute(inputs: TensorLike<T> | readonly TensorLike<T>[], options: CallOptions<T> = {}): Promise<HostTensor> {
    const method = layerGradientXActivation({ layer: this.layer, ...(this.options.multiplyByInputs !== undefined ? { multiplyByInputs: this.options.multiplyByInputs } : {}) })
    return (await run(method, this.model, inputs, options)).attributions[0]!
  }
}

/** Captum: `LayerActivation(forward_func, layer)`; `attribute(inputs, { additionalForwardArgs })`. */
export class LayerActivation<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  async attribute(inputs: TensorLike<T> | readonly TensorLike<T>[], options: Pick<CallOptions<T>, 'additionalForwardArgs' | 'signal'> = {}): Promise<HostTensor> {
    return (await run(layerActivation({ layer: this.layer }), this.model, inputs, options)).attributions[0]!
  }
}
