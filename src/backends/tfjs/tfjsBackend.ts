/**
 * The {@link Backend} tensor ops over TensorFlow.js: thin wrappers over `tf` ops that run on
 * whichever tfjs backend is active (cpu, wasm, webgl, webgpu, or tensorflow from tfjs-node).
 *
 * Conventions shared with the host backend (see `hostBackend.ts`): NumPy broadcasting with
 * float32 > int64 > int32 promotion (bool promotes to int32), `div`, `scale` and `sqrt` return
 * float32, casts to integers truncate.
 *
 * tfjs has no int64. An int64 host tensor becomes an int32 tf tensor (its values must fit in
 * int32, otherwise `fromHost` throws a `RangeError`), and the backend remembers, per tensor, that
 * it stands for int64: `dtypeOf` reports `int64`, ops on it keep the mark, and `toHost` returns a
 * `BigInt64Array` again. Models see a plain int32 tensor, which is what tfjs models take for ids.
 *
 * @category backends
 * @since 0.1.0
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Backend } from '../../core/backend.js'
import { sizeOf, type DType, type HostTensor } from '../../core/tensor.js'

/** Int32 tf tensors that stand for int64 values (weak: no bookkeeping on dispose). */
const int64Marked = new WeakSet<tf.Tensor>()

const mark = (t: tf.Tensor, asInt64: boolean): tf.Tensor => {
  if (asInt64 && t.dtype === 'int32') int64Marked.add(t)
  return t
}

const dtypeOf = (t: tf.Tensor): DType => {
  switch (t.dtype) {
    case 'float32':
      return 'float32'
    case 'int32':
      return int64Marked.has(t) ? 'int64' : 'int32'
    case 'bool':
      return 'bool'
    default:
      throw new RangeError(`tfjsBackend: tensors of dtype ${t.dtype} are not supported (use float32, int32 or bool)`)
  }
}

const INT32_MIN = -(2n ** 31n)
const INT32_MAX = 2n ** 31n - 1n

const fromHost = (h: HostTensor): tf.Tensor => {
  const shape = [...h.shape]
  switch (h.dtype) {
    case 'float32':
      return tf.tensor(h.data as Float32Array, shape, 'float32')
    case 'int32':
      return tf.tensor(h.data as Int32Array, shape, 'int32')
    case 'bool':
      return tf.tensor(h.data as Uint8Array, shape, 'bool')
    case 'int64': {
      const src = h.data as BigInt64Array
      const data = new Int32Array(src.length)
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!
        if (v < INT32_MIN || v > INT32_MAX) {
          throw new RangeError(
            `tfjsBackend: int64 value ${v} (element ${i}) does not fit in int32; tfjs has no int64 tensors. ` +
              'Use the ONNX backend for models that need 64-bit integer inputs.',
          )
        }
        data[i] = Number(v)
      }
      return mark(tf.tensor(data, shape, 'int32'), true)
    }
  }
}

const toHost = async (t: tf.Tensor): Promise<HostTensor> => {
  const dtype = dtypeOf(t)
  const shape = [...t.shape]
  const data = await t.data()
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from(data as Float32Array) }
    case 'int32':
      return { dtype, shape, data: Int32Array.from(data as Int32Array) }
    case 'bool':
      return { dtype, shape, data: Uint8Array.from(data as Uint8Array) }
    case 'int64': {
      const out = new BigInt64Array(data.length)
      for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i] as number)
      return { dtype, shape, data: out }
    }
  }
}

/**
 * True when the active tfjs backend keeps tensors in CPU memory, so a synchronous read is free.
 * On GPU backends `dataSync` stalls the device (and on WebGPU in Node it fails: tfjs reads through an
 * `OffscreenCanvas`), so `cast`'s non-finite guard for int64 is skipped there. The attribution calls
 * do not rely on it: they reject non-finite baselines of integer inputs (`promoteForBaselines`, read
 * asynchronously) before casting them, and non-finite inputs before the first model call.
 */
const readsCheaply = (): boolean => {
  const name = tf.getBackend()
  return name !== 'webgpu' && name !== 'webgl'
}

const tfDtype = (d: DType): 'float32' | 'int32' | 'bool' => (d === 'int64' ? 'int32' : d)

/** Both operands in the promoted dtype (float32 > int64 > int32; bool promotes to int32). */
const promoted = (a: tf.Tensor, b: tf.Tensor, op: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): tf.Tensor => {
  const da = dtypeOf(a)
  const db = dtypeOf(b)
  const float = da === 'float32' || db === 'float32'
  const to = float ? 'float32' : 'int32'
  return mark(
    tf.tidy(() => op(a.dtype === to ? a : tf.cast(a, to), b.dtype === to ? b : tf.cast(b, to))),
    !float && (da === 'int64' || db === 'int64'),
  )
}

const asFloat = (a: tf.Tensor): tf.Tensor => (a.dtype === 'float32' ? a : tf.cast(a, 'float32'))

