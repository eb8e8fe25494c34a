/**
 * A small static type and shape inference over the IR: element type and shape (symbolic dims kept,
 * null = unknown) for every tensor, for the op types the gradient builder supports. Unknown ops get
 * the type recorded in `value_info` or, failing that, an unknown shape. It also reads constant values
 * (initializers, `Constant` nodes, `Identity` of either) that shape arithmetic and rules need.
 *
 * @internal
 */
import { ElemType, getAttr, opsetOf, tensorDims, tensorValues, type Dim, type Graph, type Node } from './ir.js'

export interface TypeInfo {
  readonly elemType: number | null
  readonly shape: readonly Dim[] | null
}

const UNKNOWN: TypeInfo = { elemType: null, shape: null }

/** Producer node of every tensor. */
export const producers = (g: Graph): ReadonlyMap<string, Node> => {
  const m = new Map<string, Node>()
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') m.set(o, n)
  return m
}

/** The constant value of a tensor (initializer, Constant node, Identity of a constant), as numbers. */
export const constValue = (g: Graph, name: string, prod: ReadonlyMap<string, Node> = producers(g)): { dims: number[]; values: number[] } | undefined => {
  const init = g.initializers.get(name)
  if (init !== undefined && !g.inputs.some((i) => i.name === name)) {
    const values = tensorValues(init)
    return values === undefined ? undefined : { dims: tensorDims(init), values }
  }
  const n = prod.get(name)
  if (n === undefined) return undefined
  if (n.opType === 'Identity' && n.domain === '' && n.inputs[0] !== undefined) return constValue(g, n.inputs[0], prod)
  if (n.opType !== 'Constant' || n.domain !== '') return undefined
  const t = getAttr.tensor(n, 'value')
  if (t !== undefined) {
    const values = tensorValues(t)
    return values === undefined ? undefined : { dims: tensorDims(t), values }
  }
  const ints = getAttr.ints(n, 'value_ints')
  if (ints !== undefined) return { dims: [ints.length], values: [...ints] }
  const floats = getAttr.floats(n, 'value_floats')
  if (floats !== undefined) return { dims: [floats.length], values: [...floats] }
  if (getAttr.has(n, 'value_int')) return { dims: [], values: [getAttr.int(n, 'value_int', 0)] }
  if (getAttr.has(n, 'value_float')) return { dims: [], values: [getAttr.float(n, 'value_float', 0)] }
  return undefined
}

/** True when a tensor is a compile-time constant (initializer that is not an input, Constant, Identity of one). */
export const isConstant = (g: Graph, name: string, prod: ReadonlyMap<string, Node>): boolean => {
  if (g.initializers.has(name) && !g.inputs.some((i) => i.name === name)) return true
  const n = prod.get(name)
  if (n === undefined || n.domain !== '') return false
  if (n.opType === 'Constant') return true
  return n.opType === 'Identity' && n.inputs[0] !== undefined && isConstant(g, n.inputs[0], prod)
}

/** Multidirectional (numpy) broadcast of shapes. */
export const broadcastShapes = (shapes: readonly (readonly Dim[] | null)[]): Dim[] | null => {
  if (shapes.some((s) => s === null)) return null
  const ss = shapes as readonly (readonly Dim[])[]
  const rank = Math.max(0, ...ss.map((s) => s.length))
  const out: Dim[] = []
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1
    for (const s of ss) {
      const k = s.length - rank + i
      if (k < 0) continue
      const e = s[k] ?? null
      if (e === 1) continue
      if (d === 1) d = e
      else if (d !== e) d = typeof d === 'number' && typeof e === 'number' ? d : null
    }
    out.push(d)
  }
  return out
}

const norm = (a: number, r: number): number => (a < 0 ? a + r : a)
const mulDims = (ds: readonly Dim[]): Dim => ds.reduce<Dim>((a, b) => (typeof a === 'number' && typeof b === 'number' ? a * b : null), 1)

