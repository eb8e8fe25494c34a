/**
 * The backend conformance suite: `describeBackend(name, make)` runs every case below on one
 * backend. A case is data (host inputs, an op, the expected host result); the suite converts the
 * inputs with `fromHost`, applies the op, reads the result back with `toHost` and compares dtype,
 * shape and values (floats to 1e-6 relative, integers exactly). Where the backend can count live
 * tensors, every case also checks that nothing leaked and that results are owned by the caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Backend } from '../../src/core/backend.js'
import { float32, int32, int64, toFloat64, type DType, type HostTensor } from '../../src/core/tensor.js'

export interface BackendHarness<T> {
  readonly backend: Backend<T>
  /** Live tensor count (tfjs: `tf.memory().numTensors`); absent when the backend holds no resources. */
  readonly liveTensors?: () => number
  /** Restores whatever `make` changed (e.g. the active tfjs backend). */
  readonly teardown?: () => Promise<void>
}

const bool = (shape: readonly number[], data: readonly number[]): HostTensor<'bool'> => ({ dtype: 'bool', shape: [...shape], data: Uint8Array.from(data) })

interface OpCase {
  readonly name: string
  readonly inputs: readonly HostTensor[]
  readonly op: <T>(b: Backend<T>, xs: readonly T[]) => T
  readonly expected: HostTensor
}

/** `x` in the i-th position (the list is never shorter; a typed accessor for strict indexing). */
const at = <T>(xs: readonly T[], i: number): T => xs[i] as T

const A23 = float32([2, 3], [1, -2, 3, -4, 5, -6])
const B23 = float32([2, 3], [0.5, 0.25, -1, 2, -3, 4])
const R3 = float32([3], [10, 20, 30])
const C21 = float32([2, 1], [1, 2])
const X234 = float32([2, 3, 4], Array.from({ length: 24 }, (_, i) => i))

