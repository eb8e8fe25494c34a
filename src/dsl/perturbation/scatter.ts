/**
 * From per-feature values back to input-shaped attributions, and the bookkeeping shared by the
 * perturbation reducers (which example an attribution row belongs to, reading chunk outputs).
 *
 * @category dsl
 * @since 0.1.0
 */
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import type { Reference, RunContext } from '../flow.js'
import type { Layout } from './layout.js'

/**
 * The example of attribution row o (one row per selected output value): rows are example-major
 * (Captum: row = i·C + c); in aggregate mode every row uses mask row 0.
 */
export const exampleOfRow = (ref: Reference, nExamples: number): ((o: number) => number) => {
  if (ref.aggregate) return () => 0
  const per = ref.selected.length / nExamples
  return (o) => Math.floor(o / per)
}

/** A backend tensor's values as float32 host data. */
export const hostFloats = async <T>(ctx: RunContext<T>, t: T): Promise<Float32Array> => {
  const h = await ctx.backend.toHost(t)
  return h.dtype === 'float32' ? (h.data as Float32Array) : Float32Array.from(h.data as ArrayLike<number>, Number)
}

/** A float32 host tensor. */
export const f32 = (shape: readonly number[], data: Float32Array): HostTensor<'float32'> => ({ dtype: 'float32', shape: [...shape], data })

/**
 * attr_j[o, e] = φ[o, feature_j(row(o), e)]: each element gets its group's value. `lead` is the
 * shape of the attribution's leading dims (their product is nOut).
 */
export const scatterFeatures = (
  layout: Extract<Layout, { kind: 'groups' }>,
  phi: ArrayLike<number>,
  lead: readonly number[],
  inner: readonly (readonly number[])[],
  exOf: (o: number) => number,
): HostTensor<'float32'>[] => {
  const M = layout.nFeatures
  const nOut = sizeOf(lead)
  return layout.tensors.map((g, j) => {
    const out = new Float32Array(nOut * g.size)
    for (let o = 0; o < nOut; o++) {
      const base = (g.rows === 1 ? 0 : exOf(o)) * g.size
      for (let e = 0; e < g.size; e++) out[o * g.size + e] = phi[o * M + g.feature[base + e]!]!
    }
    return f32([...lead, ...inner[j]!], out)
  })
}