const poolShape = (n: Node, x: readonly Dim[] | null, kernel: readonly number[] | undefined, outC: Dim): Dim[] | null => {
  if (x === null || kernel === undefined) return x === null ? null : [x[0] ?? null, outC, ...x.slice(2).map(() => null)]
  const sp = x.length - 2
  const strides = getAttr.ints(n, 'strides') ?? kernel.map(() => 1)
  const dil = getAttr.ints(n, 'dilations') ?? kernel.map(() => 1)
  const pads = getAttr.ints(n, 'pads') ?? new Array<number>(2 * sp).fill(0)
  const autoPad = getAttr.string(n, 'auto_pad', 'NOTSET')
  const ceil = getAttr.int(n, 'ceil_mode', 0) === 1
  const out: Dim[] = [x[0] ?? null, outC]
  for (let i = 0; i < sp; i++) {
    const d = x[i + 2] ?? null
    if (typeof d !== 'number') { out.push(null); continue }
    const s = strides[i] ?? 1
    const ek = ((kernel[i] ?? 1) - 1) * (dil[i] ?? 1) + 1
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(Math.ceil(d / s))
    else if (autoPad === 'VALID') out.push(Math.floor((d - ek) / s) + 1)
    else {
      const span = d + (pads[i] ?? 0) + (pads[i + sp] ?? 0) - ek
      const o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1
      // ceil_mode: a last window that would start inside the end padding is dropped
      out.push(ceil && (o - 1) * s >= d + (pads[i] ?? 0) ? o - 1 : o)
    }
  }
  return out
}

type Infer = (n: Node, ins: readonly TypeInfo[], g: Graph, prod: ReadonlyMap<string, Node>) => readonly TypeInfo[]

const same: Infer = (_n, ins) => [ins[0] ?? UNKNOWN]
const broadcast: Infer = (_n, ins) => [{ elemType: ins[0]?.elemType ?? null, shape: broadcastShapes(ins.map((i) => i.shape)) }]
const compare: Infer = (_n, ins) => [{ elemType: ElemType.BOOL, shape: broadcastShapes(ins.map((i) => i.shape)) }]

const axesOf = (n: Node, g: Graph, prod: ReadonlyMap<string, Node>, inputIndex: number): readonly number[] | undefined => {
  const a = getAttr.ints(n, 'axes')
  if (a !== undefined) return a
  const nm = n.inputs[inputIndex]
  if (nm === undefined || nm === '') return undefined
  return constValue(g, nm, prod)?.values
}

const reduce: Infer = (n, ins, g, prod) => {
  const x = ins[0] ?? UNKNOWN
  if (x.shape === null) return [{ elemType: x.elemType, shape: null }]
  const r = x.shape.length
  const keep = getAttr.int(n, 'keepdims', 1) === 1
  const hasAxesInput = n.inputs[1] !== undefined && n.inputs[1] !== ''
  const axes = axesOf(n, g, prod, 1)
  if (axes === undefined && hasAxesInput) return [{ elemType: x.elemType, shape: keep ? x.shape.map(() => null) : null }]
  // noop_with_empty_axes=1 with no (or empty) axes is the identity, not a reduction over every axis
  if ((axes === undefined || axes.length === 0) && getAttr.int(n, 'noop_with_empty_axes', 0) === 1) return [x]
  const all = axes === undefined || axes.length === 0
  const set = new Set(all ? x.shape.map((_, i) => i) : (axes ?? []).map((a) => norm(a, r)))
  const shape: Dim[] = []
  x.shape.forEach((d, i) => { if (!set.has(i)) shape.push(d); else if (keep) shape.push(1) })
  return [{ elemType: x.elemType, shape }]
}

