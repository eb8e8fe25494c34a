/**
 * An immutable plain-data IR of an ONNX model: the graph clarus edits, differentiates and runs.
 * Initializers are kept as raw `TensorProto`s (no copy of their bytes); attributes are decoded into a
 * tagged union with typed accessors. `fromProto`/`toProto` convert to and from the protobuf objects of
 * `proto.ts`. Value infos keep tensor types only (elem type + shape with symbolic dims).
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../../core/errors.js'
import { sizeOf, type HostTensor } from '../../../core/tensor.js'
import type {
  AttributeProto,
  GraphProto,
  Long,
  ModelProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from './proto.js'

/** A dimension: a size, a symbolic name (`dim_param`), or unknown. */
export type Dim = number | string | null

/** ONNX `TensorProto.DataType` codes clarus names. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const

export interface ValueInfo {
  readonly name: string
  /** `TensorProto.DataType`, or null when unknown / not a tensor. */
  readonly elemType: number | null
  /** Shape with symbolic dims kept; null when the rank is unknown. */
  readonly shape: readonly Dim[] | null
}

export type AttributeValue =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: TensorProto }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  /** Anything else (graphs, sparse tensors, type protos): kept verbatim. */
  | { readonly type: 'raw'; readonly value: AttributeProto }

export type Attribute = { readonly name: string } & AttributeValue

export interface Node {
  readonly name: string
  readonly opType: string
  /** '' for the standard ai.onnx domain. */
  readonly domain: string
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly attributes: readonly Attribute[]
}

export interface OpsetImport {
  readonly domain: string
  readonly version: number
}

export interface Graph {
  readonly name: string
  readonly nodes: readonly Node[]
  readonly inputs: readonly ValueInfo[]
  readonly outputs: readonly ValueInfo[]
  readonly initializers: ReadonlyMap<string, TensorProto>
  readonly valueInfo: readonly ValueInfo[]
  readonly opsetImports: readonly OpsetImport[]
  readonly irVersion: number
  /** Model-level fields other than graph/opsets/ir version (producer, metadata, …), kept verbatim. */
  readonly modelExtras: Readonly<Record<string, unknown>>
}

const toNum = (l: Long | undefined): number => (l === undefined ? 0 : Number(l))
const toLong = (n: number): Long =>
  Number.isSafeInteger(n) ? n : n > 0 ? '9223372036854775807' : '-9223372036854775808'
const utf8 = new TextDecoder()
const utf8enc = new TextEncoder()

/** Normalises a domain name: 'ai.onnx' and '' are the same standard domain. */
export const normDomain = (d: string | undefined): string => (d === undefined || d === 'ai.onnx' ? '' : d)

/** The model's opset for a domain ('' = ai.onnx), or 0 when not imported. */
export const opsetOf = (g: Graph, domain = ''): number =>
  g.opsetImports.find((o) => normDomain(o.domain) === normDomain(domain))?.version ?? 0

// ---- value infos ---------------------------------------------------------------------------------

const valueInfoFromProto = (v: ValueInfoProto): ValueInfo => {
  const tt = v.type?.tensorType
  const dims = tt?.shape?.dim
  return {
    name: v.name ?? '',
    elemType: tt?.elemType ?? null,
    shape:
      tt?.shape === undefined
        ? null
        : (dims ?? []).map((d) => (d.dimValue !== undefined ? toNum(d.dimValue) : d.dimParam !== undefined && d.dimParam !== '' ? d.dimParam : null)),
  }
}

const valueInfoToProto = (v: ValueInfo): ValueInfoProto => ({
  name: v.name,
  type: {
    tensorType: {
      ...(v.elemType !== null ? { elemType: v.elemType } : {}),
      ...(v.shape !== null
        ? { shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } }
        : {}),
    },
  },
})

// ---- attributes ------------------------------------------------------------------------------------

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const

const attributeFromProto = (a: AttributeProto): Attribute => {
  const name = a.name ?? ''
  switch (a.type) {
    case ATTR.FLOAT: return { name, type: 'float', value: a.f ?? 0 }
    case ATTR.INT: return { name, type: 'int', value: toNum(a.i) }
    case ATTR.STRING: return { name, type: 'string', value: a.s === undefined ? '' : utf8.decode(a.s) }
    case ATTR.TENSOR: return a.t !== undefined ? { name, type: 'tensor', value: a.t } : { name, type: 'raw', value: a }
    case ATTR.FLOATS: return { name, type: 'floats', value: [...(a.floats ?? [])] }
    case ATTR.INTS: return { name, type: 'ints', value: (a.ints ?? []).map(toNum) }
    case ATTR.STRINGS: return { name, type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) }
    default: return { name, type: 'raw', value: a }
  }
}

