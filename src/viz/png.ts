/**
 * PNG encoding and decoding of {@link Rgba} images (pngjs, pure JS).
 *
 * @category viz
 * @since 0.1.0
 */
import { PNG } from 'pngjs'
import type { Rgba } from './heatmap.js'

export const encodePng = (img: Rgba): Buffer => {
  const png = new PNG({ width: img.width, height: img.height })
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)
  return PNG.sync.write(png)
}

export const decodePng = (bytes: Uint8Array): Rgba => {
  const png = PNG.sync.read(Buffer.from(bytes))
  return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) }
}
