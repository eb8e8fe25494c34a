/**
 * JPEG decoding (jpeg-js, pure JS) and a decoder that tells PNG from JPEG by the file's first bytes,
 * so photographs can be read without a native image library.
 *
 * @category viz
 * @since 0.2.0
 */
import { decode } from 'jpeg-js'
import type { Rgba } from './heatmap.js'
import { decodePng } from './png.js'

/** The image formats {@link decodeImage} reads. */
export type ImageFormat = 'png' | 'jpeg'

/**
 * Thrown when bytes cannot be read as an image: `format` is the format the bytes claim to be
 * (by their signature), or `undefined` when they are neither PNG nor JPEG.
 */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError'
  constructor(
    message: string,
    readonly format: ImageFormat | undefined,
  ) {
    super(message)
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** The format the first bytes announce: PNG's 8-byte signature, or JPEG's start-of-image marker FF D8 FF. */
export const sniffImageFormat = (bytes: Uint8Array): ImageFormat | undefined => {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png'
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  return undefined
}

const hexHead = (bytes: Uint8Array): string =>
  Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)'

/**
 * The RGBA pixels of a baseline or progressive JPEG (greyscale and CMYK files come back as RGB,
 * alpha 255). Throws an {@link ImageDecodeError} when the bytes do not start like a JPEG or the
 * decoder gives up on them (truncated or corrupt data, more than 100 megapixels).
 */
export const decodeJpeg = (bytes: Uint8Array): Rgba => {
  if (sniffImageFormat(bytes) !== 'jpeg') {
    throw new ImageDecodeError(`decodeJpeg: not a JPEG file (a JPEG starts with ff d8 ff; these bytes start with ${hexHead(bytes)})`, undefined)
  }
  let raw: { width: number; height: number; data: Uint8Array }
  try {
    raw = decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false })
  } catch (e) {
    throw new ImageDecodeError(`decodeJpeg: the JPEG data is corrupt or unsupported: ${e instanceof Error ? e.message : String(e)}`, 'jpeg')
  }
  if (!(raw.width > 0 && raw.height > 0) || raw.data.length !== raw.width * raw.height * 4) {
    throw new ImageDecodeError(`decodeJpeg: the JPEG decoded to ${raw.width} × ${raw.height} with ${raw.data.length} bytes of pixels; the file is damaged`, 'jpeg')
  }
  return { width: raw.width, height: raw.height, data: new Uint8ClampedArray(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength) }
}

/**
 * A PNG or JPEG image, told apart by its first bytes (not by a file name). Throws an
 * {@link ImageDecodeError} for any other bytes, naming what they start with, and for a PNG or
 * JPEG that does not decode.
 */
export const decodeImage = (bytes: Uint8Array): Rgba => {
  const format = sniffImageFormat(bytes)
  if (format === 'jpeg') return decodeJpeg(bytes)
  if (format === 'png') {
    try {
      return decodePng(bytes)
    } catch (e) {
      throw new ImageDecodeError(`decodeImage: the PNG data is corrupt or unsupported: ${e instanceof Error ? e.message : String(e)}`, 'png')
    }
  }
  throw new ImageDecodeError(`decodeImage: not a PNG or JPEG image (the first bytes are ${hexHead(bytes)}; a PNG starts with 89 50 4e 47, a JPEG with ff d8 ff)`, undefined)
}
