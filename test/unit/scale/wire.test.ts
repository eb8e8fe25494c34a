// The wire encoding is lossless: typed arrays come back bit for bit (NaN payloads, -0, signalling
// NaNs), numbers JSON cannot write and bigints survive, and what cannot be encoded is refused.
import { describe, expect, it } from 'vitest'
import { decodeWire, encodeWire, WireError } from '../../../src/scale/wire.js'

/** The bytes of a typed array (the comparison that sees NaN payloads and -0). */
const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
const sameBits = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  a.constructor === b.constructor && a.byteLength === b.byteLength && bytes(a).every((x, i) => x === bytes(b)[i])

const f32Bits = (bits: readonly number[]): Float32Array => new Float32Array(Uint32Array.from(bits).buffer)
const f64Bits = (bits: readonly bigint[]): Float64Array => new Float64Array(BigUint64Array.from(bits).buffer)

// quiet NaN, NaN with a payload, negative NaN, signalling NaN, -0, +0, ±Infinity, a subnormal, 1.5
const F32 = f32Bits([0x7fc00000, 0x7fc12345, 0xffc00001, 0x7f800001, 0x80000000, 0, 0x7f800000, 0xff800000, 1, 0x3fc00000])
const F64 = f64Bits([0x7ff8000000000000n, 0x7ff8000000abcdefn, 0xfff8000000000001n, 0x7ff0000000000001n, 0x8000000000000000n, 0n, 1n, 0x3ff8000000000000n])

const roundTrip = <A>(x: A): A => decodeWire(encodeWire(x)) as A

describe('encodeWire / decodeWire', () => {
  it('keeps every float array bit for bit, NaN payloads and -0 included', () => {
    for (const a of [F32, F64]) {
      const back = roundTrip(a)
      expect(sameBits(back, a)).toBe(true)
    }
    // a subarray travels as its own elements, not its whole buffer
    const sub = F32.subarray(2, 6)
    expect(sameBits(roundTrip(sub), sub)).toBe(true)
    expect(roundTrip(sub).length).toBe(4)
  })

  it('negative control: plain JSON loses those bits, and the comparison sees it', () => {
    const naive = Float32Array.from(JSON.parse(JSON.stringify(Array.from(F32))) as number[])
    expect(sameBits(naive, F32)).toBe(false)
    const quieted = F64.slice()
    quieted[1] = Number.NaN // same value to ===-blind eyes, another payload
    expect(sameBits(quieted, F64)).toBe(false)
  })

  it('keeps integer arrays, bigints at their extremes, and every other typed array kind', () => {
    const i64 = BigInt64Array.from([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])
    const u64 = BigUint64Array.from([0n, 2n ** 64n - 1n])
    const arrays: ArrayBufferView[] = [
      Int32Array.from([-(2 ** 31), -1, 0, 2 ** 31 - 1]), i64, u64, Uint8Array.from([0, 255]), Int8Array.from([-128, 127]),
      Int16Array.from([-32768, 32767]), Uint16Array.from([65535]), Uint32Array.from([2 ** 32 - 1]), Uint8ClampedArray.from([0, 255]), new Float32Array(0),
    ]
    for (const a of arrays) expect(sameBits(roundTrip(a), a)).toBe(true)
    expect(roundTrip({ big: 2n ** 70n, neg: -(2n ** 70n) })).toEqual({ big: 2n ** 70n, neg: -(2n ** 70n) })
  })

  it('keeps the numbers JSON cannot write, undefined array slots, and absent fields absent', () => {
    const back = roundTrip([Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, undefined, null, 'x', true])
    expect(Number.isNaN(back[0])).toBe(true)
    expect(Object.is(back[1], -0)).toBe(true)
    expect(Object.is(back[2], 0)).toBe(true)
    expect(back.slice(3)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, undefined, null, 'x', true])
    expect(back).toHaveLength(10)
    const o = roundTrip({ a: 1, b: undefined })
    expect(Object.keys(o)).toEqual(['a'])
  })

  it('never mistakes data for a tag: objects with their own $t key, and __proto__ keys, come back as they were', () => {
    const tricky = { $t: 'f32', b64: 'AAAA', nested: { $t: 'num', v: 'NaN' } }
    expect(roundTrip(tricky)).toEqual(tricky)
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object
    const back = roundTrip(proto) as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(back, '__proto__')).toBe(true)
  })

  it('a task outcome with a span partial and a host tensor survives whole', () => {
    const outcome = {
      ok: true,
      kind: 'span',
      span: {
        partial: { start: 0, end: 8, tensors: [{ dtype: 'float64', shape: [2, 3], data: F64.subarray(0, 6) }, { dtype: 'int64', shape: [2], data: BigInt64Array.from([1n, -1n]) }], data: { delta: true } },
        count: 50,
        axis: 'steps',
        space: { kind: 'input' },
        modelRows: 16,
        chunks: 1,
      },
    }
    const back = roundTrip(outcome)
    expect(sameBits(back.span.partial.tensors[0]!.data, outcome.span.partial.tensors[0]!.data)).toBe(true)
    expect({ ...back, span: { ...back.span, partial: { ...back.span.partial, tensors: [] } } })
      .toEqual({ ...outcome, span: { ...outcome.span, partial: { ...outcome.span.partial, tensors: [] } } })
    expect(back.span.partial.tensors[1]).toEqual(outcome.span.partial.tensors[1])
  })

  it('keeps an Error by name and message', () => {
    const e = new RangeError('too far')
    const back = roundTrip({ cause: e }).cause
    expect(back).toBeInstanceOf(Error)
    expect([back.name, back.message]).toEqual(['RangeError', 'too far'])
  })

  it('refuses what it cannot encode, naming where', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    expect(() => encodeWire(cyclic)).toThrow(/cycle at <root>\.self/)
    expect(() => encodeWire({ f: () => 1 })).toThrow(WireError)
    expect(() => encodeWire({ d: new Date(0) })).toThrow(/instance of Date at <root>\.d/)
    expect(() => encodeWire(new Map())).toThrow(WireError)
    expect(() => encodeWire(Symbol('s'))).toThrow(WireError)
    // the same object twice (not a cycle) is fine
    const shared = { x: 1 }
    expect(roundTrip([shared, shared])).toEqual([{ x: 1 }, { x: 1 }])
  })

  it('refuses text that is not an encoding', () => {
    expect(() => decodeWire('{')).toThrow(WireError)
    expect(() => decodeWire('{"$t":"what"}')).toThrow(/unknown tag "what"/)
    expect(() => decodeWire('{"$t":"f64","b64":"AAAA"}')).toThrow(/3 bytes for a f64 array/)
    expect(() => decodeWire('{"$t":"num","v":"1"}')).toThrow(WireError)
    expect(() => decodeWire('{"$t":"big","v":"1.5"}')).toThrow(WireError)
  })
})
