/**
 * The size check both PNG encoders (pngjs in Node, the pure-JS one in browsers) make before
 * encoding.
 *
 * @internal
 */
import type { Rgba } from './heatmap.js'

/** Throws a `RangeError` unless width and height are positive integers and `data` holds width × height × 4 bytes. */
export const checkRgba = (img: Rgba, who: string): void => {
  const { width, height } = img
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${who}: width and height must be positive integers, got ${String(width)} × ${String(height)}`)
  }
  if (img.data.length !== width * height * 4) {
    throw new RangeError(`${who}: a ${width} × ${height} RGBA image needs ${width * height * 4} bytes of data, got ${img.data.length}`)
  }
}
