/**
 * Byte-array helpers shared by the Node and browser paths.
 *
 * @internal
 */

/** The arrays one after another in a new array (weight shards into one buffer, …). */
export const concatBytes = (parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
