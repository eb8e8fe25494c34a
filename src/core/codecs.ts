/**
 * io-ts codecs shared by the option and spec codecs: host tensors, positive integers, and
 * `withDefaults`, which fills Captum's defaults into a partial options object.
 *
 * @category core
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { invalidSpec, type InvalidSpec } from './errors.js'
import { sizeOf, type HostTensor } from './tensor.js'

const typedArrayFor = {
  float32: Float32Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as const

/** What is wrong with a would-be host tensor (see {@link hostTensorProblem}). */
export interface HostTensorProblem {
  /** DTypeMismatch for a bad dtype or data array type, ShapeMismatch for the rest. */
  readonly tag: 'DTypeMismatch' | 'ShapeMismatch'
  readonly message: string
}

/**
 * Why `u` is not a well-formed {@link HostTensor}, in words a user can act on (undefined when it
 * is one): an unknown dtype, data of the wrong array type, or a data length that disagrees with
 * the shape. Callers prefix the field (`inputs.0: …`).
 */
export const hostTensorProblem = (u: unknown): HostTensorProblem | undefined => {
  const shape = (message: string): HostTensorProblem => ({ tag: 'ShapeMismatch', message })
  const dtype = (message: string): HostTensorProblem => ({ tag: 'DTypeMismatch', message })
  if (typeof u !== 'object' || u === null) return shape(`expected a tensor, got ${showValue(u)}`)
  const o = u as { dtype?: unknown; shape?: unknown; data?: unknown }
  if (typeof o.dtype !== 'string') return dtype('a host tensor needs a dtype (float32, int32, int64 or bool)')
  if (!(o.dtype in typedArrayFor)) {
    return dtype(o.dtype === 'float64'
      ? 'float64 is not supported: convert with {dtype: \'float32\', data: Float32Array.from(data)}'
      : `dtype ${JSON.stringify(o.dtype)} is not supported: use float32, int32, int64 or bool`)
  }
  if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    return shape(`shape ${showValue(o.shape)} is not a list of whole numbers ≥ 0`)
  }
  const Ctor = typedArrayFor[o.dtype as keyof typeof typedArrayFor]
  if (!(o.data instanceof Ctor)) {
    const got = o.data instanceof Float64Array ? 'a Float64Array (float64 is not supported)'
      : ArrayBuffer.isView(o.data) ? `a ${o.data.constructor.name}`
        : Array.isArray(o.data) ? 'a plain array' : showValue(o.data)
    return dtype(`${o.dtype} data must be a ${Ctor.name}, got ${got}: convert with ${Ctor.name}.from(data)`)
  }
  const n = sizeOf(o.shape as number[])
  const len = (o.data as { length: number }).length
  return len === n ? undefined : shape(`data has ${len} elements but shape [${(o.shape as number[]).join(',')}] needs ${n}`)
}

/** True when `u` is a well-formed {@link HostTensor}. */
export const isHostTensor = (u: unknown): u is HostTensor => hostTensorProblem(u) === undefined

/** A codec that accepts host tensors as they are (no JSON form; see `NestedTensor` for that). */
export const HostTensorCodec = new t.Type<HostTensor, HostTensor, unknown>(
  'HostTensor',
  isHostTensor,
  (u, c) => {
    const problem = hostTensorProblem(u)
    return problem === undefined ? t.success(u as HostTensor) : t.failure(u, c, `expected a host tensor {dtype, shape, data}: ${problem.message}`)
  },
  t.identity,
)

/**
 * A value as a user would write it, for error messages: JSON, except that NaN and ±Infinity are
 * printed as such (JSON would show them as null) and undefined, functions and symbols by name.
 */
export const showValue = (v: unknown): string => {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'undefined') return String(v)
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'symbol') return v.toString()
  try {
    const marked = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? `\u0000${String(x)}\u0000` : typeof x === 'bigint' ? `\u0000${String(x)}\u0000` : x))
    return marked === undefined ? String(v) : marked.replace(/"\\u0000([^"\\]*)\\u0000"/g, '$1')
  } catch {
    return String(v)
  }
}

