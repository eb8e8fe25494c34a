/**
 * A forward-only {@link Model} from a plain (async) JavaScript function over host tensors: any
 * black box (a remote service, a hand-written scorer, a model from a runtime clarus has no backend
 * for) can be explained by the perturbation methods, which need only forward passes.
 *
 * `fn` receives copies of the attributed inputs followed by any additional forward arguments, each
 * with the (perturbed) rows of the batch first, and returns the output with one row per input row
 * (or one value for the whole batch: a number or a 0-d tensor, Captum's "aggregate" forward).
 * Being copies, they are `fn`'s to modify: the caller's tensors never change.
 *
 * Captum: passing any Python callable as `forward_func` to a perturbation method.
 *
 * @example
 * ```ts
 * const model = fromFunction(async ([x]) => float32([x!.shape[0]!, 1], rowSums(x!)))
 * const attr = await new FeatureAblation(model).attribute(float32([1, 3], [1, 2, 3]))
 * ```
 *
 * @category backends
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Model, TensorInfo } from '../../core/backend.js'
import { isHostTensor } from '../../core/codecs.js'
import { backendFailure, err, isAttributionError } from '../../core/errors.js'
import { nonFiniteIn } from '../../core/finite.js'
import type { HostTensor } from '../../core/tensor.js'
import { hostBackend } from './hostBackend.js'

/** What the function returns: a host tensor, or one number for the whole batch. */
export type FunctionOutput = HostTensor | number

export interface FromFunctionOptions {
  /** Declared inputs and outputs (documentation and checks only; optional). */
  readonly inputs?: readonly TensorInfo[]
  readonly outputs?: readonly TensorInfo[]
}

const copyOf = (x: HostTensor): HostTensor => ({ ...x, shape: [...x.shape], data: x.data.slice() } as HostTensor)

/**
 * A forward-only model over `fn`. `fn` receives copies of the tensors, so it may write to them.
 * Gradient methods on it fail with a typed `Unsupported` error.
 */
export const fromFunction = (
  fn: (inputs: readonly HostTensor[]) => Promise<FunctionOutput> | FunctionOutput,
  options: FromFunctionOptions = {},
): Model<HostTensor> => ({
  backend: hostBackend,
  signature: { inputs: options.inputs ?? [], outputs: options.outputs ?? [], layers: [], layerInfo: [] },
  forward: (inputs, opts) => {
    if ((opts?.capture?.length ?? 0) > 0 || Object.keys(opts?.inject ?? {}).length > 0) {
      return TE.left(err('Unsupported', 'a model made with fromFunction has no internal tensors (layers): use a tfjs or ONNX model for layer methods', ['layer']))
    }
    return async () => {
      try {
        // fn gets its own copies: a function that writes to its arguments must not reach the
        // caller's tensors (which may be the user's inputs) or the rows clarus still needs
        const raw = await fn(inputs.map(copyOf))
        const out: HostTensor | undefined = typeof raw === 'number' ? { dtype: 'float32', shape: [], data: Float32Array.of(raw) } : isHostTensor(raw) ? raw : undefined
        if (out === undefined) {
          return { _tag: 'Left', left: err('BadModel', 'the forward function must return a host tensor {dtype, shape, data} or a number', ['model']) }
        }
        const bad = opts?.allowNonFinite === true ? undefined : nonFiniteIn(out, ['output'], 'the forward function\'s output', 'check the function for divisions by zero, logs of non-positive values and overflow')
        return bad !== undefined ? { _tag: 'Left', left: bad } : { _tag: 'Right', right: { output: out, captured: {} } }
      } catch (e) {
        return { _tag: 'Left', left: isAttributionError(e) ? e : backendFailure(`the forward function threw: ${e instanceof Error ? e.message : String(e)}`, e, ['model']) }
      }
    }
  },
  vjp: () =>
    TE.left(err('Unsupported', 'gradient methods need a differentiable backend; use tfjs or ONNX, or a perturbation method (FeatureAblation, Occlusion, ShapleyValueSampling, KernelShap, Lime, …)', ['model'])),
  dispose: () => Promise.resolve(),
})