const attributeToProto = (a: Attribute): AttributeProto => {
  switch (a.type) {
    case 'float': return { name: a.name, type: ATTR.FLOAT, f: a.value }
    case 'int': return { name: a.name, type: ATTR.INT, i: toLong(a.value) }
    case 'string': return { name: a.name, type: ATTR.STRING, s: utf8enc.encode(a.value) }
    case 'tensor': return { name: a.name, type: ATTR.TENSOR, t: a.value }
    case 'floats': return { name: a.name, type: ATTR.FLOATS, floats: a.value }
    case 'ints': return { name: a.name, type: ATTR.INTS, ints: a.value.map(toLong) }
    case 'strings': return { name: a.name, type: ATTR.STRINGS, strings: a.value.map((s) => utf8enc.encode(s)) }
    case 'raw': return a.value
  }
}

/** Attribute constructors for building nodes. */
export const attr = {
  int: (name: string, value: number): Attribute => ({ name, type: 'int', value }),
  float: (name: string, value: number): Attribute => ({ name, type: 'float', value }),
  ints: (name: string, value: readonly number[]): Attribute => ({ name, type: 'ints', value }),
  floats: (name: string, value: readonly number[]): Attribute => ({ name, type: 'floats', value }),
  string: (name: string, value: string): Attribute => ({ name, type: 'string', value }),
  tensor: (name: string, value: TensorProto): Attribute => ({ name, type: 'tensor', value }),
}

const findAttr = (n: Node, name: string): Attribute | undefined => n.attributes.find((a) => a.name === name)

/** Typed attribute accessors: the default is returned when the attribute is absent or of another type. */
export const getAttr = {
  int: (n: Node, name: string, dflt: number): number => {
    const a = findAttr(n, name)
    return a?.type === 'int' ? a.value : dflt
  },
  float: (n: Node, name: string, dflt: number): number => {
    const a = findAttr(n, name)
    return a?.type === 'float' ? a.value : dflt
  },
  string: (n: Node, name: string, dflt: string): string => {
    const a = findAttr(n, name)
    return a?.type === 'string' ? a.value : dflt
  },
  ints: (n: Node, name: string): readonly number[] | undefined => {
    const a = findAttr(n, name)
    return a?.type === 'ints' ? a.value : undefined
  },
  floats: (n: Node, name: string): readonly number[] | undefined => {
    const a = findAttr(n, name)
    return a?.type === 'floats' ? a.value : undefined
  },
  tensor: (n: Node, name: string): TensorProto | undefined => {
    const a = findAttr(n, name)
    return a?.type === 'tensor' ? a.value : undefined
  },
  has: (n: Node, name: string): boolean => findAttr(n, name) !== undefined,
}

// ---- nodes, graphs, models -----------------------------------------------------------------------------

const nodeFromProto = (n: NodeProto): Node => ({
  name: n.name ?? '',
  opType: n.opType ?? '',
  domain: normDomain(n.domain),
  inputs: [...(n.input ?? [])],
  outputs: [...(n.output ?? [])],
  attributes: (n.attribute ?? []).map(attributeFromProto),
})

const nodeToProto = (n: Node): NodeProto => ({
  input: n.inputs,
  output: n.outputs,
  ...(n.name !== '' ? { name: n.name } : {}),
  opType: n.opType,
  ...(n.domain !== '' ? { domain: n.domain } : {}),
  attribute: n.attributes.map(attributeToProto),
})

/** Converts a decoded ModelProto into the IR. */
export const fromProto = (m: ModelProto): E.Either<AttributionError, Graph> => {
  const g: GraphProto | undefined = m.graph
  if (g === undefined) return E.left(err('BadModel', 'the ONNX model has no graph', ['model']))
  const { graph: _g, opsetImport, irVersion, ...modelExtras } = m
  const initializers = new Map<string, TensorProto>()
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', t)
  return E.right({
    name: g.name ?? '',
    nodes: (g.node ?? []).map(nodeFromProto),
    inputs: (g.input ?? []).map(valueInfoFromProto),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo: (g.valueInfo ?? []).map(valueInfoFromProto),
    opsetImports: (opsetImport ?? []).map((o) => ({ domain: normDomain(o.domain), version: toNum(o.version) })),
    irVersion: toNum(irVersion),
    modelExtras,
  })
}

/** Converts the IR back into a ModelProto (initializer bytes are shared, not copied). */
export const toProto = (g: Graph): ModelProto => ({
  ...g.modelExtras,
  irVersion: g.irVersion,
  opsetImport: g.opsetImports.map((o) => ({ domain: o.domain, version: o.version })),
  graph: {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers.values()],
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: g.valueInfo.map(valueInfoToProto),
  },
})

// ---- tensors ----------------------------------------------------------------------------------------

/** The dims of a TensorProto as numbers. */
export const tensorDims = (t: TensorProto): number[] => (t.dims ?? []).map(toNum)

/**
 * The values of a small TensorProto as JS numbers (int64 beyond 2^53 are rounded), or undefined for
 * unsupported element types or external data.
 */