/**
 * A codec from a check that says what is wrong with a value (`undefined` when it is an `A`): the
 * message becomes the decode failure, so every such codec reports its own reason.
 */
export const codecOf = <A>(name: string, problem: (u: unknown) => string | undefined): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(
    name,
    (u): u is A => problem(u) === undefined,
    (u, c) => {
      const p = problem(u)
      return p === undefined ? t.success(u as A) : t.failure(u, c, p)
    },
    t.identity,
  )

/** An integer (plain `number` type, no brand, so hand-written specs type-check). */
export const Integer = new t.Type<number, number, unknown>(
  'Integer',
  (u): u is number => typeof u === 'number' && Number.isInteger(u),
  (u, c) => (typeof u === 'number' && Number.isInteger(u) ? t.success(u) : t.failure(u, c, `expected an integer, got ${showValue(u)}`)),
  t.identity,
)

/** An integer ≥ 1. */
export const PositiveInt = new t.Type<number, number, unknown>(
  'PositiveInt',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 1,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 1 ? t.success(u) : t.failure(u, c, `expected an integer ≥ 1, got ${showValue(u)}`)),
  t.identity,
)
export type PositiveInt = number

/**
 * An integer from 1 to `max`: for counts that set how long a call runs (steps, attempts), so that a
 * hostile or mistyped value (1e12) is refused up front instead of running for days.
 */
export const PositiveIntUpTo = (max: number): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    `PositiveIntUpTo${max}`,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 1 && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 1 && u <= max ? t.success(u) : t.failure(u, c, `expected an integer from 1 to ${max}, got ${showValue(u)}`)),
    t.identity,
  )

/** A finite number > 0. */
export const PositiveNumber = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'PositiveNumber')

/** A finite number ≥ 0. */
export const NonNegativeNumber = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0, 'NonNegativeNumber')

/** Standard deviations of Gaussian noise: one for every input, or one per input (Captum's `stdevs`). */
export const Stdevs = t.union([NonNegativeNumber, t.readonlyArray(NonNegativeNumber)], 'Stdevs')

/** Turns io-ts validation errors into one {@link InvalidSpec} listing every bad field with its path. */
export const toInvalidSpec = (errors: t.Errors, root: readonly string[] = []): InvalidSpec => {
  const byPath = new Map<string, { path: string[]; expected: string[]; value: unknown; message?: string }>()
  for (const e of errors) {
    // Union branches report one error each; group them by field so a user sees one line per field.
    // Keep array indices; drop the numeric keys io-ts adds for intersection and union members.
    const keys = e.context
      .filter((c, i) => {
        if (c.key === '') return false
        if (!/^\d+$/.test(c.key)) return true
        const parent = (e.context[i - 1]?.type as { _tag?: string } | undefined)?._tag
        return parent === 'ArrayType' || parent === 'ReadonlyArrayType' || parent === 'TupleType'
      })
      .map((c) => c.key)
    const path = [...root, ...keys]
    const id = path.join('.')
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a valid value'
    const entry = byPath.get(id) ?? { path, expected: [], value: e.value }
    if (!entry.expected.includes(expected)) entry.expected.push(expected)
    if (e.message !== undefined) entry.message = e.message
    byPath.set(id, entry)
  }
  return invalidSpec(
    [...byPath.values()].map((i) => ({
      path: i.path,
      message: i.message ?? `got ${showValue(i.value)}, expected ${i.expected.join(' | ')}`,
    })),
  )
}

/** Decodes with `codec`, reporting every failure as one {@link InvalidSpec}. */
export const decodeWith = <A>(codec: t.Decoder<unknown, A>, u: unknown, root: readonly string[] = []): E.Either<InvalidSpec, A> =>
  E.mapLeft((errs: t.Errors) => toInvalidSpec(errs, root))(codec.decode(u))
