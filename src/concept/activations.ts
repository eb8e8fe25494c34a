/**
 * What TCAV reads from a model: flattened layer activations of concept examples (one forward pass
 * per batch, capturing every needed layer at once) and flattened layer gradients of the target at
 * the explained inputs (one backward pass for all layers). Everything comes back as host arrays;
 * every backend tensor made here is disposed before the function returns.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { disposeAll, type Model } from '../core/backend.js'
import { hostTensorProblem, isHostTensor } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { seedOf, type Target } from '../core/target.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import { batchesOf, type Concept } from './concept.js'

/** Rows of flattened activations (or gradients) of one layer: `rows × dim`, row-major. */
export interface LayerRows {
  readonly rows: number
  readonly dim: number
  readonly data: Float32Array
}

const asFloat32 = (h: HostTensor): Float32Array => (h.data instanceof Float32Array ? h.data : Float32Array.from(h.data as ArrayLike<number>, Number))

const concatRows = (parts: readonly HostTensor[]): LayerRows => {
  const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 1), 0)
  const dim = parts.length === 0 ? 0 : sizeOf(parts[0]!.shape.slice(1))
  const data = new Float32Array(rows * dim)
  let at = 0
  for (const p of parts) {
    data.set(asFloat32(p), at)
    at += p.data.length
  }
  return { rows, dim, data }
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * The activations of `concept` at each of `tensors` (layer tensor names), keyed by tensor.
 * `exampleShape` (the shape of one model input example), when given, is checked against every
 * batch. Typed errors: a batch that is not a float32 `[n, …]` tensor of that shape, a concept
 * without any example (`EmptyInput` naming the concept), and whatever the model reports.
 */
export const conceptActivations = async <T>(
  model: Model<T>,
  concept: Concept,
  tensors: readonly string[],
  exampleShape: readonly number[] | undefined,
): Promise<E.Either<AttributionError, ReadonlyMap<string, LayerRows>>> => {
  const backend = model.backend
  const parts = new Map<string, HostTensor[]>(tensors.map((n) => [n, []]))
  const label = `concept ${JSON.stringify(concept.name)} (id ${concept.id})`
  let shape = exampleShape
  let b = 0
  for await (const batch of batchesOf(concept.data)) {
    const path = ['concepts', String(concept.id), 'data', String(b)]
    if (!isHostTensor(batch)) {
      const problem = hostTensorProblem(batch)
      return E.left(err('ShapeMismatch', `${label}: batch ${b} is not a host tensor {dtype, shape, data}${problem === undefined ? '' : ` (${problem.message})`}`, path))
    }
    if (batch.dtype !== 'float32' || batch.shape.length < 1) {
      return E.left(err('DTypeMismatch', `${label}: batch ${b} must be a float32 tensor [n, …one example]; got ${batch.dtype} [${batch.shape.join(', ')}]`, path))
    }
    if (shape !== undefined && !sameShape(batch.shape.slice(1), shape)) {
      return E.left(err('ShapeMismatch', `${label}: batch ${b} holds examples of shape [${batch.shape.slice(1).join(', ')}]; the model is given examples of shape [${shape.join(', ')}]`, path))
    }
    shape = batch.shape.slice(1)
    b++
    if ((batch.shape[0] ?? 0) === 0) continue
    const x = backend.fromHost(batch)
    try {
      const f = await model.forward([x], { capture: tensors })()
      if (E.isLeft(f)) return f
      try {
        for (const n of tensors) {
          const c = f.right.captured[n]
          if (c === undefined) return E.left(err('UnknownTensor', `the model did not return layer ${JSON.stringify(n)} for ${label}`, ['layers']))
          parts.get(n)!.push(await backend.toHost(c))
        }
      } finally {
        disposeAll(backend, [f.right.output, ...Object.values(f.right.captured)])
      }
    } finally {
      backend.dispose(x)
    }
  }
  if (parts.get(tensors[0]!)!.length === 0) {
    return E.left(err('EmptyInput', `${label} has no examples: a CAV needs at least one activation per concept; give its data as a tensor [n, …] with n ≥ 1 (or a source that yields one)`, ['concepts', String(concept.id), 'data']))
  }
  return E.right(new Map(tensors.map((n) => [n, concatRows(parts.get(n)!)])))
}

/**
 * The gradient of the target output w.r.t. each of `tensors` at `inputs`, flattened to `[N, D]`
 * per tensor (Captum's TCAV sensitivity: `LayerGradientXActivation(…, multiply_by_inputs=False)`).
 * `inputs` are the explained inputs followed by any additional forward arguments.
 */
export const layerGradients = async <T>(
  model: Model<T>,
  inputs: readonly HostTensor[],
  target: Target,
  tensors: readonly string[],
): Promise<E.Either<AttributionError, ReadonlyMap<string, LayerRows>>> => {
  const backend = model.backend
  const n = inputs[0]?.shape[0] ?? 0
  const rowExample = Int32Array.from({ length: n }, (_, i) => i)
  const xs = inputs.map((h) => backend.fromHost(h))
  try {
    const r = await model.vjp(xs, { kind: 'linear', seed: (shape) => seedOf(target, shape, rowExample, n, true) }, { wrt: tensors.map((name) => ({ kind: 'layer' as const, name })) })()
    if (E.isLeft(r)) return r
    try {
      const out = new Map<string, LayerRows>()
      for (let i = 0; i < tensors.length; i++) out.set(tensors[i]!, concatRows([await backend.toHost(r.right.grads[i]!)]))
      return E.right(out)
    } finally {
      disposeAll(backend, [r.right.output, r.right.value, ...r.right.grads, ...Object.values(r.right.captured)])
    }
  } finally {
    disposeAll(backend, xs)
  }
}
