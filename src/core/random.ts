/**
 * Explicit, splittable randomness. A {@link Key} is two 32-bit words; every stochastic stage
 * derives its numbers from a key with {@link foldIn} (one key per sample index, example index, …)
 * so that a result depends only on the seed and the indices, never on chunking or call order.
 * The generator is a counter-based hash (murmur3's 32-bit finaliser over key words and counter):
 * no state, no global RNG.
 *
 * @category core
 * @since 0.1.0
 */

/** A PRNG key. Make one with {@link keyOf}; derive others with {@link foldIn}. */
export type Key = readonly [number, number]

const fmix32 = (h0: number): number => {
  let h = h0 >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const mix = (a: number, b: number, c: number): number =>
  fmix32(Math.imul(fmix32((a ^ Math.imul(c, 0x9e3779b9)) >>> 0) ^ b, 0x27d4eb2d) ^ Math.imul(c + 0x165667b1, 0x85ebca77))

/** A key from an integer seed (any safe integer; negative seeds are fine). */
export const keyOf = (seed: number): Key => {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 4294967296) >>> 0
  return [fmix32(lo ^ 0x5bd1e995), fmix32(hi ^ 0x1b873593 ^ lo)]
}

/** A new key that depends on `key` and the integer `data` (e.g. a sample index). */
export const foldIn = (key: Key, data: number): Key => [mix(key[0], key[1], data >>> 0), mix(key[1] ^ 0xa5a5a5a5, key[0], (data >>> 0) ^ 0x3c6ef372)]

/** `n` 32-bit unsigned words from `key`. */
export const words = (key: Key, n: number): Uint32Array => {
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = mix(key[0], key[1], i)
  return out
}

/** `n` uniforms in the open interval (0, 1), with 53 random bits each. */
export const uniforms = (key: Key, n: number): Float64Array => {
  const w = words(key, 2 * n)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = ((w[2 * i]! >>> 5) * 67108864 + (w[2 * i + 1]! >>> 6) + 0.5) / 9007199254740992
  return out
}

/** `n` standard normal draws (Box–Muller over {@link uniforms}). */
export const normals = (key: Key, n: number): Float64Array => {
  const u = uniforms(key, 2 * Math.ceil(n / 2))
  const out = new Float64Array(n)
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u[i]!))
    const th = 2 * Math.PI * u[i + 1]!
    out[i] = r * Math.cos(th)
    if (i + 1 < n) out[i + 1] = r * Math.sin(th)
  }
  return out
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates driven by `key`). */
export const permutation = (key: Key, n: number): Int32Array => {
  const p = Int32Array.from({ length: n }, (_, i) => i)
  const u = uniforms(key, n)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1))
    const tmp = p[i]!
    p[i] = p[j]!
    p[j] = tmp
  }
  return p
}
