/**
 * A {@link Backend} over plain {@link HostTensor}s: every op is a loop over typed arrays in this
 * process. The ONNX backend uses it for its tensor ops (the runtime only runs models), and tests
 * use it as a dependency-free reference.
 *
 * Conventions (shared with the tfjs backend and checked by the conformance suite):
 * - Binary ops broadcast like NumPy. The result dtype is float32 when either side is float32,
 *   else int64 when either side is int64, else int32 (bool promotes to int32). `div` always
 *   divides as float32 (true division), `scale` and `sqrt` always return float32.
 * - `sum` keeps the dtype (bool sums to int32); float32 sums accumulate in float64.
 * - `cast` to an integer truncates towards zero; to bool tests `!== 0`; a non-finite value cast to
 *   int64 throws a `RangeError`.
 * - Tensors are immutable by convention, so `fromHost`, `toHost` and `reshape` share the data
 *   array instead of copying it, and `dispose` does nothing.
 * - Misuse (unknown shapes, incompatible broadcasts, out-of-range rows) throws a `RangeError`:
 *   these are programming errors in the caller, not data errors.
 *
 * Hot paths (same shape, scalar operand, row broadcast, reductions over leading or trailing axes)
 * run as one tight loop per op over coalesced dimensions, without per-element index arithmetic.
 * That spelled-out loop per op and stride pattern is why this file runs past 400 lines; it is
 * one backend value and its private kernels, split by section (dtype, broadcast, unary,
 * reductions, layout).
 *
 * @category backends
 * @since 0.1.0
 */
import type { Backend } from '../../core/backend.js'
import { sizeOf, type DataOf, type DType, type HostTensor } from '../../core/tensor.js'
import { isHostTensor } from '../../core/codecs.js'

const arrayTypeOf = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array } as const

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`

const make = <D extends DType>(dtype: D, shape: readonly number[], data: DataOf[D]): HostTensor<D> => ({ dtype, shape: [...shape], data })

const alloc = <D extends DType>(dtype: D, n: number): DataOf[D] => new arrayTypeOf[dtype](n) as DataOf[D]


// ---------------------------------------------------------------------------------------------
// dtype conversion
// ---------------------------------------------------------------------------------------------

const toFloat32Array = (t: HostTensor): Float32Array => {
  if (t.dtype === 'float32') return t.data as Float32Array
  const out = new Float32Array(t.data.length)
  if (t.dtype === 'int64') {
    const d = t.data as BigInt64Array
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i])
  } else out.set(t.data as Int32Array | Uint8Array)
  return out
}

const castData = (t: HostTensor, dtype: DType): DataOf[DType] => {
  const n = t.data.length
  if (t.dtype === dtype) return t.data
  switch (dtype) {
    case 'float32':
      return toFloat32Array(t)
    case 'int32': {
      const out = new Int32Array(n)
      if (t.dtype === 'int64') {
        const d = t.data as BigInt64Array
        for (let i = 0; i < n; i++) out[i] = Number(BigInt.asIntN(32, d[i]!))
      } else if (t.dtype === 'float32') {
        const d = t.data as Float32Array
        for (let i = 0; i < n; i++) out[i] = Math.trunc(d[i]!) | 0
      } else out.set(t.data as Uint8Array)
      return out
    }
    case 'int64': {
      const out = new BigInt64Array(n)
      if (t.dtype === 'float32') {
        const d = t.data as Float32Array
        for (let i = 0; i < n; i++) {
          const v = d[i]!
          if (!Number.isFinite(v)) throw new RangeError(`cast: cannot cast the non-finite value ${v} (element ${i}) to int64`)
          out[i] = BigInt(Math.trunc(v))
        }
      } else {
        const d = t.data as Int32Array | Uint8Array
        for (let i = 0; i < n; i++) out[i] = BigInt(d[i]!)
      }
      return out
    }
    case 'bool': {
      const out = new Uint8Array(n)
      const d = t.data
      for (let i = 0; i < n; i++) out[i] = d[i] ? 1 : 0
      return out
    }
  }
}

const cast = (a: HostTensor, dtype: DType): HostTensor => make(dtype, a.shape, castData(a, dtype))

// ---------------------------------------------------------------------------------------------
// broadcasting
// ---------------------------------------------------------------------------------------------

const broadcastShape = (a: readonly number[], b: readonly number[], op: string): number[] => {
  const rank = Math.max(a.length, b.length)
  const out = new Array<number>(rank)
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1
    const db = b[b.length - rank + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast (axis ${i}: ${da} vs ${db})`)
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/**
 * The broadcast as a few coalesced dimensions: `dims[k]` with element strides `sa[k]`, `sb[k]`
 * (0 where that side is broadcast). Adjacent dimensions with the same broadcast pattern merge,
 * so `[n, d] + [1, d]` becomes two dimensions and `[n, d] + [n, d]` one.
 */