export const OP_CASES: readonly OpCase[] = [
  // broadcasting arithmetic
  { name: 'add same shape', inputs: [A23, B23], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2, 3], [1.5, -1.75, 2, -2, 2, -2]) },
  { name: 'add row broadcast [2,3]+[3]', inputs: [A23, R3], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2, 3], [11, 18, 33, 6, 25, 24]) },
  { name: 'add outer [2,1]+[1,3]', inputs: [C21, float32([1, 3], [1, 2, 3])], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2, 3], [2, 3, 4, 3, 4, 5]) },
  { name: 'add scalar + [2,3]', inputs: [float32([], [1]), A23], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2, 3], [2, -1, 4, -3, 6, -5]) },
  { name: 'add rank 3 + rank 1', inputs: [X234, float32([4], [1, 1, 1, 1])], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2, 3, 4], Array.from({ length: 24 }, (_, i) => i + 1)) },
  { name: 'sub [2,1]-[2,3] (left side broadcast innermost)', inputs: [C21, A23], op: (b, [x, y]) => b.sub(x!, y!), expected: float32([2, 3], [0, 3, -2, 6, -3, 8]) },
  { name: 'mul scalar * scalar', inputs: [float32([], [3]), float32([], [-2])], op: (b, [x, y]) => b.mul(x!, y!), expected: float32([], [-6]) },
  { name: 'sub [2,3]-[2,1]', inputs: [A23, C21], op: (b, [x, y]) => b.sub(x!, y!), expected: float32([2, 3], [0, -3, 2, -6, 3, -8]) },
  { name: 'mul [3,1,2]*[4,1]', inputs: [float32([3, 1, 2], [1, 2, 3, 4, 5, 6]), float32([4, 1], [1, 0, -1, 2])], op: (b, [x, y]) => b.mul(x!, y!),
    expected: float32([3, 4, 2], [1, 2, 0, 0, -1, -2, 2, 4, 3, 4, 0, 0, -3, -4, 6, 8, 5, 6, 0, 0, -5, -6, 10, 12]) },
  { name: 'mul middle broadcast [2,1,4]*[2,3,4]', inputs: [float32([2, 1, 4], [1, 2, 3, 4, 5, 6, 7, 8]), X234], op: (b, [x, y]) => b.mul(x!, y!),
    expected: float32([2, 3, 4], Array.from({ length: 24 }, (_, i) => i * ((Math.floor(i / 12) * 4) + (i % 4) + 1))) },
  { name: 'div', inputs: [A23, B23], op: (b, [x, y]) => b.div(x!, y!), expected: float32([2, 3], [2, -8, -3, -2, -5 / 3, -1.5]) },
  { name: 'div int32 is true division', inputs: [int32([3], [7, -7, 1]), int32([3], [2, 2, 3])], op: (b, [x, y]) => b.div(x!, y!), expected: float32([3], [3.5, -3.5, 1 / 3]) },
  { name: 'maximum broadcast', inputs: [A23, float32([], [0])], op: (b, [x, y]) => b.maximum(x!, y!), expected: float32([2, 3], [1, 0, 3, 0, 5, 0]) },
  { name: 'add int32 + int32 stays int32', inputs: [int32([2], [1, 2]), int32([2], [3, -4])], op: (b, [x, y]) => b.add(x!, y!), expected: int32([2], [4, -2]) },
  { name: 'add int32 + float32 promotes', inputs: [int32([2], [1, 2]), float32([2], [0.5, 0.5])], op: (b, [x, y]) => b.add(x!, y!), expected: float32([2], [1.5, 2.5]) },
  { name: 'mul int64 * int64 stays int64', inputs: [int64([2], [3, -2]), int64([2], [4, 5])], op: (b, [x, y]) => b.mul(x!, y!), expected: int64([2], [12, -10]) },
  // unary
  { name: 'scale', inputs: [A23], op: (b, [x]) => b.scale(x!, -0.5), expected: float32([2, 3], [-0.5, 1, -1.5, 2, -2.5, 3]) },
  { name: 'scale int32 gives float32', inputs: [int32([2], [1, 3])], op: (b, [x]) => b.scale(x!, 0.5), expected: float32([2], [0.5, 1.5]) },
  { name: 'abs', inputs: [A23], op: (b, [x]) => b.abs(x!), expected: float32([2, 3], [1, 2, 3, 4, 5, 6]) },
  { name: 'abs int32', inputs: [int32([3], [-3, 0, 2])], op: (b, [x]) => b.abs(x!), expected: int32([3], [3, 0, 2]) },
  { name: 'square', inputs: [A23], op: (b, [x]) => b.square(x!), expected: float32([2, 3], [1, 4, 9, 16, 25, 36]) },
  { name: 'sqrt', inputs: [float32([3], [0, 4, 2])], op: (b, [x]) => b.sqrt(x!), expected: float32([3], [0, 2, Math.SQRT2]) },
  // sum
  { name: 'sum all axes', inputs: [X234], op: (b, [x]) => b.sum(x!, []), expected: float32([], [276]) },
  { name: 'sum all axes keepDims', inputs: [A23], op: (b, [x]) => b.sum(x!, [], true), expected: float32([1, 1], [-3]) },
  { name: 'sum axis 0', inputs: [A23], op: (b, [x]) => b.sum(x!, [0]), expected: float32([3], [-3, 3, -3]) },
  { name: 'sum axis 1 keepDims', inputs: [A23], op: (b, [x]) => b.sum(x!, [1], true), expected: float32([2, 1], [2, -5]) },
  { name: 'sum trailing axes [1,2]', inputs: [X234], op: (b, [x]) => b.sum(x!, [1, 2]), expected: float32([2], [66, 210]) },
  { name: 'sum axes [0,2]', inputs: [X234], op: (b, [x]) => b.sum(x!, [0, 2]), expected: float32([3], [60, 92, 124]) },
  { name: 'sum axes [0,2] keepDims', inputs: [X234], op: (b, [x]) => b.sum(x!, [0, 2], true), expected: float32([1, 3, 1], [60, 92, 124]) },
  { name: 'sum axis -1', inputs: [X234], op: (b, [x]) => b.sum(x!, [-1]), expected: float32([2, 3], [6, 22, 38, 54, 70, 86]) },
  { name: 'sum int32 stays int32', inputs: [int32([2, 2], [1, 2, 3, 4])], op: (b, [x]) => b.sum(x!, [1]), expected: int32([2], [3, 7]) },
  { name: 'sum over a size-1 axis', inputs: [C21], op: (b, [x]) => b.sum(x!, [1]), expected: float32([2], [1, 2]) },
  // layout
  { name: 'concat axis 0', inputs: [A23, B23], op: (b, xs) => b.concat(xs, 0), expected: float32([4, 3], [1, -2, 3, -4, 5, -6, 0.5, 0.25, -1, 2, -3, 4]) },
  { name: 'concat axis 1, three tensors', inputs: [C21, A23, C21], op: (b, xs) => b.concat(xs, 1), expected: float32([2, 5], [1, 1, -2, 3, 1, 2, -4, 5, -6, 2]) },
  { name: 'concat one tensor', inputs: [A23], op: (b, xs) => b.concat(xs, 0), expected: A23 },
  { name: 'concat int64 keeps int64', inputs: [int64([1], [5]), int64([2], [6, 7])], op: (b, xs) => b.concat(xs, 0), expected: int64([3], [5, 6, 7]) },
  { name: 'slice 2d', inputs: [A23], op: (b, [x]) => b.slice(x!, [0, 1], [2, 2]), expected: float32([2, 2], [-2, 3, 5, -6]) },
  { name: 'slice rows (contiguous)', inputs: [X234], op: (b, [x]) => b.slice(x!, [1, 0, 0], [1, 3, 4]), expected: float32([1, 3, 4], Array.from({ length: 12 }, (_, i) => 12 + i)) },
  { name: 'slice 3d with size -1', inputs: [X234], op: (b, [x]) => b.slice(x!, [0, 1, 2], [-1, 2, -1]), expected: float32([2, 2, 2], [6, 7, 10, 11, 18, 19, 22, 23]) },
  { name: 'slice int32', inputs: [int32([4], [1, 2, 3, 4])], op: (b, [x]) => b.slice(x!, [1], [2]), expected: int32([2], [2, 3]) },
  { name: 'reshape', inputs: [A23], op: (b, [x]) => b.reshape(x!, [3, 2]), expected: float32([3, 2], [1, -2, 3, -4, 5, -6]) },
  { name: 'reshape with -1', inputs: [X234], op: (b, [x]) => b.reshape(x!, [-1, 4]), expected: float32([6, 4], Array.from({ length: 24 }, (_, i) => i)) },
  { name: 'reshape int64 keeps int64', inputs: [int64([2, 2], [1, 2, 3, 4])], op: (b, [x]) => b.reshape(x!, [4]), expected: int64([4], [1, 2, 3, 4]) },
  { name: 'gatherRows with repeats', inputs: [A23], op: (b, [x]) => b.gatherRows(x!, Int32Array.from([1, 0, 1])), expected: float32([3, 3], [-4, 5, -6, 1, -2, 3, -4, 5, -6]) },
  { name: 'gatherRows rank 3', inputs: [X234], op: (b, [x]) => b.gatherRows(x!, Int32Array.from([1])), expected: float32([1, 3, 4], Array.from({ length: 12 }, (_, i) => 12 + i)) },
  { name: 'gatherRows rank 1', inputs: [R3], op: (b, [x]) => b.gatherRows(x!, Int32Array.from([2, 2, 0])), expected: float32([3], [30, 30, 10]) },
  { name: 'gatherRows int64', inputs: [int64([2, 1], [8, 9])], op: (b, [x]) => b.gatherRows(x!, Int32Array.from([1, 0])), expected: int64([2, 1], [9, 8]) },
  // casts
  { name: 'cast float32 → int32 truncates', inputs: [float32([4], [1.7, -1.7, 0.2, -0])], op: (b, [x]) => b.cast(x!, 'int32'), expected: int32([4], [1, -1, 0, 0]) },
  { name: 'cast float32 → int64 truncates', inputs: [float32([3], [2.9, -2.9, 1e6])], op: (b, [x]) => b.cast(x!, 'int64'), expected: int64([3], [2, -2, 1000000]) },
  { name: 'cast float32 → bool', inputs: [float32([3], [0, -0.5, 2])], op: (b, [x]) => b.cast(x!, 'bool'), expected: bool([3], [0, 1, 1]) },
  { name: 'cast bool → float32', inputs: [bool([3], [1, 0, 1])], op: (b, [x]) => b.cast(x!, 'float32'), expected: float32([3], [1, 0, 1]) },
  { name: 'cast int32 → int64', inputs: [int32([2], [-5, 7])], op: (b, [x]) => b.cast(x!, 'int64'), expected: int64([2], [-5, 7]) },
  { name: 'cast int64 → float32', inputs: [int64([2], [-5, 7])], op: (b, [x]) => b.cast(x!, 'float32'), expected: float32([2], [-5, 7]) },
  { name: 'cast int64 → int32', inputs: [int64([2], [-5, 7])], op: (b, [x]) => b.cast(x!, 'int32'), expected: int32([2], [-5, 7]) },
  { name: 'cast to the same dtype', inputs: [A23], op: (b, [x]) => b.cast(x!, 'float32'), expected: A23 },
  // fill
  { name: 'fill float32', inputs: [], op: (b) => b.fill([2, 2], 1.5), expected: float32([2, 2], [1.5, 1.5, 1.5, 1.5]) },
  { name: 'fill int32', inputs: [], op: (b) => b.fill([3], 7, 'int32'), expected: int32([3], [7, 7, 7]) },
  { name: 'fill int64', inputs: [], op: (b) => b.fill([2], -3, 'int64'), expected: int64([2], [-3, -3]) },
  { name: 'fill bool', inputs: [], op: (b) => b.fill([2], 1, 'bool'), expected: bool([2], [1, 1]) },
  { name: 'fill scalar', inputs: [], op: (b) => b.fill([], 2), expected: float32([], [2]) },
]