const argReduce = (n: Node, ins: readonly TypeInfo[]): readonly TypeInfo[] => {
  const x = ins[0]?.shape ?? null
  if (x === null) return [{ elemType: ElemType.INT64, shape: null }]
  const a = norm(getAttr.int(n, 'axis', 0), x.length)
  const keep = getAttr.int(n, 'keepdims', 1) === 1
  return [{ elemType: ElemType.INT64, shape: keep ? x.map((d, i) => (i === a ? 1 : d)) : x.filter((_, i) => i !== a) }]
}

const RULES: Readonly<Record<string, Infer>> = {
  Add: broadcast, Sub: broadcast, Mul: broadcast, Div: broadcast, Pow: broadcast, Sum: broadcast, Max: broadcast, Min: broadcast,
  Equal: compare, Less: compare, Greater: compare, LessOrEqual: compare, GreaterOrEqual: compare, And: compare, Or: compare, Xor: compare,
  Not: same,
  Where: (_n, ins) => [{ elemType: ins[1]?.elemType ?? null, shape: broadcastShapes(ins.map((i) => i.shape)) }],
  Relu: same, LeakyRelu: same, Elu: same, Sigmoid: same, Tanh: same, Softplus: same, Exp: same, Log: same, Sqrt: same, Neg: same,
  Abs: same, Erf: same, Gelu: same, Identity: same, Clip: same, Softmax: same, LogSoftmax: same, Reciprocal: same, Sign: same,
  Floor: same, Ceil: same, Round: same, LRN: same, HardSigmoid: same, Selu: same, Sin: same, Cos: same,
  Dropout: (_n, ins) => [ins[0] ?? UNKNOWN, { elemType: ElemType.BOOL, shape: ins[0]?.shape ?? null }],
  BatchNormalization: same,
  LayerNormalization: (n, ins) => {
    const x = ins[0] ?? UNKNOWN
    const r = x.shape?.length
    const axis = getAttr.int(n, 'axis', -1)
    const stat = x.shape === null || r === undefined ? null : x.shape.map((d, i) => (i < norm(axis, r) ? d : 1))
    return [x, { elemType: x.elemType, shape: stat }, { elemType: x.elemType, shape: stat }]
  },
  Cast: (n, ins) => [{ elemType: getAttr.int(n, 'to', 0), shape: ins[0]?.shape ?? null }],
  Shape: (n, ins) => {
    const s = ins[0]?.shape ?? null
    if (s === null) return [{ elemType: ElemType.INT64, shape: [null] }]
    const r = s.length
    const clamp = (v: number): number => Math.min(Math.max(norm(v, r), 0), r)
    const start = clamp(getAttr.int(n, 'start', 0))
    const end = clamp(getAttr.int(n, 'end', r))
    return [{ elemType: ElemType.INT64, shape: [Math.max(0, end - start)] }]
  },
  Size: () => [{ elemType: ElemType.INT64, shape: [] }],
  Constant: (n) => {
    const t = getAttr.tensor(n, 'value')
    if (t !== undefined) return [{ elemType: t.dataType ?? null, shape: tensorDims(t) }]
    const ints = getAttr.ints(n, 'value_ints')
    if (ints !== undefined) return [{ elemType: ElemType.INT64, shape: [ints.length] }]
    const fl = getAttr.floats(n, 'value_floats')
    if (fl !== undefined) return [{ elemType: ElemType.FLOAT, shape: [fl.length] }]
    if (getAttr.has(n, 'value_int')) return [{ elemType: ElemType.INT64, shape: [] }]
    if (getAttr.has(n, 'value_float')) return [{ elemType: ElemType.FLOAT, shape: [] }]
    return [UNKNOWN]
  },
  ConstantOfShape: (n, ins) => {
    const t = getAttr.tensor(n, 'value')
    const len = ins[0]?.shape?.[0]
    return [{ elemType: t?.dataType ?? ElemType.FLOAT, shape: typeof len === 'number' ? new Array<Dim>(len).fill(null) : null }]
  },
  Range: (_n, ins) => [{ elemType: ins[0]?.elemType ?? null, shape: [null] }],
  OneHot: (n, ins) => {
    const s = ins[0]?.shape ?? null
    if (s === null) return [{ elemType: ins[2]?.elemType ?? null, shape: null }]
    const out: Dim[] = [...s]
    out.splice(norm(getAttr.int(n, 'axis', -1), s.length + 1), 0, null)
    return [{ elemType: ins[2]?.elemType ?? null, shape: out }]
  },
  MatMul: (_n, ins) => {
    const a = ins[0]?.shape ?? null
    const b = ins[1]?.shape ?? null
    if (a === null || b === null) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const a2 = a.length === 1 ? [1, a[0] ?? null] : a
    const b2 = b.length === 1 ? [b[0] ?? null, 1] : b
    const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]) ?? []
    const out: Dim[] = [...batch]
    if (a.length > 1) out.push(a2[a2.length - 2] ?? null)
    if (b.length > 1) out.push(b2[b2.length - 1] ?? null)
    return [{ elemType: ins[0]?.elemType ?? null, shape: out }]
  },
  Gemm: (n, ins) => {
    const a = ins[0]?.shape ?? null
    const b = ins[1]?.shape ?? null
    const m = a === null ? null : getAttr.int(n, 'transA', 0) ? a[1] ?? null : a[0] ?? null
    const k = b === null ? null : getAttr.int(n, 'transB', 0) ? b[0] ?? null : b[1] ?? null
    return [{ elemType: ins[0]?.elemType ?? null, shape: [m, k] }]
  },
  Conv: (n, ins) => {
    const w = ins[1]?.shape ?? null
    const kernel = getAttr.ints(n, 'kernel_shape') ?? (w !== null && w.slice(2).every((d) => typeof d === 'number') ? (w.slice(2) as number[]) : undefined)
    return [{ elemType: ins[0]?.elemType ?? null, shape: poolShape(n, ins[0]?.shape ?? null, kernel, w?.[0] ?? null) }]
  },
  MaxPool: (n, ins) => {
    const x = ins[0]?.shape ?? null
    const s = poolShape(n, x, getAttr.ints(n, 'kernel_shape'), x?.[1] ?? null)
    return [{ elemType: ins[0]?.elemType ?? null, shape: s }, { elemType: ElemType.INT64, shape: s }]
  },
  AveragePool: (n, ins) => {
    const x = ins[0]?.shape ?? null
    return [{ elemType: ins[0]?.elemType ?? null, shape: poolShape(n, x, getAttr.ints(n, 'kernel_shape'), x?.[1] ?? null) }]
  },
  GlobalAveragePool: (_n, ins) => {
    const x = ins[0]?.shape ?? null
    return [{ elemType: ins[0]?.elemType ?? null, shape: x === null ? null : x.map((d, i) => (i < 2 ? d : 1)) }]
  },
  Flatten: (n, ins) => {
    const x = ins[0]?.shape ?? null
    if (x === null) return [{ elemType: ins[0]?.elemType ?? null, shape: [null, null] }]
    const a = norm(getAttr.int(n, 'axis', 1), x.length)
    return [{ elemType: ins[0]?.elemType ?? null, shape: [mulDims(x.slice(0, a)), mulDims(x.slice(a))] }]
  },
  Reshape: (n, ins, g, prod) => {
    const x = ins[0]?.shape ?? null
    const target = n.inputs[1] === undefined ? undefined : constValue(g, n.inputs[1], prod)?.values
    const len = ins[1]?.shape?.[0]
    if (target === undefined) return [{ elemType: ins[0]?.elemType ?? null, shape: typeof len === 'number' ? new Array<Dim>(len).fill(null) : null }]
    const allowZero = getAttr.int(n, 'allowzero', 0) === 1
    const out: Dim[] = target.map((v, i) => (v === 0 && !allowZero ? x?.[i] ?? null : v === -1 ? null : v))
    const neg = target.indexOf(-1)
    if (neg >= 0 && x !== null) {
      const total = mulDims(x)
      const rest = mulDims(out.filter((_, i) => i !== neg))
      if (typeof total === 'number' && typeof rest === 'number' && rest !== 0) out[neg] = total / rest
    }
    return [{ elemType: ins[0]?.elemType ?? null, shape: out }]
  },
  Transpose: (n, ins) => {
    const x = ins[0]?.shape ?? null
    if (x === null) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const perm = getAttr.ints(n, 'perm') ?? x.map((_, i) => x.length - 1 - i)
    return [{ elemType: ins[0]?.elemType ?? null, shape: perm.map((p) => x[p] ?? null) }]
  },
  Unsqueeze: (n, ins, g, prod) => {
    const x = ins[0]?.shape ?? null
    const axes = axesOf(n, g, prod, 1)
    if (x === null || axes === undefined) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const r = x.length + axes.length
    const set = new Set(axes.map((a) => norm(a, r)))
    const out: Dim[] = []
    let k = 0
    for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x[k++] ?? null)
    return [{ elemType: ins[0]?.elemType ?? null, shape: out }]
  },
  Squeeze: (n, ins, g, prod) => {
    const x = ins[0]?.shape ?? null
    if (x === null) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const axes = axesOf(n, g, prod, 1)
    if (axes === undefined && n.inputs[1] !== undefined && n.inputs[1] !== '') return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const set = new Set(axes === undefined ? x.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => norm(a, x.length)))
    if (axes === undefined && x.some((d) => typeof d !== 'number')) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    return [{ elemType: ins[0]?.elemType ?? null, shape: x.filter((_, i) => !set.has(i)) }]
  },
  Concat: (n, ins) => {
    const shapes = ins.map((i) => i.shape)
    const first = shapes[0] ?? null
    if (first === null || shapes.some((s) => s === null)) return [{ elemType: ins[0]?.elemType ?? null, shape: first === null ? null : first.map(() => null) }]
    const a = norm(getAttr.int(n, 'axis', 0), first.length)
    const out = [...first]
    out[a] = (shapes as (readonly Dim[])[]).reduce<Dim>((acc, s) => (typeof acc === 'number' && typeof s[a] === 'number' ? acc + (s[a] as number) : null), 0)
    return [{ elemType: ins[0]?.elemType ?? null, shape: out }]
  },
  Split: (n, ins, g, prod) => {
    const x = ins[0]?.shape ?? null
    const k = n.outputs.length
    if (x === null) return n.outputs.map(() => ({ elemType: ins[0]?.elemType ?? null, shape: null }))
    const a = norm(getAttr.int(n, 'axis', 0), x.length)
    const split = getAttr.ints(n, 'split') ?? (n.inputs[1] ? constValue(g, n.inputs[1], prod)?.values : undefined)
    const d = x[a] ?? null
    return n.outputs.map((_, i) => {
      const s = [...x]
      s[a] = split !== undefined ? split[i] ?? null : typeof d === 'number' ? Math.ceil(d / k) - (i === k - 1 ? Math.ceil(d / k) * k - d : 0) : null
      return { elemType: ins[0]?.elemType ?? null, shape: s }
    })
  },
  Slice: (n, ins, g, prod) => {
    const x = ins[0]?.shape ?? null
    if (x === null) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const v = (i: number): number[] | undefined => (n.inputs[i] ? constValue(g, n.inputs[i] as string, prod)?.values : undefined)
    const old = opsetOf(g) < 10
    const starts = old ? getAttr.ints(n, 'starts') : v(1)
    const ends = old ? getAttr.ints(n, 'ends') : v(2)
    const axes = old ? getAttr.ints(n, 'axes') : n.inputs[3] ? v(3) : undefined
    const steps = old ? undefined : n.inputs[4] ? v(4) : undefined
    if (starts === undefined || ends === undefined || (!old && n.inputs[3] && axes === undefined) || (n.inputs[4] && steps === undefined)) {
      return [{ elemType: ins[0]?.elemType ?? null, shape: x.map(() => null) }]
    }
    const out = [...x]
    starts.forEach((s0, j) => {
      const ax = norm(axes?.[j] ?? j, x.length)
      const d = x[ax] ?? null
      if (typeof d !== 'number') { out[ax] = null; return }
      const st = steps?.[j] ?? 1
      const clampS = (q: number, lo: number, hi: number): number => Math.min(Math.max(q < 0 ? q + d : q, lo), hi)
      const s = st > 0 ? clampS(s0, 0, d) : clampS(s0, -1, d - 1)
      const e = st > 0 ? clampS(ends[j] ?? d, 0, d) : clampS(ends[j] ?? -1, -1, d - 1)
      out[ax] = Math.max(0, Math.ceil((e - s) / st))
    })
    return [{ elemType: ins[0]?.elemType ?? null, shape: out }]
  },
  Gather: (n, ins) => {
    const x = ins[0]?.shape ?? null
    const idx = ins[1]?.shape ?? null
    if (x === null || idx === null) return [{ elemType: ins[0]?.elemType ?? null, shape: null }]
    const a = norm(getAttr.int(n, 'axis', 0), x.length)
    return [{ elemType: ins[0]?.elemType ?? null, shape: [...x.slice(0, a), ...idx, ...x.slice(a + 1)] }]
  },
  Expand: (n, ins, g, prod) => {
    const target = n.inputs[1] === undefined ? undefined : constValue(g, n.inputs[1], prod)?.values
    const len = ins[1]?.shape?.[0]
    const x = ins[0]?.shape ?? null
    if (target === undefined) {
      return [{ elemType: ins[0]?.elemType ?? null, shape: typeof len === 'number' && x !== null ? new Array<Dim>(Math.max(len, x.length)).fill(null) : null }]
    }
    return [{ elemType: ins[0]?.elemType ?? null, shape: broadcastShapes([x, target]) }]
  },
  ReduceMean: reduce, ReduceSum: reduce, ReduceMax: reduce, ReduceMin: reduce, ReduceProd: reduce, ReduceL2: reduce,
  ScatterElements: same, ScatterND: same,
  NonZero: (_n, ins) => [{ elemType: ElemType.INT64, shape: ins[0]?.shape === null || ins[0] === undefined ? null : [ins[0].shape.length, null] }],
  ArgMax: (n, ins) => argReduce(n, ins),
  ArgMin: (n, ins) => argReduce(n, ins),
}

/** Element type and shape of every tensor of the graph (inputs, initializers, node outputs). */
export const inferTypes = (g: Graph): ReadonlyMap<string, TypeInfo> => {
  const out = new Map<string, TypeInfo>()
  const declared = new Map<string, TypeInfo>()
  for (const v of [...g.valueInfo, ...g.outputs]) declared.set(v.name, { elemType: v.elemType, shape: v.shape })
  for (const [name, t] of g.initializers) out.set(name, { elemType: t.dataType ?? null, shape: tensorDims(t) })
  for (const v of g.inputs) out.set(v.name, { elemType: v.elemType, shape: v.shape })
  const prod = producers(g)
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => (i === '' ? UNKNOWN : out.get(i) ?? declared.get(i) ?? UNKNOWN))
    const rule = n.domain === '' ? RULES[n.opType] : undefined
    const res = rule === undefined ? [] : rule(n, ins, g, prod)
    n.outputs.forEach((o, i) => {
      if (o === '') return
      const r = res[i]
      const d = declared.get(o)
      out.set(o, {
        elemType: r?.elemType ?? d?.elemType ?? null,
        shape: r?.shape ?? d?.shape ?? null,
      })
    })
  }
  return out
}
