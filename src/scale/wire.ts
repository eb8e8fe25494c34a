/**
 * A JSON encoding of the data executors ship between machines (tasks, units, span partials,
 * outcomes), lossless where plain JSON is not: typed arrays travel as their bytes in base64 (so
 * every float keeps its bits, NaN payloads and -0 included), bigints as decimal strings, and the
 * numbers JSON cannot write (NaN, ±Infinity, -0), `undefined` array slots and `Error` values as
 * small tagged objects. Tagged objects are `{ "$t": tag, … }`; a plain object that happens to have
 * its own `$t` key is wrapped, so nothing the encoder writes can be mistaken for a tag.
 *
 * `decodeWire(encodeWire(x))` equals `x` bit for bit for every value made of plain objects,
 * arrays, strings, booleans, null, numbers, bigints, typed arrays and errors (their name and
 * message); anything else (functions, symbols, class instances, cycles) is refused with a
 * {@link WireError} rather than silently changed.
 *
 * Typed arrays are written in little-endian byte order, which is the order of every platform
 * clarus runs on; a big-endian host refuses to encode or decode them.
 *
 * @category scale
 * @since 0.6.0
 */
import { endianness } from 'node:os'

/** A JSON value, as {@link toWire} produces it. */
export type WireJson = null | boolean | number | string | readonly WireJson[] | { readonly [key: string]: WireJson }

/** Data that cannot be encoded, or text that is not an encoding. */
export class WireError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WireError'
  }
}

type TypedArray =
  | Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array
  | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array | Uint8ClampedArray

/** Tag ↔ typed array constructor. The first five are the ones host tensors and partials use. */
const ARRAYS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  i64: BigInt64Array,
  u8: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  u16: Uint16Array,
  u32: Uint32Array,
  u64: BigUint64Array,
  u8c: Uint8ClampedArray,
} as const
type ArrayTag = keyof typeof ARRAYS

const arrayTag = (v: TypedArray): ArrayTag => {
  for (const [tag, Ctor] of Object.entries(ARRAYS) as [ArrayTag, (typeof ARRAYS)[ArrayTag]][]) {
    if (v.constructor === Ctor) return tag
  }
  throw new WireError(`cannot encode a ${v.constructor.name}`)
}

const littleEndian = (): void => {
  if (endianness() !== 'LE') throw new WireError('typed arrays are shipped little-endian; this host is big-endian')
}

const SPECIAL_NUMBERS = ['NaN', 'Infinity', '-Infinity', '-0'] as const

const isPlainObject = (v: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Sets `out[k]` as an own data property (a `__proto__` key stays a key, never a prototype). */
const put = (out: Record<string, unknown>, k: string, v: unknown): void => {
  Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
}

/** `value` as a JSON value (see the module comment for what is tagged). Throws {@link WireError}. */
export const toWire = (value: unknown): WireJson => {
  const seen = new Set<object>()
  const go = (v: unknown, at: string): WireJson => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v
      case 'number':
        if (Number.isNaN(v)) return { $t: 'num', v: 'NaN' }
        if (v === Number.POSITIVE_INFINITY) return { $t: 'num', v: 'Infinity' }
        if (v === Number.NEGATIVE_INFINITY) return { $t: 'num', v: '-Infinity' }
        if (Object.is(v, -0)) return { $t: 'num', v: '-0' }
        return v
      case 'bigint':
        return { $t: 'big', v: v.toString() }
      case 'undefined':
        return { $t: 'undef' }
      case 'object':
        break
      default:
        throw new WireError(`cannot encode a ${typeof v} at ${at}`)
    }
    if (v === null) return null
    if (ArrayBuffer.isView(v)) {
      if (v instanceof DataView) throw new WireError(`cannot encode a DataView at ${at}`)
      littleEndian()
      const a = v as TypedArray
      return { $t: arrayTag(a), b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') }
    }
    if (seen.has(v)) throw new WireError(`cannot encode a cycle at ${at}`)
    seen.add(v)
    try {
      if (Array.isArray(v)) {
        // holes read as undefined and are kept as such
        return Array.from({ length: v.length }, (_, i) => go((v as unknown[])[i], `${at}[${i}]`))
      }
      if (v instanceof Error) return { $t: 'err', name: v.name, message: v.message }
      if (!isPlainObject(v)) throw new WireError(`cannot encode an instance of ${v.constructor?.name ?? 'a class'} at ${at}`)
      const out: Record<string, WireJson> = {}
      for (const [k, x] of Object.entries(v)) {
        // an absent optional field stays absent (JSON has no undefined-valued keys)
        if (x !== undefined) put(out, k, go(x, `${at}.${k}`))
      }
      return Object.hasOwn(v, '$t') ? { $t: 'obj', v: out } : out
    } finally {
      seen.delete(v)
    }
  }
  return go(value, '<root>')
}

