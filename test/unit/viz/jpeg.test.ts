import { encode } from 'jpeg-js'
import { describe, expect, it } from 'vitest'
import { ImageDecodeError, decodeImage, decodeJpeg, encodePng, sniffImageFormat, type Rgba } from '../../../src/viz/index.js'

/** A 24 × 16 picture: left half red, right half blue, a green bar across rows 6..9. */
const W = 24
const H = 16
const colourAt = (x: number, y: number): [number, number, number] => (y >= 6 && y < 10 ? [20, 200, 40] : x < W / 2 ? [220, 30, 30] : [30, 40, 210])
const picture = (): Rgba => {
  const data = new Uint8ClampedArray(W * H * 4)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4
      data.set([...colourAt(x, y), 255], i)
    }
  }
  return { width: W, height: H, data }
}
const jpegOf = (img: Rgba, quality = 95): Uint8Array => Uint8Array.from(encode({ width: img.width, height: img.height, data: Buffer.from(img.data) }, quality).data)

/** Largest per-channel difference at pixels at least 2 px away from a colour edge (JPEG blurs edges). */
const interiorError = (got: Rgba): number => {
  let worst = 0
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const near = [-2, -1, 0, 1, 2].some((d) => colourAt(Math.min(W - 1, Math.max(0, x + d)), y).join() !== colourAt(x, y).join() || colourAt(x, Math.min(H - 1, Math.max(0, y + d))).join() !== colourAt(x, y).join())
      if (near) continue
      const c = colourAt(x, y)
      const i = (y * W + x) * 4
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(got.data[i + k]! - c[k]!))
      expect(got.data[i + 3]).toBe(255)
    }
  }
  return worst
}

describe('JPEG decoding', () => {
  it('decodes a JPEG written by jpeg-js to the same size and nearly the same colours', () => {
    const img = decodeJpeg(jpegOf(picture()))
    expect([img.width, img.height, img.data.length]).toEqual([W, H, W * H * 4])
    expect(img.data).toBeInstanceOf(Uint8ClampedArray)
    expect(interiorError(img)).toBeLessThan(12)
    // negative control: the same check on a picture with the halves swapped fails
    const swapped = decodeJpeg(jpegOf({ ...picture(), data: picture().data.map((v, i) => (i % 4 === 0 ? 255 - v : v)) }))
    expect(interiorError(swapped)).toBeGreaterThan(100)
  })

  it('decodeImage tells PNG from JPEG by the first bytes, not by a name', () => {
    const png = encodePng(picture())
    const jpg = jpegOf(picture())
    expect(sniffImageFormat(png)).toBe('png')
    expect(sniffImageFormat(jpg)).toBe('jpeg')
    expect(Array.from(decodeImage(png).data)).toEqual(Array.from(picture().data)) // PNG is lossless
    expect(interiorError(decodeImage(jpg))).toBeLessThan(12)
  })

  it('corrupt or unknown bytes give an ImageDecodeError that says what is wrong', () => {
    const jpg = jpegOf(picture())
    const corrupt = jpg.map((b, i) => (i >= 20 && i < jpg.length - 2 ? 0x55 : b))
    const attempt = (f: () => unknown): ImageDecodeError => {
      try {
        f()
      } catch (e) {
        expect(e).toBeInstanceOf(ImageDecodeError)
        return e as ImageDecodeError
      }
      throw new Error('expected an ImageDecodeError')
    }
    const bad = attempt(() => decodeImage(corrupt))
    expect(bad.format).toBe('jpeg')
    expect(bad.message).toMatch(/JPEG data is corrupt or unsupported/)
    expect(attempt(() => decodeJpeg(jpg.subarray(0, jpg.length / 2))).message).toMatch(/corrupt/)
    const gif = attempt(() => decodeImage(new TextEncoder().encode('GIF89a, not a picture we read')))
    expect(gif.format).toBeUndefined()
    expect(gif.message).toMatch(/not a PNG or JPEG image \(the first bytes are 47 49 46 38/)
    expect(attempt(() => decodeJpeg(encodePng(picture()))).message).toMatch(/not a JPEG file/)
    expect(attempt(() => decodeImage(new Uint8Array(0))).message).toMatch(/\(empty\)/)
    const brokenPng = encodePng(picture()).subarray(0, 40)
    expect(attempt(() => decodeImage(brokenPng)).format).toBe('png')
  })
})
