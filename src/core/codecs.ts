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

/** True when `u` is a well-formed {@link HostTensor}. */
export const isHostTensor = (u: unknown): u is HostTensor => {
  if (typeof u !== 'object' || u === null) return false
  const o = u as { dtype?: unknown; shape?: unknown; data?: unknown }
  if (typeof o.dtype !== 'string' || !(o.dtype in typedArrayFor) || !Array.isArray(o.shape)) return false
  if (!o.shape.every((d) => Number.isInteger(d) && d >= 0)) return false
  const Ctor = typedArrayFor[o.dtype as keyof typeof typedArrayFor]
  return o.data instanceof Ctor && (o.data as { length: number }).length === sizeOf(o.shape as number[])
}

/** A codec that accepts host tensors as they are (no JSON form; see `NestedTensor` for that). */
export const HostTensorCodec = new t.Type<HostTensor, HostTensor, unknown>(
  'HostTensor',
  isHostTensor,
  (u, c) => (isHostTensor(u) ? t.success(u) : t.failure(u, c, 'expected a host tensor {dtype, shape, data} whose data length matches its shape')),
  t.identity,
)

/** An integer (plain `number` type, no brand, so hand-written specs type-check). */
export const Integer = new t.Type<number, number, unknown>(
  'Integer',
  (u): u is number => typeof u === 'number' && Number.isInteger(u),
  (u, c) => (typeof u === 'number' && Number.isInteger(u) ? t.success(u) : t.failure(u, c, `expected an integer, got ${JSON.stringify(u)}`)),
  t.identity,
)

/** An integer ≥ 1. */
export const PositiveInt = new t.Type<number, number, unknown>(
  'PositiveInt',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 1,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 1 ? t.success(u) : t.failure(u, c, `expected an integer ≥ 1, got ${JSON.stringify(u)}`)),
  t.identity,
)
export type PositiveInt = number

/** A finite number > 0. */
export const PositiveNumber = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'PositiveNumber')

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
  const shown = (v: unknown): string => {
    try {
      return JSON.stringify(v) ?? String(v)
    } catch {
      return String(v)
    }
  }
  return invalidSpec(
    [...byPath.values()].map((i) => ({
      path: i.path,
      message: i.message ?? `got ${shown(i.value)}, expected ${i.expected.join(' | ')}`,
    })),
  )
}

/** Decodes with `codec`, reporting every failure as one {@link InvalidSpec}. */
export const decodeWith = <A>(codec: t.Decoder<unknown, A>, u: unknown, root: readonly string[] = []): E.Either<InvalidSpec, A> =>
  E.mapLeft((errs: t.Errors) => toInvalidSpec(errs, root))(codec.decode(u))