const fail = (at: string, what: string): never => {
  throw new WireError(`not a clarus wire encoding: ${what} at ${at}`)
}

/** The value a {@link toWire} result stands for. Throws {@link WireError} on anything malformed. */
export const fromWire = (json: unknown): unknown => {
  const go = (w: unknown, at: string): unknown => {
    if (w === null || typeof w === 'string' || typeof w === 'boolean' || typeof w === 'number') return w
    if (Array.isArray(w)) return w.map((x, i) => go(x, `${at}[${i}]`))
    if (typeof w !== 'object') return fail(at, `a ${typeof w}`)
    const o = w as Record<string, unknown>
    if (!Object.hasOwn(o, '$t')) {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(o)) put(out, k, go(x, `${at}.${k}`))
      return out
    }
    const tag = o.$t
    if (typeof tag !== 'string') return fail(at, 'a non-string $t')
    if (Object.hasOwn(ARRAYS, tag)) {
      if (typeof o.b64 !== 'string') return fail(at, `a ${tag} array without b64`)
      littleEndian()
      const Ctor = ARRAYS[tag as ArrayTag]
      const bytes = Buffer.from(o.b64, 'base64')
      if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) return fail(at, `${bytes.byteLength} bytes for a ${tag} array`)
      // copy into a fresh, aligned buffer (Buffer may hand out a slice of a shared pool)
      const copy = new ArrayBuffer(bytes.byteLength)
      new Uint8Array(copy).set(bytes)
      return new Ctor(copy)
    }
    switch (tag) {
      case 'num':
        if (!(SPECIAL_NUMBERS as readonly unknown[]).includes(o.v)) return fail(at, `the number ${JSON.stringify(o.v)}`)
        return o.v === '-0' ? -0 : Number(o.v)
      case 'big':
        if (typeof o.v !== 'string' || !/^-?\d+$/.test(o.v)) return fail(at, `the bigint ${JSON.stringify(o.v)}`)
        return BigInt(o.v)
      case 'undef':
        return undefined
      case 'err': {
        const e = new Error(typeof o.message === 'string' ? o.message : '')
        if (typeof o.name === 'string') e.name = o.name
        return e
      }
      case 'obj': {
        if (typeof o.v !== 'object' || o.v === null || Array.isArray(o.v)) return fail(at, 'a wrapped object that is not an object')
        const out: Record<string, unknown> = {}
        for (const [k, x] of Object.entries(o.v)) put(out, k, go(x, `${at}.${k}`))
        return out
      }
      default:
        return fail(at, `the unknown tag ${JSON.stringify(tag)}`)
    }
  }
  return go(json, '<root>')
}

/**
 * `value` as JSON text that {@link decodeWire} turns back into an equal value, typed arrays bit for
 * bit. Throws {@link WireError} for what cannot be encoded (functions, class instances, cycles).
 *
 * @category scale
 * @since 0.6.0
 */
export const encodeWire = (value: unknown): string => JSON.stringify(toWire(value))

/**
 * The value `json` (from {@link encodeWire}) encodes. Throws {@link WireError} on text that is not
 * JSON or not an encoding.
 *
 * @category scale
 * @since 0.6.0
 */
export const decodeWire = (json: string): unknown => {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (e) {
    throw new WireError(`not a clarus wire encoding: ${(e as Error).message}`)
  }
  return fromWire(parsed)
}