interface ThrowCase {
  readonly name: string
  readonly inputs: readonly HostTensor[]
  readonly op: <T>(b: Backend<T>, xs: readonly T[]) => T
}

export const THROW_CASES: readonly ThrowCase[] = [
  { name: 'add with incompatible shapes', inputs: [A23, float32([2], [1, 2])], op: (b, [x, y]) => b.add(x!, y!) },
  { name: 'reshape to a different size', inputs: [A23], op: (b, [x]) => b.reshape(x!, [4, 2]) },
  { name: 'gatherRows out of range', inputs: [A23], op: (b, [x]) => b.gatherRows(x!, Int32Array.from([2])) },
  { name: 'slice out of range', inputs: [A23], op: (b, [x]) => b.slice(x!, [1, 0], [2, 3]) },
  { name: 'cast NaN to int64', inputs: [float32([1], [NaN])], op: (b, [x]) => b.cast(x!, 'int64') },
]

const isFloatDtype = (d: DType): boolean => d === 'float32'

const expectClose = (actual: HostTensor, expected: HostTensor, label: string): void => {
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype)
  expect([...actual.shape], `${label}: shape`).toEqual([...expected.shape])
  expect(actual.data.constructor, `${label}: storage`).toBe(expected.data.constructor)
  if (!isFloatDtype(expected.dtype)) {
    expect(Array.from(actual.data as ArrayLike<number | bigint>), `${label}: values`).toEqual(Array.from(expected.data as ArrayLike<number | bigint>))
    return
  }
  const a = toFloat64(actual)
  const e = toFloat64(expected)
  for (let i = 0; i < e.length; i++) {
    const tol = 1e-6 * Math.max(1, Math.abs(e[i]!))
    expect(Math.abs(a[i]! - e[i]!), `${label}: element ${i} is ${a[i]}, expected ${e[i]}`).toBeLessThanOrEqual(tol)
  }
}