const coalesce = (outShape: readonly number[], a: readonly number[], b: readonly number[]) => {
  const rank = outShape.length
  const dims: number[] = []
  const bcA: boolean[] = []
  const bcB: boolean[] = []
  for (let i = 0; i < rank; i++) {
    const d = outShape[i]!
    if (d === 1) continue
    const ba = (a[a.length - rank + i] ?? 1) === 1
    const bb = (b[b.length - rank + i] ?? 1) === 1
    const k = dims.length - 1
    if (k >= 0 && bcA[k] === ba && bcB[k] === bb) dims[k] = dims[k]! * d
    else {
      dims.push(d)
      bcA.push(ba)
      bcB.push(bb)
    }
  }
  const sa = new Array<number>(dims.length)
  const sb = new Array<number>(dims.length)
  let strideA = 1
  let strideB = 1
  for (let k = dims.length - 1; k >= 0; k--) {
    sa[k] = bcA[k] ? 0 : strideA
    sb[k] = bcB[k] ? 0 : strideB
    if (!bcA[k]) strideA *= dims[k]!
    if (!bcB[k]) strideB *= dims[k]!
  }
  return { dims, sa, sb }
}

type FloatOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum'

/**
 * out[o..o+n) = op(a[ia + i*sa], b[ib + i*sb]) with strides in {0, 1}: one tight loop per op and
 * stride pattern (elementwise, scalar right, scalar left), so V8 compiles each to a plain loop.
 */
const floatRun = (op: FloatOp, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, out: Float32Array, o: number, n: number): void => {
  // Plain offsets, no subarray views: broadcasting calls this once per short segment (a row of 12
  // against a per-row scalar), where allocating three views per call dominated small models.
  if (sa === 1 && sb === 1) {
    const da = ia - o
    const db = ib - o
    const end = o + n
    switch (op) {
      case 'add': for (let i = o; i < end; i++) out[i] = a[i + da]! + b[i + db]!; return
      case 'sub': for (let i = o; i < end; i++) out[i] = a[i + da]! - b[i + db]!; return
      case 'mul': for (let i = o; i < end; i++) out[i] = a[i + da]! * b[i + db]!; return
      case 'div': for (let i = o; i < end; i++) out[i] = a[i + da]! / b[i + db]!; return
      case 'maximum': for (let i = o; i < end; i++) out[i] = max(a[i + da]!, b[i + db]!); return
    }
  }
  if (sb === 0) {
    const v = b[ib]!
    const end = o + n
    if (sa === 0) return void out.fill(apply(op, a[ia]!, v), o, end)
    const da = ia - o
    switch (op) {
      case 'add': for (let i = o; i < end; i++) out[i] = a[i + da]! + v; return
      case 'sub': for (let i = o; i < end; i++) out[i] = a[i + da]! - v; return
      case 'mul': for (let i = o; i < end; i++) out[i] = a[i + da]! * v; return
      case 'div': for (let i = o; i < end; i++) out[i] = a[i + da]! / v; return
      case 'maximum': for (let i = o; i < end; i++) out[i] = max(a[i + da]!, v); return
    }
  }
  const v = a[ia]!
  const db = ib - o
  const end = o + n
  switch (op) {
    case 'add': for (let i = o; i < end; i++) out[i] = v + b[i + db]!; return
    case 'sub': for (let i = o; i < end; i++) out[i] = v - b[i + db]!; return
    case 'mul': for (let i = o; i < end; i++) out[i] = v * b[i + db]!; return
    case 'div': for (let i = o; i < end; i++) out[i] = v / b[i + db]!; return
    case 'maximum': for (let i = o; i < end; i++) out[i] = max(v, b[i + db]!); return
  }
}

