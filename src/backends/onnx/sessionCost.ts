/**
 * A cost estimate, in bytes, of one runtime session built from a graph; the session cache bounds the
 * sum of these. It is deliberately simple and read off the graph alone:
 *
 *   cost = Σ initializer bytes  +  Σ over node outputs of that tensor's size
 *
 * A node output's size comes from its declared shape when every dimension is known (symbolic
 * dimensions count as 1, i.e. one example row); otherwise it is taken to be as large as the largest
 * graph input. The first term is the weights the session holds; the second stands in for the
 * activation memory the runtime plans for one row. On resnet18 (1×3×224×224) this gives 79 MiB
 * for the forward session and 129–193 MiB for a backward session to one layer (deeper layers cut
 * off less of the graph), against 110–206 MiB of resident memory measured for the same sessions
 * (bench/RESULTS.md). It is a ranking and bounding device, not an exact account: ORT's arena
 * growth and the allocator's retained pages are not modelled.
 *
 * @internal
 */
import type { Graph, ValueInfo } from './graph/ir.js'
import type { TensorProto } from './graph/proto.js'

/** Bytes per element by ONNX element type (unknown types count 4). */
const ELEM_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 }

const elemBytes = (t: number | null | undefined): number => (t === null || t === undefined ? 4 : ELEM_BYTES[t] ?? 4)

const initializerBytes = (t: TensorProto): number => {
  if (t.rawData !== undefined && t.rawData.length > 0) return t.rawData.length
  const n = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1)
  return n * elemBytes(t.dataType)
}

/** Bytes of one row of a value, or null when a dimension is unknown. */
const valueBytes = (v: ValueInfo): number | null => {
  if (v.shape === null) return null
  let n = 1
  for (const d of v.shape) {
    if (d === null) return null
    n *= typeof d === 'number' ? d : 1
  }
  return n * elemBytes(v.elemType)
}

/** The estimated bytes of a session over `g` (see the module comment for the formula). */
export const sessionCost = (g: Graph): number => {
  let weights = 0
  for (const t of g.initializers.values()) weights += initializerBytes(t)
  const known = new Map<string, number>()
  for (const v of [...g.inputs, ...g.valueInfo, ...g.outputs]) {
    const b = valueBytes(v)
    if (b !== null) known.set(v.name, b)
  }
  const typical = Math.max(4, ...g.inputs.filter((v) => !g.initializers.has(v.name)).map((v) => known.get(v.name) ?? 4))
  let activations = 0
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') activations += known.get(o) ?? typical
  return weights + activations
}
