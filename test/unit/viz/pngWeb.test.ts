import { deflateSync, inflateSync } from 'node:zlib'
import { PNG, type PackerOptions } from 'pngjs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { toBase64 } from '../../../src/core/base64.js'
import { keyOf, words } from '../../../src/core/random.js'
import type { Rgba } from '../../../src/viz/heatmap.js'
import { htmlReport } from '../../../src/viz/html.js'
import * as node from '../../../src/viz/png.js'
import * as web from '../../../src/viz/png.web.js'

// Oracles: pngjs (through png.ts) for files it can read and write, and PNG files assembled here by
// hand (node:zlib for deflate, a bit-by-bit CRC below) for what pngjs cannot write.

const randomBytes = (seed: number, n: number): Uint8Array => Uint8Array.from(words(keyOf(seed), n), (w) => w & 0xff)

const randomImage = (seed: number, width: number, height: number): Rgba => ({ width, height, data: new Uint8ClampedArray(randomBytes(seed, width * height * 4)) })

/** A smooth picture with a little noise, so that every scanline filter has something to win on. */
const gradientImage = (width: number, height: number): Rgba => {
  const noise = randomBytes(99, width * height * 4)
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4
      data.set([(x * 7 + (noise[o]! & 3)) & 255, (y * 5) & 255, (x * y) & 255, 255 - ((x + y) & 63)], o)
    }
  }
  return { width, height, data }
}

const pixels = (img: Rgba): number[] => Array.from(img.data)

const crc = (bytes: readonly number[]): number => {
  let c = 0xffffffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return (c ^ 0xffffffff) >>> 0
}
const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]
const chunk = (type: string, data: ArrayLike<number>): number[] => {
  const body = [...type].map((c) => c.charCodeAt(0)).concat(Array.from(data))
  return [...u32(data.length), ...body, ...u32(crc(body))]
}
const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const ihdr = (w: number, h: number, depth: number, colourType: number, interlace = 0): number[] => chunk('IHDR', [...u32(w), ...u32(h), depth, colourType, 0, 0, interlace])
const idat = (scanlines: readonly number[]): number[] => chunk('IDAT', deflateSync(Uint8Array.from(scanlines)))
const IEND = chunk('IEND', [])
const file = (...chunks: number[][]): Uint8Array => Uint8Array.from([...SIG, ...chunks.flat()])

/** Samples packed big-endian at `depth` bits, the row padded to whole bytes. */
const packRow = (samples: readonly number[], depth: number): number[] => {
  if (depth === 8) return [...samples]
  if (depth === 16) return samples.flatMap((s) => [s >>> 8, s & 255])
  const out = new Array<number>(Math.ceil((samples.length * depth) / 8)).fill(0)
  samples.forEach((s, i) => {
    out[(i * depth) >> 3]! |= s << (8 - depth - ((i * depth) & 7))
  })
  return out
}

/** Unfiltered scanlines (filter byte 0) of an image given as rows of samples, optionally in Adam7 order. */
const scanlines = (rows: readonly (readonly number[])[], channels: number, depth: number, interlaced = false): number[] => {
  const width = rows[0]!.length / channels
  const passes = interlaced ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] : [[0, 0, 1, 1]]
  const out: number[] = []
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const xs = Array.from({ length: Math.max(0, Math.ceil((width - x0) / dx)) }, (_, i) => x0 + i * dx)
    if (xs.length === 0) continue
    for (let y = y0; y < rows.length; y += dy) out.push(0, ...packRow(xs.flatMap((x) => rows[y]!.slice(x * channels, (x + 1) * channels)), depth))
  }
  return out
}

const rowsOf = (flat: ArrayLike<number>, width: number, height: number, channels: number): number[][] =>
  Array.from({ length: height }, (_, y) => Array.from(flat).slice(y * width * channels, (y + 1) * width * channels))

const writeWithPngjs = (width: number, height: number, samples: Uint8Array | Uint16Array, options: PackerOptions): Uint8Array => {
  const png = new PNG({ width, height })
  // pngjs reads 16-bit input through `new Uint16Array(data.buffer)`: hand it a buffer of its own.
  png.data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)
  return new Uint8Array(PNG.sync.write(png, options))
}

