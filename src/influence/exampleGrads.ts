/**
 * Per-example loss gradients w.r.t. chosen parameters for one batch on one checkpoint, kept
 * factorised where the layer allows it (Captum's "sample-wise trick"): for a fully-connected weight
 * the gradient of example i is gᵢ ⊗ aᵢ (gᵢ the loss gradient at the layer's output, aᵢ the
 * layer's input row), so a forward pass, one batched backward pass to the layer outputs and the
 * captured inputs give every example's gradient without forming it, and dot products factorise:
 * ⟨gᵢ ⊗ aᵢ, gⱼ ⊗ aⱼ⟩ = (gᵢ·gⱼ)(aᵢ·aⱼ). Parameters without a factorisation (`perExample` unset:
 * convolutions, normalisations, shared weights), or whose tensors do not have one row per example
 * at run time, fall back to one backward pass per example.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model, ParameterInfo, Selector } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import { float32, hostGatherRows, sizeOf, type HostTensor } from '../core/tensor.js'
import { lossGrad, type InfluenceLoss } from './loss.js'

/**
 * One parameter's per-example gradients for `rows` examples (float64, row-major):
 * - `outer`: example i's gradient is gᵢ ⊗ aᵢ (`outputFirst`, [p, q]) or aᵢ ⊗ gᵢ ([q, p]), with g
 *   [rows, p] (the parameter's scale folded in) and a [rows, q];
 * - `flat`: example i's gradient, flattened, is row i of v [rows, d].
 */
export type GradTerm =
  | { readonly kind: 'outer'; readonly g: Float64Array; readonly a: Float64Array; readonly p: number; readonly q: number; readonly outputFirst: boolean }
  | { readonly kind: 'flat'; readonly v: Float64Array; readonly d: number }

/** Per-example gradients of a batch: one term per parameter, in the order the parameters were given. */
export interface ExampleGrads {
  readonly rows: number
  readonly terms: readonly GradTerm[]
}

export interface ExampleGradsOptions {
  /** False: one backward pass per example for every parameter (Captum's sample_wise_grads_per_batch=False). */
  readonly sampleWise: boolean
  readonly allowNonFinite: boolean
}

/** A term's example gradients as flat rows (materialises an outer product). */
export const flatOf = (t: GradTerm, rows: number): { readonly v: Float64Array; readonly d: number } => {
  if (t.kind === 'flat') return t
  const d = t.p * t.q
  const v = new Float64Array(rows * d)
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < t.p; r++) {
      const gr = t.g[i * t.p + r]!
      for (let c = 0; c < t.q; c++) {
        const x = gr * t.a[i * t.q + c]!
        v[i * d + (t.outputFirst ? r * t.q + c : c * t.p + r)] = x
      }
    }
  }
  return { v, d }
}

const toF64 = (h: HostTensor, scale = 1): Float64Array => {
  const out = new Float64Array(h.data.length)
  for (let i = 0; i < out.length; i++) out[i] = scale * Number(h.data[i])
  return out
}

/** The linear selector that seeds the output with `seed` (it must have the output's shape). */
const seedSelector = <T>(seed: HostTensor): Selector<T> => ({
  kind: 'linear',
  seed: (shape) => shape.length === seed.shape.length && shape.every((d, i) => d === seed.shape[i])
    ? E.right(seed)
    : E.left(err('ShapeMismatch', `the model output has shape [${shape.join(', ')}] in the backward pass but [${seed.shape.join(', ')}] in the forward pass`, ['model'])),
})

/**
 * Per-example gradients of `loss` on the batch (`inputs`, `labels`) w.r.t. `params`, on `model`.
 * `labelsPath` locates the labels in error messages.
 */