/** Keeps the int64 mark of `a` on a layout op's result. */
const sameKind = (a: tf.Tensor, f: () => tf.Tensor): tf.Tensor => mark(f(), int64Marked.has(a))

const toIntDtype = (a: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): tf.Tensor =>
  a.dtype === 'bool' ? tf.tidy(() => f(tf.cast(a, 'int32'))) : sameKind(a, () => f(a))

/** The tensor ops of clarus over TensorFlow.js (whatever tfjs backend is active). */
export const tfjsBackend: Backend<tf.Tensor> = {
  name: 'tfjs',
  isTensor: (u): u is tf.Tensor => u instanceof tf.Tensor,
  tidy: (f) => tf.tidy(f),
  fromHost,
  toHost,
  shapeOf: (t) => t.shape,
  dtypeOf,
  dispose: (t) => t.dispose(),
  fill: (shape, value, dtype = 'float32') => {
    if (dtype === 'int64' && !Number.isFinite(value)) throw new RangeError(`fill: cannot fill an int64 tensor with ${value}`)
    const v = dtype === 'float32' ? value : dtype === 'bool' ? (value !== 0 ? 1 : 0) : Math.trunc(value)
    return mark(tf.fill([...shape], v, tfDtype(dtype)), dtype === 'int64')
  },
  cast: (a, dtype) => {
    if (dtype === 'int64' && a.dtype === 'float32' && readsCheaply()) {
      const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(a))))
      const nonFinite = bad.dataSync()[0] === 1
      bad.dispose()
      if (nonFinite) throw new RangeError('cast: cannot cast non-finite values to int64')
    }
    // tfjs-wasm casts float→bool by truncation (0.5 → false, 2 → 2); compare with zero instead.
    if (dtype === 'bool' && a.dtype !== 'bool') return tf.tidy(() => tf.notEqual(a, tf.scalar(0, a.dtype)))
    // tf.cast float→int32 truncates towards zero, as NumPy and the host backend do.
    return mark(a.dtype === tfDtype(dtype) ? a.clone() : tf.cast(a, tfDtype(dtype)), dtype === 'int64')
  },
  add: (a, b) => promoted(a, b, tf.add),
  sub: (a, b) => promoted(a, b, tf.sub),
  mul: (a, b) => promoted(a, b, tf.mul),
  div: (a, b) => tf.tidy(() => tf.div(asFloat(a), asFloat(b))),
  maximum: (a, b) => promoted(a, b, tf.maximum),
  scale: (a, s) => tf.tidy(() => tf.mul(asFloat(a), tf.scalar(s, 'float32'))),
  abs: (a) => toIntDtype(a, tf.abs),
  square: (a) => toIntDtype(a, tf.square),
  sqrt: (a) => tf.tidy(() => tf.sqrt(asFloat(a))),
  sum: (a, axes, keepDims = false) => {
    const all = axes.length === 0 ? a.shape.map((_, i) => i) : [...axes]
    // tf.sum over no axes of a scalar, or over axes of size 1, still returns a new tensor.
    return sameKind(a, () => tf.sum(a, all, keepDims))
  },
  concat: (ts, axis) => {
    const first = ts[0]
    if (first === undefined) throw new RangeError('concat: needs at least one tensor')
    for (const t of ts) {
      if (dtypeOf(t) !== dtypeOf(first)) throw new RangeError(`concat: dtypes differ (${dtypeOf(first)} vs ${dtypeOf(t)})`)
    }
    // tf.concat of a single tensor returns the input itself; clone so the caller owns the result.
    return sameKind(first, () => (ts.length === 1 ? first.clone() : tf.concat([...ts], axis)))
  },
  slice: (a, begin, size) => {
    // Checked here: tfjs-wasm reads past the end instead of throwing.
    const ok = begin.length === a.rank && size.length === a.rank &&
      a.shape.every((d, i) => begin[i]! >= 0 && (size[i] === -1 ? begin[i]! <= d : size[i]! >= 0 && begin[i]! + size[i]! <= d))
    if (!ok) throw new RangeError(`slice: [${begin.join(', ')}] + [${size.join(', ')}] is out of range for [${a.shape.join(', ')}]`)
    return sameKind(a, () => tf.slice(a, [...begin], [...size]))
  },
  reshape: (a, shape) => {
    if (!shape.includes(-1) && sizeOf(shape) !== a.size) {
      throw new RangeError(`reshape: cannot reshape [${a.shape.join(', ')}] (${a.size} elements) to [${shape.join(', ')}]`)
    }
    return sameKind(a, () => tf.reshape(a, [...shape]))
  },
  gatherRows: (a, rows) => {
    const n0 = a.shape[0]
    if (n0 === undefined) throw new RangeError('gatherRows: needs a tensor of rank >= 1')
    for (const r of rows) if (r < 0 || r >= n0) throw new RangeError(`gatherRows: row ${r} is out of range for ${n0} rows`)
    return sameKind(a, () => tf.tidy(() => tf.gather(a, tf.tensor1d(rows, 'int32'), 0)))
  },
}