/** The chunks of a PNG file as [type, data] pairs. */
const chunksOf = (bytes: Uint8Array): [string, Uint8Array][] => {
  const out: [string, Uint8Array][] = []
  for (let pos = 8; pos < bytes.length; ) {
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(pos)
    out.push([String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)), bytes.subarray(pos + 8, pos + 8 + len)])
    pos += 12 + len
  }
  return out
}

/** The filter byte of every scanline of a non-interlaced file with `rowBytes` bytes per row. */
const filterBytes = (bytes: Uint8Array, rowBytes: number): number[] => {
  const raw = inflateSync(Buffer.concat(chunksOf(bytes).filter(([t]) => t === 'IDAT').map(([, d]) => d)))
  return Array.from({ length: raw.length / (rowBytes + 1) }, (_, y) => raw[y * (rowBytes + 1)]!)
}

const messageOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }
  return 'no error'
}

describe('png.web: same signature as png.ts', () => {
  it('exports encodePng and decodePng with the types of the Node half', () => {
    expectTypeOf(web.encodePng).toEqualTypeOf<typeof node.encodePng>()
    expectTypeOf(web.decodePng).toEqualTypeOf<typeof node.decodePng>()
    expect(Object.keys(web).sort()).toEqual(Object.keys(node).sort())
  })
})

describe('png.web round trips against pngjs', () => {
  const transparent: Rgba = { width: 3, height: 2, data: Uint8ClampedArray.from([255, 0, 0, 0, 0, 255, 0, 0, 12, 34, 56, 0, 1, 2, 3, 128, 9, 9, 9, 255, 0, 0, 0, 0]) }
  const images: [string, Rgba][] = [
    ['1×1', { width: 1, height: 1, data: Uint8ClampedArray.of(10, 20, 30, 40) }],
    ['7×5', randomImage(7, 7, 5)],
    ['random 33×17', randomImage(33, 33, 17)],
    ['transparent pixels', transparent],
    ['gradient 40×23', gradientImage(40, 23)],
  ]

  it.each(images)('png.web encode → pngjs decode keeps every byte (%s)', (_, img) => {
    const bytes = web.encodePng(img)
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(pixels(node.decodePng(bytes))).toEqual(pixels(img))
    expect(node.decodePng(bytes).width).toBe(img.width)
  })

  it.each(images)('pngjs encode → png.web decode keeps every byte (%s)', (_, img) => {
    const back = web.decodePng(node.encodePng(img))
    expect([back.width, back.height]).toEqual([img.width, img.height])
    expect(back.data).toBeInstanceOf(Uint8ClampedArray)
    expect(pixels(back)).toEqual(pixels(img))
  })

  it('chooses scanline filters per row (more than one on a gradient) and pngjs reads them all', () => {
    const img = gradientImage(40, 23)
    const bytes = web.encodePng(img)
    expect(new Set(filterBytes(bytes, 40 * 4)).size).toBeGreaterThan(1)
    expect(pixels(node.decodePng(bytes))).toEqual(pixels(img))
  })
})