export const exampleGrads = async <T>(
  model: Model<T>,
  inputs: readonly HostTensor[],
  labels: HostTensor,
  params: readonly ParameterInfo[],
  loss: InfluenceLoss,
  labelsPath: readonly string[],
  opts: ExampleGradsOptions,
): Promise<E.Either<AttributionError, ExampleGrads>> => {
  const b = model.backend
  const rows = inputs[0]?.shape[0] ?? 0
  const outputName = model.signature.outputs[0]?.name ?? ''
  const inputNames = model.signature.inputs.map((i) => i.name)
  const factored = opts.sampleWise ? params.filter((p) => p.perExample !== undefined) : []
  const capture = [...new Set(factored.flatMap((p) => (p.perExample?.kind === 'outer' && !inputNames.includes(p.perExample.input) ? [p.perExample.input] : [])))]
  const gradAt = [...new Set(factored.flatMap((p) => (p.perExample !== undefined && p.perExample.output !== outputName ? [p.perExample.output] : [])))]
  const xs = inputs.map((x) => b.fromHost(x))
  try {
    const fwd = await model.forward(xs, { capture, allowNonFinite: opts.allowNonFinite })()
    if (E.isLeft(fwd)) return fwd
    const hosts: Record<string, HostTensor> = {}
    let output: HostTensor
    try {
      output = await b.toHost(fwd.right.output)
      for (const c of capture) {
        const t = fwd.right.captured[c]
        if (t !== undefined) hosts[c] = await b.toHost(t)
      }
    } finally {
      b.dispose(fwd.right.output)
      Object.values(fwd.right.captured).forEach((t) => b.dispose(t))
    }
    const seedE = lossGrad(loss, output, labels, labelsPath)
    if (E.isLeft(seedE)) return seedE
    const seed = float32(output.shape, seedE.right)
    const grads: Record<string, Float64Array> = { [outputName]: seedE.right }
    const gradShapes: Record<string, readonly number[]> = { [outputName]: output.shape }
    if (gradAt.length > 0) {
      const r = await model.vjp(xs, seedSelector(seed), { wrt: gradAt.map((name) => ({ kind: 'layer' as const, name })), allowNonFinite: opts.allowNonFinite })()
      if (E.isLeft(r)) return r
      try {
        for (const [k, name] of gradAt.entries()) {
          const h = await b.toHost(r.right.grads[k]!)
          grads[name] = toF64(h)
          gradShapes[name] = h.shape
        }
      } finally {
        ;[r.right.output, r.right.value, ...r.right.grads, ...Object.values(r.right.captured)].forEach((t) => b.dispose(t))
      }
    }
    const terms: (GradTerm | undefined)[] = params.map(() => undefined)
    const perRow: number[] = []
    params.forEach((p, k) => {
      const f = opts.sampleWise ? p.perExample : undefined
      const size = sizeOf(p.shape)
      const gShape = f === undefined ? undefined : gradShapes[f.output]
      const g = f === undefined ? undefined : grads[f.output]
      const pDim = gShape?.length === 2 && gShape[0] === rows ? gShape[1]! : -1
      if (f?.kind === 'rows' && g !== undefined && pDim === size) {
        terms[k] = { kind: 'flat', v: f.scale === 1 ? g : g.map((x) => x * f.scale), d: size }
        return
      }
      if (f?.kind === 'outer' && g !== undefined) {
        const at = inputNames.indexOf(f.input)
        const a = at >= 0 ? inputs[at] : hosts[f.input]
        const qDim = a !== undefined && a.shape.length === 2 && a.shape[0] === rows && a.dtype === 'float32' ? a.shape[1]! : -1
        const want = f.outputFirst ? [pDim, qDim] : [qDim, pDim]
        if (a !== undefined && pDim > 0 && qDim > 0 && p.shape.length === 2 && p.shape[0] === want[0] && p.shape[1] === want[1]) {
          terms[k] = { kind: 'outer', g: f.scale === 1 ? g : g.map((x) => x * f.scale), a: toF64(a), p: pDim, q: qDim, outputFirst: f.outputFirst }
          return
        }
      }
      perRow.push(k)
    })
    if (perRow.length > 0) {
      const vs = perRow.map((k) => new Float64Array(rows * sizeOf(params[k]!.shape)))
      const wrt = perRow.map((k) => ({ kind: 'param' as const, name: params[k]!.name }))
      const per = rows === 0 ? 0 : sizeOf(output.shape) / rows
      for (let i = 0; i < rows; i++) {
        const one = Int32Array.of(i)
        const xi = inputs.map((x) => b.fromHost(hostGatherRows(x, one)))
        try {
          const si = float32([1, ...output.shape.slice(1)], seed.data.subarray(i * per, (i + 1) * per))
          const r = await model.vjp(xi, seedSelector(si), { wrt, allowNonFinite: opts.allowNonFinite })()
          if (E.isLeft(r)) return r
          try {
            for (let j = 0; j < perRow.length; j++) {
              const h = await b.toHost(r.right.grads[j]!)
              const d = sizeOf(params[perRow[j]!]!.shape)
              const v = vs[j]!
              for (let e = 0; e < d; e++) v[i * d + e] = Number(h.data[e])
            }
          } finally {
            ;[r.right.output, r.right.value, ...r.right.grads, ...Object.values(r.right.captured)].forEach((t) => b.dispose(t))
          }
        } finally {
          xi.forEach((x) => b.dispose(x))
        }
      }
      perRow.forEach((k, j) => {
        terms[k] = { kind: 'flat', v: vs[j]!, d: sizeOf(params[k]!.shape) }
      })
    }
    return E.right({ rows, terms: terms as GradTerm[] })
  } finally {
    xs.forEach((x) => b.dispose(x))
  }
}
