/**
 * Host tensors: plain typed arrays with a shape, the currency between clarus and the outside world
 * (user inputs, results, reference fixtures, the ONNX runtime). Backends may hold their own device
 * handles; every backend converts to and from this type.
 *
 * @category core
 * @since 0.1.0
 */

/** Element types clarus understands. `int64` data is held in a `BigInt64Array`. */
export type DType = 'float32' | 'int32' | 'int64' | 'bool'

/** Typed-array storage for each dtype. */
export interface DataOf {
  readonly float32: Float32Array
  readonly int32: Int32Array
  readonly int64: BigInt64Array
  readonly bool: Uint8Array
}

/** A dense row-major tensor in host memory. Dimension 0 is the example (batch) dimension. */
export interface HostTensor<D extends DType = DType> {
  readonly dtype: D
  readonly shape: readonly number[]
  readonly data: DataOf[D]
}

/** Number of elements of a shape (1 for a scalar). */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** A float32 host tensor; copies `data` when it is not already a `Float32Array`. */
export const float32 = (shape: readonly number[], data: ArrayLike<number>): HostTensor<'float32'> => {
  if (sizeOf(shape) !== data.length) {
    throw new RangeError(`float32: shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  return { dtype: 'float32', shape: [...shape], data: data instanceof Float32Array ? data : Float32Array.from(data) }
}

/** An int64 host tensor from numbers or bigints. */
export const int64 = (shape: readonly number[], data: ArrayLike<number | bigint>): HostTensor<'int64'> => {
  if (sizeOf(shape) !== data.length) {
    throw new RangeError(`int64: shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  const out = new BigInt64Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i] as number | bigint)
  return { dtype: 'int64', shape: [...shape], data: out }
}

/** An int32 host tensor. */
export const int32 = (shape: readonly number[], data: ArrayLike<number>): HostTensor<'int32'> => {
  if (sizeOf(shape) !== data.length) {
    throw new RangeError(`int32: shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`)
  }
  return { dtype: 'int32', shape: [...shape], data: Int32Array.from(data) }
}

/** Element `i` of any host tensor as a JS number (int64 values beyond 2^53 lose precision). */
export const elementAt = (t: HostTensor, i: number): number => Number(t.data[i])

/** The values of any host tensor as a `Float64Array` (for tests and small host-side maths). */
export const toFloat64 = (t: HostTensor): Float64Array => {
  const out = new Float64Array(t.data.length)
  for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i])
  return out
}

/** Nested arrays (row-major) from a flat host tensor; handy for printing and JSON. */
export const toNested = (t: HostTensor): unknown => {
  const values = Array.from(toFloat64(t))
  const build = (dim: number, offset: number): unknown => {
    if (dim === t.shape.length) return values[offset]
    const stride = sizeOf(t.shape.slice(dim + 1))
    return Array.from({ length: t.shape[dim] ?? 0 }, (_, i) => build(dim + 1, offset + i * stride))
  }
  return build(0, 0)
}

/** True for the floating dtypes that can carry gradients. */
export const isFloat = (d: DType): d is 'float32' => d === 'float32'

/** Rows of `t` (axis 0) picked by `rows`, in that order (repeats allowed), as a new host tensor. */
export const hostGatherRows = <D extends DType>(t: HostTensor<D>, rows: Int32Array): HostTensor<D> => {
  const per = sizeOf(t.shape.slice(1))
  const src = t.data as unknown as { readonly length: number; subarray(a: number, b: number): ArrayLike<number | bigint> }
  const Ctor = t.data.constructor as new (n: number) => { set(a: ArrayLike<number | bigint>, offset: number): void }
  const out = new Ctor(rows.length * per)
  rows.forEach((e, r) => out.set(src.subarray(e * per, (e + 1) * per), r * per))
  return { dtype: t.dtype, shape: [rows.length, ...t.shape.slice(1)], data: out } as unknown as HostTensor<D>
}