export interface BackendCaps {
  /** Largest int64 value the backend can hold (tfjs: the int32 range); default: the full int64 range. */
  readonly int64Limit?: bigint
}

/** Registers the conformance suite for one backend; `make` runs in `beforeAll`. */
export const describeBackend = <T>(name: string, make: () => Promise<BackendHarness<T>>, caps: BackendCaps = {}): void => {
  describe(`backend conformance: ${name}`, () => {
    let h: BackendHarness<T>
    beforeAll(async () => {
      h = await make()
    })
    afterAll(async () => {
      await h?.teardown?.()
    })
    const live = (): number => h.liveTensors?.() ?? 0

    it.each(OP_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const b = h.backend
      const before = live()
      const xs = c.inputs.map((x) => b.fromHost(x))
      const y = c.op(b, xs)
      expect(b.isTensor(y)).toBe(true)
      expect([...b.shapeOf(y)]).toEqual([...c.expected.shape])
      expect(b.dtypeOf(y)).toBe(c.expected.dtype)
      expectClose(await b.toHost(y), c.expected, c.name)
      // The result is the caller's own: disposing it leaves the inputs usable, and vice versa.
      b.dispose(y)
      for (let i = 0; i < xs.length; i++) expectClose(await b.toHost(at(xs, i)), at(c.inputs, i), `${c.name}: input ${i} after dispose`)
      xs.forEach((x) => b.dispose(x))
      expect(live(), `${c.name}: live tensors`).toBe(before)
    })

    it.each(THROW_CASES.map((c) => [c.name, c] as const))('throws: %s', (_, c) => {
      const b = h.backend
      const before = live()
      const xs = c.inputs.map((x) => b.fromHost(x))
      expect(() => c.op(b, xs)).toThrow()
      xs.forEach((x) => b.dispose(x))
      expect(live()).toBe(before)
    })

    it('round-trips every dtype through fromHost/toHost, reporting dtype and shape', async () => {
      const b = h.backend
      const limit = caps.int64Limit ?? 2n ** 63n - 1n
      const cases: HostTensor[] = [
        float32([2, 2], [0.1, -2.5, 3e30, -0]),
        int32([3], [-(2 ** 31), 0, 2 ** 31 - 1]),
        int64([2, 1], [-limit - 1n, limit]),
        bool([2], [1, 0]),
        float32([], [4]),
        float32([0, 3], []),
      ]
      const before = live()
      for (const c of cases) {
        const t = b.fromHost(c)
        expect(b.isTensor(t)).toBe(true)
        expect(b.dtypeOf(t)).toBe(c.dtype)
        expect([...b.shapeOf(t)]).toEqual([...c.shape])
        expectClose(await b.toHost(t), c, `round trip ${c.dtype} [${c.shape.join(', ')}]`)
        b.dispose(t)
      }
      expect(live()).toBe(before)
    })

    it('recognises only its own tensors', () => {
      expect(h.backend.isTensor({ shape: [1] })).toBe(false)
      expect(h.backend.isTensor(null)).toBe(false)
      expect(h.backend.isTensor(new Float32Array(2))).toBe(false)
    })

    it('ops never mutate their inputs', async () => {
      const b = h.backend
      const x = b.fromHost(float32([2, 3], [1, 2, 3, 4, 5, 6]))
      const ys = [b.add(x, x), b.scale(x, 2), b.abs(x), b.sum(x, [0]), b.reshape(x, [6]), b.slice(x, [0, 0], [1, 3])]
      expectClose(await b.toHost(x), float32([2, 3], [1, 2, 3, 4, 5, 6]), 'input after ops')
      ys.forEach((y) => b.dispose(y))
      b.dispose(x)
    })

    const limit = caps.int64Limit
    if (limit !== undefined) {
      it('rejects int64 values beyond its range', () => {
        const before = live()
        expect(() => h.backend.fromHost(int64([1], [limit + 1n]))).toThrow(/int64|int32/)
        expect(() => h.backend.fromHost(int64([1], [-limit - 2n]))).toThrow(/int64|int32/)
        expect(live()).toBe(before)
      })
    }
  })
}