/** NaN-propagating maximum, as in NumPy and tfjs (Math.max returns NaN when either side is). */
const max = Math.max

const apply = (op: FloatOp, x: number, y: number): number =>
  op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : op === 'div' ? x / y : max(x, y)

/** Walks the coalesced broadcast; `run(ia, ib, o, n)` handles the innermost dimension. */
const walk = (dims: readonly number[], sa: readonly number[], sb: readonly number[], run: (ia: number, ib: number, o: number, n: number, sa: number, sb: number) => void): void => {
  const r = dims.length
  if (r === 0) return run(0, 0, 0, 1, 0, 0)
  const inner = dims[r - 1]!
  const isa = sa[r - 1]!
  const isb = sb[r - 1]!
  if (r === 1) return run(0, 0, 0, inner, isa, isb)
  const outer = r - 1
  const idx = new Array<number>(outer).fill(0)
  let ia = 0
  let ib = 0
  let o = 0
  const total = dims.slice(0, outer).reduce((x, y) => x * y, 1)
  for (let step = 0; step < total; step++) {
    run(ia, ib, o, inner, isa, isb)
    o += inner
    for (let k = outer - 1; k >= 0; k--) {
      idx[k]!++
      ia += sa[k]!
      ib += sb[k]!
      if (idx[k]! < dims[k]!) break
      ia -= sa[k]! * dims[k]!
      ib -= sb[k]! * dims[k]!
      idx[k] = 0
    }
  }
}

const promote = (a: DType, b: DType): DType =>
  a === 'float32' || b === 'float32' ? 'float32' : a === 'int64' || b === 'int64' ? 'int64' : 'int32'

const bigOps: Record<FloatOp, (x: bigint, y: bigint) => bigint> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => (x > y ? x : y),
}
const intOps: Record<FloatOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => Math.imul(x, y),
  div: (x, y) => x / y,
  maximum: (x, y) => (x > y ? x : y),
}

const binary = (op: FloatOp) => (a: HostTensor, b: HostTensor): HostTensor => {
  const shape = broadcastShape(a.shape, b.shape, op)
  const n = sizeOf(shape)
  const dtype = op === 'div' ? 'float32' : promote(a.dtype, b.dtype)
  const { dims, sa, sb } = coalesce(shape, a.shape, b.shape)
  if (dtype === 'float32') {
    const x = toFloat32Array(a)
    const y = toFloat32Array(b)
    const out = new Float32Array(n)
    walk(dims, sa, sb, (ia, ib, o, len, s1, s2) => floatRun(op, x, ia, s1, y, ib, s2, out, o, len))
    return make('float32', shape, out)
  }
  if (dtype === 'int64') {
    const x = castData(a, 'int64') as BigInt64Array
    const y = castData(b, 'int64') as BigInt64Array
    const out = new BigInt64Array(n)
    const f = bigOps[op]
    walk(dims, sa, sb, (ia, ib, o, len, s1, s2) => {
      for (let i = 0; i < len; i++) out[o + i] = BigInt.asIntN(64, f(x[ia + i * s1]!, y[ib + i * s2]!))
    })
    return make('int64', shape, out)
  }
  const x = castData(a, 'int32') as Int32Array
  const y = castData(b, 'int32') as Int32Array
  const out = new Int32Array(n)
  const f = intOps[op]
  walk(dims, sa, sb, (ia, ib, o, len, s1, s2) => {
    for (let i = 0; i < len; i++) out[o + i] = f(x[ia + i * s1]!, y[ib + i * s2]!)
  })
  return make('int32', shape, out)
}