export const tensorValues = (t: TensorProto): number[] | undefined => {
  const n = sizeOf(tensorDims(t))
  const dt = t.dataType ?? 0
  const raw = t.rawData
  if (raw !== undefined && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      switch (dt) {
        case ElemType.FLOAT: out.push(view.getFloat32(4 * i, true)); break
        case ElemType.DOUBLE: out.push(view.getFloat64(8 * i, true)); break
        case ElemType.INT32: out.push(view.getInt32(4 * i, true)); break
        case ElemType.INT64: out.push(Number(view.getBigInt64(8 * i, true))); break
        case ElemType.BOOL: case ElemType.UINT8: out.push(view.getUint8(i)); break
        case ElemType.INT8: out.push(view.getInt8(i)); break
        default: return undefined
      }
    }
    return out
  }
  if (t.dataLocation === 1) return undefined
  switch (dt) {
    case ElemType.FLOAT: return [...(t.floatData ?? [])]
    case ElemType.DOUBLE: return [...(t.doubleData ?? [])]
    case ElemType.INT64: return (t.int64Data ?? []).map(toNum)
    case ElemType.INT32: case ElemType.BOOL: case ElemType.UINT8: case ElemType.INT8: return [...(t.int32Data ?? [])]
    default: return undefined
  }
}

/** A TensorProto as a host tensor (float32/int32/int64/bool; float64 is narrowed to float32). */
export const tensorToHost = (t: TensorProto): HostTensor | undefined => {
  const shape = tensorDims(t)
  const dt = t.dataType ?? 0
  if (dt === ElemType.INT64 && t.rawData !== undefined && t.rawData.length > 0) {
    const raw = t.rawData
    const data = new BigInt64Array(sizeOf(shape))
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    for (let i = 0; i < data.length; i++) data[i] = view.getBigInt64(8 * i, true)
    return { dtype: 'int64', shape, data }
  }
  const v = tensorValues(t)
  if (v === undefined) return undefined
  switch (dt) {
    case ElemType.FLOAT: case ElemType.DOUBLE: return { dtype: 'float32', shape, data: Float32Array.from(v) }
    case ElemType.INT32: return { dtype: 'int32', shape, data: Int32Array.from(v) }
    case ElemType.INT64: return { dtype: 'int64', shape, data: BigInt64Array.from((t.int64Data ?? []).map((x) => BigInt(x))) }
    case ElemType.BOOL: return { dtype: 'bool', shape, data: Uint8Array.from(v) }
    default: return undefined
  }
}

/** ONNX elem type code of a host dtype. */
export const elemTypeOf = (d: HostTensor['dtype']): number =>
  d === 'float32' ? ElemType.FLOAT : d === 'int32' ? ElemType.INT32 : d === 'int64' ? ElemType.INT64 : ElemType.BOOL

/** A TensorProto (raw little-endian data) from a host tensor. */
export const hostToTensor = (name: string, h: HostTensor): TensorProto => {
  const d = h.data
  const bytes = new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength))
  return { name, dims: [...h.shape], dataType: elemTypeOf(h.dtype), rawData: bytes }
}

// ---- subgraphs (If / Loop / Scan bodies) -------------------------------------------------------------

const graphsOfAttr = (a: AttributeProto): readonly GraphProto[] => [...(a.g !== undefined ? [a.g] : []), ...(a.graphs ?? [])]

/** The names a subgraph reads that it does not define itself (so they come from an enclosing scope). */
const outerReads = (g: GraphProto): ReadonlySet<string> => {
  const own = new Set<string>()
  for (const v of g.input ?? []) if (v.name !== undefined && v.name !== '') own.add(v.name)
  for (const t of g.initializer ?? []) if (t.name !== undefined && t.name !== '') own.add(t.name)
  for (const n of g.node ?? []) for (const o of n.output ?? []) if (o !== '') own.add(o)
  const reads = new Set<string>()
  for (const n of g.node ?? []) {
    for (const x of n.input ?? []) if (x !== '' && !own.has(x)) reads.add(x)
    for (const a of n.attribute ?? []) for (const sub of graphsOfAttr(a)) for (const x of outerReads(sub)) if (!own.has(x)) reads.add(x)
  }
  return reads
}

const captureCache = new WeakMap<Node, readonly string[]>()

/**
 * Tensors of the enclosing graph that a node's subgraph attributes (If branches, Loop and Scan bodies)
 * read by name without taking them as explicit inputs. They are inputs of the node all the same: pruning
 * must keep them, and a gradient path through them runs through the node.
 */
export const capturedNames = (n: Node): readonly string[] => {
  const hit = captureCache.get(n)
  if (hit !== undefined) return hit
  const names = new Set<string>()
  for (const a of n.attributes) if (a.type === 'raw') for (const sub of graphsOfAttr(a.value)) for (const x of outerReads(sub)) names.add(x)
  const out = [...names].sort()
  captureCache.set(n, out)
  return out
}

/** Every tensor a node reads: its explicit inputs (absent optional ones dropped) and its subgraph captures. */
export const nodeReads = (n: Node): readonly string[] => [...n.inputs.filter((x) => x !== ''), ...capturedNames(n)]
