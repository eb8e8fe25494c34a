/**
 * Base64 (RFC 4648, standard alphabet, padded) of bytes, with no Node `Buffer` and no `btoa`, so
 * the same code serves Node, browsers and workers (data URIs in SVG and HTML output).
 *
 * @internal
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Characters per joined piece: keeps the intermediate arrays small for large inputs. */
const PIECE = 1 << 15

/** The base64 text of `bytes` (`=`-padded to a multiple of 4 characters). */
export const toBase64 = (bytes: Uint8Array): string => {
  const pieces: string[] = []
  let piece: string[] = []
  const n = bytes.length
  const whole = n - (n % 3)
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    piece.push(ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + ALPHABET[(v >>> 6) & 63]! + ALPHABET[v & 63]!)
    if (piece.length === PIECE) {
      pieces.push(piece.join(''))
      piece = []
    }
  }
  if (n - whole === 1) {
    const v = bytes[whole]! << 16
    piece.push(`${ALPHABET[v >>> 18]!}${ALPHABET[(v >>> 12) & 63]!}==`)
  } else if (n - whole === 2) {
    const v = (bytes[whole]! << 16) | (bytes[whole + 1]! << 8)
    piece.push(`${ALPHABET[v >>> 18]!}${ALPHABET[(v >>> 12) & 63]!}${ALPHABET[(v >>> 6) & 63]!}=`)
  }
  pieces.push(piece.join(''))
  return pieces.join('')
}