// ---------------------------------------------------------------------------------------------
// unary ops
// ---------------------------------------------------------------------------------------------

const unaryFloat = (a: HostTensor, f: (x: Float32Array, out: Float32Array) => void): HostTensor => {
  const x = toFloat32Array(a)
  const out = new Float32Array(x.length)
  f(x, out)
  return make('float32', a.shape, out)
}

const abs = (a: HostTensor): HostTensor => {
  if (a.dtype === 'float32') return unaryFloat(a, (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]!) })
  if (a.dtype === 'int64') return make('int64', a.shape, (a.data as BigInt64Array).map((v) => (v < 0n ? -v : v)))
  return make('int32', a.shape, (castData(a, 'int32') as Int32Array).map((v) => Math.abs(v)))
}

const square = (a: HostTensor): HostTensor => {
  if (a.dtype === 'float32') return unaryFloat(a, (x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i]! * x[i]! })
  if (a.dtype === 'int64') return make('int64', a.shape, (a.data as BigInt64Array).map((v) => BigInt.asIntN(64, v * v)))
  return make('int32', a.shape, (castData(a, 'int32') as Int32Array).map((v) => Math.imul(v, v)))
}

// ---------------------------------------------------------------------------------------------
// reductions
// ---------------------------------------------------------------------------------------------