describe('png.web decodes what pngjs writes', () => {
  const img = randomImage(5, 9, 6)
  it.each([0, 1, 2, 3, 4])('undoes scanline filter %i on every row', (f) => {
    const bytes = writeWithPngjs(img.width, img.height, new Uint8Array(img.data), { filterType: f })
    expect(filterBytes(bytes, img.width * 4)).toEqual(new Array(img.height).fill(f))
    expect(pixels(web.decodePng(bytes))).toEqual(pixels(img))
  })

  const w = 11
  const h = 7
  const grey8 = Uint8Array.from(Array.from(randomBytes(21, w * h)).flatMap((g, i) => [g, g, g, (i * 37) & 255]))
  const grey16 = Uint16Array.from(Array.from(words(keyOf(22), w * h), (x) => x & 0xffff).flatMap((g, i) => [g, g, g, (i * 4099) & 0xffff]))
  const any16 = Uint16Array.from(words(keyOf(23), w * h * 4), (x) => x & 0xffff)
  const cases: [number, 8 | 16, Uint8Array | Uint16Array][] = [
    [0, 8, grey8], [2, 8, randomBytes(24, w * h * 4)], [4, 8, grey8], [6, 8, randomBytes(25, w * h * 4)],
    [0, 16, grey16], [2, 16, any16], [4, 16, grey16], [6, 16, any16],
  ]
  it.each(cases)('colour type %i at %i bits gives the pixels png.ts gives', (colorType, bitDepth, samples) => {
    const bytes = writeWithPngjs(w, h, samples, { colorType: colorType as 0 | 2 | 4 | 6, bitDepth, inputHasAlpha: true })
    expect([bytes[24], bytes[25]]).toEqual([bitDepth, colorType]) // the file really has this kind
    const expected = node.decodePng(bytes)
    const got = web.decodePng(bytes)
    expect([got.width, got.height]).toEqual([w, h])
    expect(pixels(got)).toEqual(pixels(expected))
  })

  it('scales 16-bit samples as pngjs does (round(v · 255 / 65535)), not by dropping the low byte', () => {
    const bytes = file(ihdr(3, 1, 16, 0), idat(scanlines([[0xff00, 0x00ff, 0xffff]], 1, 16)), IEND)
    // Dropping the low byte would give 255, 0, 255.
    expect(pixels(web.decodePng(bytes)).filter((_, i) => i % 4 === 0)).toEqual([254, 1, 255])
    expect(pixels(web.decodePng(bytes))).toEqual(pixels(node.decodePng(bytes)))
  })

  it('reads image data split over several IDAT chunks', () => {
    const whole = node.encodePng(img)
    const parts = chunksOf(whole)
    const data = Buffer.concat(parts.filter(([t]) => t === 'IDAT').map(([, d]) => d))
    const third = Math.ceil(data.length / 3)
    const split = file(chunk('IHDR', parts[0]![1]), chunk('IDAT', data.subarray(0, third)), chunk('IDAT', data.subarray(third, 2 * third)), chunk('IDAT', data.subarray(2 * third)), IEND)
    expect(chunksOf(split).filter(([t]) => t === 'IDAT')).toHaveLength(3)
    expect(pixels(node.decodePng(split))).toEqual(pixels(img))
    expect(pixels(web.decodePng(split))).toEqual(pixels(img))
  })
})

