/**
 * PNG encoding and decoding of {@link Rgba} images (pngjs, pure JS). Browser bundles use
 * `png.web.ts` instead (same exports, over fflate), as pngjs needs Node streams and zlib.
 *
 * @category viz
 * @since 0.1.0
 */
import { PNG } from 'pngjs'
import type { Rgba } from './heatmap.js'
import { checkRgba } from './rgbaCheck.js'

/**
 * PNG bytes of `img`. Throws a `RangeError` when the size is not a pair of positive integers or
 * `data` does not hold exactly width × height × 4 bytes (pngjs would otherwise encode whatever
 * lies past the end of a short array).
 */
export const encodePng = (img: Rgba): Uint8Array => {
  checkRgba(img, 'encodePng')
  const png = new PNG({ width: img.width, height: img.height })
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)
  return PNG.sync.write(png)
}

export const decodePng = (bytes: Uint8Array): Rgba => {
  const png = PNG.sync.read(Buffer.from(bytes))
  return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) }
}