const normAxis = (axis: number, rank: number, op: string): number => {
  const ax = axis < 0 ? axis + rank : axis
  if (!Number.isInteger(ax) || ax < 0 || ax >= Math.max(rank, 1)) throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`)
  return ax
}

/**
 * Sum over `axes`. The input is walked once, contiguously; dimensions are coalesced into
 * alternating kept/reduced segments, and the innermost segment is either a scalar accumulation
 * (reduced) or a vector accumulation (kept).
 */
const sum = (a: HostTensor, axes: readonly number[], keepDims = false): HostTensor => {
  const rank = a.shape.length
  const reduced = new Set(axes.length === 0 ? a.shape.map((_, i) => i) : axes.map((ax) => normAxis(ax, rank, 'sum')))
  const outShape = keepDims ? a.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : a.shape.filter((_, i) => !reduced.has(i))
  const dtype: DType = a.dtype === 'bool' ? 'int32' : a.dtype
  const nOut = sizeOf(outShape)
  // Segments: [size, reduced?], dims of size 1 dropped, neighbours with the same flag merged.
  const segs: [number, boolean][] = []
  a.shape.forEach((d, i) => {
    if (d === 1) return
    const r = reduced.has(i)
    const last = segs[segs.length - 1]
    if (last && last[1] === r) last[0] *= d
    else segs.push([d, r])
  })
  if (a.dtype === 'int64') {
    const x = a.data as BigInt64Array
    const acc = new BigInt64Array(nOut)
    forEachSegment(segs, x.length, (p, o, n, isReduced) => {
      if (isReduced) {
        let s = 0n
        for (let i = 0; i < n; i++) s += x[p + i]!
        acc[o] = BigInt.asIntN(64, acc[o]! + s)
      } else for (let i = 0; i < n; i++) acc[o + i] = BigInt.asIntN(64, acc[o + i]! + x[p + i]!)
    })
    return make('int64', outShape, acc)
  }
  const x = a.data as Float32Array | Int32Array | Uint8Array
  const acc = new Float64Array(nOut)
  forEachSegment(segs, x.length, (p, o, n, isReduced) => {
    if (isReduced) {
      let s = 0
      for (let i = 0; i < n; i++) s += x[p + i]!
      acc[o] = acc[o]! + s
    } else for (let i = 0; i < n; i++) acc[o + i] = acc[o + i]! + x[p + i]!
  })
  const out = alloc(dtype as 'float32' | 'int32', nOut)
  if (dtype === 'int32') for (let i = 0; i < nOut; i++) (out as Int32Array)[i] = acc[i]! | 0
  else out.set(acc)
  return make(dtype, outShape, out)
}

/**
 * Visits the input in order as runs of the innermost segment: `run(p, o, n, reduced)` with input
 * offset `p`, output offset `o` and run length `n`.
 */
const forEachSegment = (segs: readonly [number, boolean][], total: number, run: (p: number, o: number, n: number, reduced: boolean) => void): void => {
  if (segs.length === 0) {
    if (total > 0) run(0, 0, 1, true)
    return
  }
  const r = segs.length
  // Output strides of the kept segments (0 for reduced ones).
  const so = new Array<number>(r)
  let stride = 1
  for (let k = r - 1; k >= 0; k--) {
    const [d, red] = segs[k]!
    so[k] = red ? 0 : stride
    if (!red) stride *= d
  }
  const [inner, innerReduced] = segs[r - 1]!
  const outer = r - 1
  const idx = new Array<number>(outer).fill(0)
  let o = 0
  for (let p = 0; p < total; p += inner) {
    run(p, o, inner, innerReduced)
    for (let k = outer - 1; k >= 0; k--) {
      idx[k]!++
      o += so[k]!
      if (idx[k]! < segs[k]![0]) break
      o -= so[k]! * segs[k]![0]
      idx[k] = 0
    }
  }
}

// ---------------------------------------------------------------------------------------------
// layout ops
// ---------------------------------------------------------------------------------------------

const concat = (ts: readonly HostTensor[], axis: number): HostTensor => {
  const first = ts[0]
  if (first === undefined) throw new RangeError('concat: needs at least one tensor')
  const rank = first.shape.length
  const ax = normAxis(axis, rank, 'concat')
  for (const t of ts) {
    if (t.dtype !== first.dtype) throw new RangeError(`concat: dtypes differ (${first.dtype} vs ${t.dtype})`)
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new RangeError(`concat: shapes ${shapeStr(first.shape)} and ${shapeStr(t.shape)} differ outside axis ${ax}`)
    }
  }
  const shape = [...first.shape]
  shape[ax] = ts.reduce((s, t) => s + t.shape[ax]!, 0)
  const outer = sizeOf(first.shape.slice(0, ax))
  const out = alloc(first.dtype, sizeOf(shape))
  const blocks = ts.map((t) => sizeOf(t.shape.slice(ax)))
  const outBlock = sizeOf(shape.slice(ax))
  for (let i = 0; i < outer; i++) {
    let o = i * outBlock
    ts.forEach((t, k) => {
      const b = blocks[k]!
      ;(out as Float32Array).set((t.data as Float32Array).subarray(i * b, (i + 1) * b), o)
      o += b
    })
  }
  return make(first.dtype, shape, out)
}

const slice = (a: HostTensor, begin: readonly number[], size: readonly number[]): HostTensor => {
  const rank = a.shape.length
  if (begin.length !== rank || size.length !== rank) {
    throw new RangeError(`slice: begin [${begin.join(', ')}] and size [${size.join(', ')}] must have rank ${rank}`)
  }
  const shape = a.shape.map((d, i) => {
    const b = begin[i]!
    const s = size[i]! === -1 ? d - b : size[i]!
    if (b < 0 || s < 0 || b + s > d) throw new RangeError(`slice: [${begin.join(', ')}] + [${size.join(', ')}] is out of range for ${shapeStr(a.shape)}`)
    return s
  })
  // Trailing dims taken whole join the contiguous inner block.
  let k = rank
  while (k > 0 && begin[k - 1] === 0 && shape[k - 1] === a.shape[k - 1]) k--
  const inner = sizeOf(shape.slice(Math.max(k - 1, 0)))
  const n = sizeOf(shape)
  const out = alloc(a.dtype, n) as Float32Array
  const src = a.data as Float32Array
  if (k === 0) {
    out.set(src)
    return make(a.dtype, shape, out)
  }
  const inStrides = a.shape.map((_, i) => sizeOf(a.shape.slice(i + 1)))
  const outerDims = shape.slice(0, k - 1)
  const idx = new Array<number>(outerDims.length).fill(0)
  const base = begin.reduce((s, b, i) => s + b * inStrides[i]!, 0)
  let p = base
  for (let o = 0; o < n; o += inner) {
    out.set(src.subarray(p, p + inner), o)
    for (let j = outerDims.length - 1; j >= 0; j--) {
      idx[j]!++
      p += inStrides[j]!
      if (idx[j]! < outerDims[j]!) break
      p -= inStrides[j]! * outerDims[j]!
      idx[j] = 0
    }
  }
  return make(a.dtype, shape, out)
}

const reshape = (a: HostTensor, shape: readonly number[]): HostTensor => {
  const n = a.data.length
  const unknown = shape.filter((d) => d === -1).length
  if (unknown > 1) throw new RangeError(`reshape: at most one -1 in ${shapeStr(shape)}`)
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1)
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d))
  if (sizeOf(resolved) !== n || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`reshape: cannot reshape ${shapeStr(a.shape)} (${n} elements) to ${shapeStr(shape)}`)
  }
  return make(a.dtype, resolved, a.data)
}

const gatherRows = (a: HostTensor, rows: Int32Array): HostTensor => {
  const n0 = a.shape[0]
  if (n0 === undefined) throw new RangeError('gatherRows: needs a tensor of rank >= 1')
  const rowSize = sizeOf(a.shape.slice(1))
  const out = alloc(a.dtype, rows.length * rowSize) as Float32Array
  const src = a.data as Float32Array
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    if (r < 0 || r >= n0) throw new RangeError(`gatherRows: row ${r} is out of range for ${n0} rows`)
    if (rowSize === 1) out[i] = src[r]!
    else out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize)
  }
  return make(a.dtype, [rows.length, ...a.shape.slice(1)], out)
}

const fill = (shape: readonly number[], value: number, dtype: DType = 'float32'): HostTensor => {
  const n = sizeOf(shape)
  switch (dtype) {
    case 'int64':
      if (!Number.isFinite(value)) throw new RangeError(`fill: cannot fill an int64 tensor with ${value}`)
      return make('int64', shape, new BigInt64Array(n).fill(BigInt(Math.trunc(value))))
    case 'bool':
      return make('bool', shape, new Uint8Array(n).fill(value !== 0 ? 1 : 0))
    case 'int32':
      return make('int32', shape, new Int32Array(n).fill(Math.trunc(value) | 0))
    case 'float32':
      return make('float32', shape, new Float32Array(n).fill(value))
  }
}

/** The tensor ops of clarus on host typed arrays. */
export const hostBackend: Backend<HostTensor> = {
  name: 'host',
  isTensor: isHostTensor,
  fromHost: (h) => h,
  toHost: (t) => Promise.resolve(t),
  shapeOf: (t) => t.shape,
  dtypeOf: (t) => t.dtype,
  dispose: () => undefined,
  fill,
  cast,
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  maximum: binary('maximum'),
  scale: (a, s) => unaryFloat(a, (x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i]! * s }),
  abs,
  square,
  sqrt: (a) => unaryFloat(a, (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]!) }),
  sum,
  concat,
  slice,
  reshape,
  gatherRows,
}