describe('png.web decodes hand-made files', () => {
  it('maps a palette (PLTE) with a shorter tRNS to RGBA', () => {
    const bytes = file(ihdr(2, 2, 8, 3), chunk('PLTE', [255, 0, 0, 0, 255, 0, 0, 0, 255]), chunk('tRNS', [0, 128]), idat(scanlines([[0, 1], [2, 1]], 1, 8)), IEND)
    const expected = [255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 0, 255, 0, 128]
    expect(pixels(web.decodePng(bytes))).toEqual(expected)
    expect(pixels(node.decodePng(bytes))).toEqual(expected)
  })

  it.each([1, 2, 4])('unpacks %i-bit palette indices and grey levels (rows not a whole number of bytes)', (depth) => {
    const [w, h] = [5, 3]
    const n = 2 ** depth
    const samples = Array.from(randomBytes(40 + depth, w * h), (b) => b % n)
    const rows = rowsOf(samples, w, h, 1)
    const palette = Array.from(randomBytes(50 + depth, n * 3))
    const indexed = web.decodePng(file(ihdr(w, h, depth, 3), chunk('PLTE', palette), idat(scanlines(rows, 1, depth)), IEND))
    expect(pixels(indexed)).toEqual(samples.flatMap((s) => [...palette.slice(3 * s, 3 * s + 3), 255]))
    const greyFile = file(ihdr(w, h, depth, 0), idat(scanlines(rows, 1, depth)), IEND)
    expect(pixels(web.decodePng(greyFile))).toEqual(samples.flatMap((s) => { const g = (s * 255) / (n - 1); return [g, g, g, 255] }))
    expect(pixels(web.decodePng(greyFile))).toEqual(pixels(node.decodePng(greyFile)))
  })

  it('makes the tRNS colour key transparent, compared at the stored bit depth, keeping the colour', () => {
    const grey = file(ihdr(4, 1, 2, 0), chunk('tRNS', [0, 1]), idat(scanlines([[0, 1, 2, 3]], 1, 2)), IEND)
    expect(pixels(web.decodePng(grey))).toEqual([0, 0, 0, 255, 85, 85, 85, 0, 170, 170, 170, 255, 255, 255, 255, 255])
    const rgb = file(ihdr(2, 1, 8, 2), chunk('tRNS', [0, 10, 0, 20, 0, 30]), idat(scanlines([[10, 20, 30, 10, 20, 31]], 3, 8)), IEND)
    expect(pixels(web.decodePng(rgb))).toEqual([10, 20, 30, 0, 10, 20, 31, 255])
    // 0x0a01 and 0x0a00 are the same 8-bit colour but not the same key.
    const rgb16 = file(ihdr(2, 1, 16, 2), chunk('tRNS', [0x0a, 0, 0x14, 0, 0x1e, 0]), idat(scanlines([[0x0a00, 0x1400, 0x1e00, 0x0a01, 0x1400, 0x1e00]], 3, 16)), IEND)
    expect(pixels(web.decodePng(rgb16))).toEqual([10, 20, 30, 0, 10, 20, 30, 255])
  })

  it.each([
    [1, 1],
    [2, 3],
    [13, 11],
  ])('reads Adam7-interlaced RGBA at %i×%i as pngjs does', (w, h) => {
    const img = randomImage(60 + w, w, h)
    const bytes = file(ihdr(w, h, 8, 6, 1), idat(scanlines(rowsOf(img.data, w, h, 4), 4, 8, true)), IEND)
    expect(pixels(node.decodePng(bytes))).toEqual(pixels(img))
    expect(pixels(web.decodePng(bytes))).toEqual(pixels(img))
  })

  it('reads Adam7-interlaced 1-bit grey with filtered rows', () => {
    const [w, h] = [10, 9]
    const bits = Array.from(randomBytes(70, w * h), (b) => b & 1)
    const lines = scanlines(rowsOf(bits, w, h, 1), 1, 1, true)
    const bytes = file(ihdr(w, h, 1, 0, 1), idat(lines), IEND)
    expect(pixels(web.decodePng(bytes))).toEqual(bits.flatMap((b) => [b * 255, b * 255, b * 255, 255]))
    expect(pixels(web.decodePng(bytes))).toEqual(pixels(node.decodePng(bytes)))
  })

  it('ignores unknown ancillary chunks', () => {
    const bytes = file(ihdr(1, 1, 8, 6), chunk('teXt', [65, 0, 66]), idat(scanlines([[1, 2, 3, 4]], 4, 8)), IEND)
    expect(pixels(web.decodePng(bytes))).toEqual([1, 2, 3, 4])
  })
})

describe('png.web rejects corrupt input', () => {
  const good = web.encodePng(randomImage(80, 6, 4))
  const idatAt = (bytes: Uint8Array): number => bytes.findIndex((_, i) => String.fromCharCode(...bytes.subarray(i, i + 4)) === 'IDAT')

  it('control: the unmodified file decodes', () => {
    expect(pixels(web.decodePng(good))).toEqual(pixels(randomImage(80, 6, 4)))
  })

  it('rejects a wrong signature', () => {
    const bad = good.slice()
    bad[1] = 0x51
    expect(() => web.decodePng(bad)).toThrow(/not a PNG file/)
    expect(() => web.decodePng(new Uint8Array(0))).toThrow(/not a PNG file/)
    expect(() => web.decodePng(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0))).toThrow(/not a PNG file/)
  })

  it('rejects a chunk whose CRC does not match', () => {
    const bad = good.slice()
    bad[idatAt(bad) + 6]! ^= 0x40
    expect(() => web.decodePng(bad)).toThrow(/IDAT chunk at byte \d+ fails its CRC check/)
  })

  it('rejects the file cut at every length', () => {
    for (let n = 0; n < good.length; n++) {
      expect(() => web.decodePng(good.subarray(0, n))).toThrow(n < 8 ? /not a PNG file/ : /truncated/)
    }
  })

  it('rejects image data that does not inflate or is too short', () => {
    expect(() => web.decodePng(file(ihdr(2, 2, 8, 6), chunk('IDAT', [1, 2, 3, 4, 5, 6]), IEND))).toThrow(/does not inflate/)
    expect(() => web.decodePng(file(ihdr(2, 2, 8, 6), idat([0, 1, 2, 3, 4, 5, 6, 7, 8]), IEND))).toThrow(/holds 9 bytes.*needs 18; it is truncated/)
  })

  it('names the problem in malformed files', () => {
    const pix = idat(scanlines([[1, 2, 3, 4]], 4, 8))
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 6), idat([5, 1, 2, 3, 4]), IEND))).toThrow(/filter type 5/)
    expect(() => web.decodePng(file(ihdr(1, 1, 4, 2), pix, IEND))).toThrow(/bit depth 4 is not allowed with colour type 2/)
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 5), pix, IEND))).toThrow(/unknown colour type 5/)
    expect(() => web.decodePng(file(ihdr(0, 1, 8, 6), pix, IEND))).toThrow(/impossible size 0 × 1/)
    expect(() => web.decodePng(file(pix, ihdr(1, 1, 8, 6), IEND))).toThrow(/first chunk is IDAT, not IHDR/)
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 6), IEND))).toThrow(/no image data/)
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 6), chunk('ABCD', []), pix, IEND))).toThrow(/unknown critical chunk ABCD/)
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 3), idat([0, 0]), IEND))).toThrow(/no PLTE chunk/)
    expect(() => web.decodePng(file(ihdr(1, 1, 8, 3), chunk('PLTE', [1, 2, 3]), idat([0, 1]), IEND))).toThrow(/palette entry 1, but PLTE has 1 entries/)
    expect(() => web.decodePng(file(ihdr(30000, 30000, 8, 6), pix, IEND))).toThrow(/more than the \d+ pixels/)
  })
})

describe('png.web encodePng sizes', () => {
  const bad: Rgba[] = [
    { width: 4, height: 4, data: new Uint8ClampedArray(8) },
    { width: 1, height: 1, data: new Uint8ClampedArray(8) },
    { width: 0, height: 1, data: new Uint8ClampedArray(0) },
    { width: 1.5, height: 2, data: new Uint8ClampedArray(12) },
    { width: Number.NaN, height: 2, data: new Uint8ClampedArray(0) },
  ]
  it.each(bad)('throws the RangeError png.ts throws (%o)', (img) => {
    expect(() => web.encodePng(img)).toThrow(RangeError)
    expect(messageOf(() => web.encodePng(img))).toBe(messageOf(() => node.encodePng(img)))
  })
})

describe('toBase64', () => {
  it('equals Buffer base64 for every length 0..70', () => {
    const bytes = randomBytes(90, 70)
    for (let n = 0; n <= 70; n++) expect(toBase64(bytes.subarray(0, n))).toBe(Buffer.from(bytes.subarray(0, n)).toString('base64'))
  })

  it('equals Buffer base64 for every byte value and for 1 MB of random bytes', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toBase64(all)).toBe(Buffer.from(all).toString('base64'))
    const big = randomBytes(91, 1_000_001)
    expect(toBase64(big)).toBe(Buffer.from(big).toString('base64'))
  })

  it('reads a view at its own offset, not its whole buffer', () => {
    const bytes = randomBytes(92, 40)
    expect(toBase64(bytes.subarray(5, 17))).toBe(Buffer.from(bytes.subarray(5, 17)).toString('base64'))
  })

  it('is what htmlReport puts in its data URIs', () => {
    const png = web.encodePng(randomImage(93, 3, 3))
    expect(htmlReport('t', [{ heading: 'h', images: [{ caption: 'c', png }] }])).toContain(`src="data:image/png;base64,${Buffer.from(png).toString('base64')}"`)
  })
})
