/**
 * PNG encoding and decoding of {@link Rgba} images: the browser half of `png.ts`, in plain
 * TypeScript over fflate's zlib (pngjs needs Node streams, zlib and `Buffer`).
 *
 * The encoder writes 8-bit RGBA with a filter chosen per row. The decoder reads every colour type
 * and bit depth of the PNG specification, Adam7 interlacing included, and checks the signature and
 * every chunk's CRC. Samples are scaled to 8 bits as pngjs does (16-bit `v` → round(v · 255 / 65535)),
 * so both halves give the same pixels for the same file. One deliberate difference: a pixel made
 * transparent by a `tRNS` colour key keeps its colour (alpha 0) here, while pngjs zeroes it.
 *
 * @category viz
 * @since 0.3.0
 */
import { unzlibSync, zlibSync } from 'fflate'
import type { Rgba } from './heatmap.js'
import { checkRgba } from './rgbaCheck.js'
import { concatBytes } from '../core/bytes.js'

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const

/** The largest image the decoder allocates for (2^28 pixels, 1 GiB of RGBA). */
const MAX_PIXELS = 2 ** 28

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (ISO-HDLC, as PNG chunks use it) of `bytes[start, end)`. */
const crc32 = (bytes: Uint8Array, start: number, end: number): number => {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0

const writeU32 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = v >>> 24
  b[at + 1] = (v >>> 16) & 0xff
  b[at + 2] = (v >>> 8) & 0xff
  b[at + 3] = v & 0xff
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Writes the row of `src` at `c` (`n` bytes, `bpp` bytes per pixel) filtered with `filter` into `out` at
 * `o`; `p` is the previous row's offset in `src`, or -1 for the first row (which filters against zeros).
 */
const filterRow = (filter: number, src: Uint8Array, c: number, p: number, n: number, bpp: number, out: Uint8Array, o: number): void => {
  // One loop per filter type: the encoder runs all five on every row.
  if (filter === 0 || (filter === 2 && p < 0)) out.set(src.subarray(c, c + n), o)
  else if (filter === 1 || (filter === 4 && p < 0)) {
    for (let i = 0; i < n; i++) out[o + i] = src[c + i]! - (i >= bpp ? src[c + i - bpp]! : 0)
  } else if (filter === 2) {
    for (let i = 0; i < n; i++) out[o + i] = src[c + i]! - src[p + i]!
  } else if (filter === 3) {
    for (let i = 0; i < n; i++) out[o + i] = src[c + i]! - (((i >= bpp ? src[c + i - bpp]! : 0) + (p >= 0 ? src[p + i]! : 0)) >>> 1)
  } else {
    for (let i = 0; i < n; i++) out[o + i] = src[c + i]! - (i >= bpp ? paeth(src[c + i - bpp]!, src[p + i]!, src[p + i - bpp]!) : src[p + i]!)
  }
}

/** The scanlines of `raw` (h rows of `stride` bytes), each prefixed by the filter that minimises its sum of |signed bytes|. */
const filterImage = (raw: Uint8Array, h: number, stride: number, bpp: number): Uint8Array => {
  const out = new Uint8Array(h * (stride + 1))
  const scratch = new Uint8Array(stride)
  for (let y = 0; y < h; y++) {
    const c = y * stride
    const p = y > 0 ? c - stride : -1
    const o = y * (stride + 1)
    let best = Infinity
    for (let f = 0; f < 5; f++) {
      filterRow(f, raw, c, p, stride, bpp, scratch, 0)
      let cost = 0
      for (let i = 0; i < stride && cost < best; i++) cost += scratch[i]! < 128 ? scratch[i]! : 256 - scratch[i]!
      if (cost < best) {
        best = cost
        out[o] = f
        out.set(scratch, o + 1)
      }
    }
  }
  return out
}

const chunk = (type: string, data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(12 + data.length)
  writeU32(out, 0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  writeU32(out, 8 + data.length, crc32(out, 4, 8 + data.length))
  return out
}

/**
 * PNG bytes of `img` (8-bit RGBA, not interlaced). Throws a `RangeError` when the size is not a pair
 * of positive integers or `data` does not hold exactly width × height × 4 bytes.
 */
export const encodePng = (img: Rgba): Uint8Array => {
  checkRgba(img, 'encodePng')
  const { width, height } = img
  const ihdr = new Uint8Array(13)
  writeU32(ihdr, 0, width)
  writeU32(ihdr, 4, height)
  ihdr.set([8, 6, 0, 0, 0], 8) // bit depth 8, colour type 6 (RGBA), deflate, adaptive filtering, no interlace
  const raw = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength)
  return concatBytes([Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(filterImage(raw, height, width * 4, 4))), chunk('IEND', new Uint8Array(0))])
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface Header {
  readonly width: number
  readonly height: number
  readonly depth: number
  readonly colourType: number
  readonly interlaced: boolean
}

/** Samples per pixel and the bit depths the specification allows, by colour type. */
const COLOUR_TYPES: Readonly<Record<number, { readonly channels: number; readonly depths: readonly number[] }>> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
}

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
]

const fail = (why: string): never => {
  throw new Error(`decodePng: ${why}`)
}

const chunkName = (b: Uint8Array, at: number): string => {
  const codes = Array.from(b.subarray(at, at + 4))
  return codes.every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122))
    ? String.fromCharCode(...codes)
    : fail(`the chunk at byte ${at - 4} has no valid type (bytes ${codes.map((c) => c.toString(16).padStart(2, '0')).join(' ')}); the file is corrupt`)
}

const readHeader = (d: Uint8Array): Header => {
  if (d.length !== 13) fail(`IHDR must hold 13 bytes, this one holds ${d.length}; the file is corrupt`)
  const [width, height, depth, colourType, compression, filter, interlace] = [readU32(d, 0), readU32(d, 4), d[8]!, d[9]!, d[10]!, d[11]!, d[12]!]
  if (width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) fail(`IHDR gives an impossible size ${width} × ${height}`)
  if (width * height > MAX_PIXELS) fail(`the image is ${width} × ${height}, more than the ${MAX_PIXELS} pixels this decoder accepts`)
  const kind = COLOUR_TYPES[colourType] ?? fail(`unknown colour type ${colourType} (PNG has 0, 2, 3, 4 and 6)`)
  if (!kind.depths.includes(depth)) fail(`bit depth ${depth} is not allowed with colour type ${colourType} (allowed: ${kind.depths.join(', ')})`)
  if (compression !== 0 || filter !== 0) fail(`unknown compression method ${compression} or filter method ${filter} (PNG defines only 0)`)
  if (interlace > 1) fail(`unknown interlace method ${interlace} (PNG has 0 and 1)`)
  return { width, height, depth, colourType, interlaced: interlace === 1 }
}

/** One sub-image of the scanline data: its size in pixels, where its pixels go, and where its rows start. */
interface Pass {
  readonly w: number
  readonly h: number
  readonly x0: number
  readonly y0: number
  readonly dx: number
  readonly dy: number
  readonly offset: number
}

const passesOf = (hd: Header, stride: (w: number) => number): { passes: Pass[]; bytes: number } => {
  const layout = hd.interlaced ? ADAM7 : [[0, 0, 1, 1] as const]
  const passes: Pass[] = []
  let offset = 0
  for (const [x0, y0, dx, dy] of layout) {
    const w = Math.max(0, Math.ceil((hd.width - x0) / dx))
    const h = Math.max(0, Math.ceil((hd.height - y0) / dy))
    if (w === 0 || h === 0) continue // an empty pass has no bytes, not even filter bytes
    passes.push({ w, h, x0, y0, dx, dy, offset })
    offset += h * (stride(w) + 1)
  }
  return { passes, bytes: offset }
}

/** Reverses the scanline filters of one pass in place. */
const unfilter = (buf: Uint8Array, p: Pass, stride: number, bpp: number): void => {
  for (let y = 0; y < p.h; y++) {
    const f = p.offset + y * (stride + 1)
    const c = f + 1
    const prev = y > 0 ? c - (stride + 1) : -1
    const filter = buf[f]!
    if (filter > 4) fail(`row ${y} uses filter type ${filter} (PNG has 0 to 4); the image data is corrupt`)
    if (filter === 0) continue
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? buf[c + i - bpp]! : 0
      const b = prev >= 0 ? buf[prev + i]! : 0
      const d = i >= bpp && prev >= 0 ? buf[prev + i - bpp]! : 0
      const pred = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >>> 1 : paeth(a, b, d)
      buf[c + i] = (buf[c + i]! + pred) & 0xff
    }
  }
}

interface Extras {
  /** PLTE as RGB triples. */
  readonly palette: Uint8Array | undefined
  /** tRNS as stored. */
  readonly trns: Uint8Array | undefined
}

/** Writes the pixels of one (unfiltered) pass into the RGBA output. */
const expandPass = (buf: Uint8Array, p: Pass, hd: Header, ex: Extras, stride: number, out: Uint8ClampedArray): void => {
  const { depth, colourType, width } = hd
  const channels = COLOUR_TYPES[colourType]!.channels
  const maxIn = 2 ** depth - 1
  let row = 0
  // Sample i of the current row at its stored depth.
  const sample =
    depth === 8
      ? (i: number): number => buf[row + i]!
      : depth === 16
        ? (i: number): number => (buf[row + 2 * i]! << 8) | buf[row + 2 * i + 1]!
        : (i: number): number => (buf[row + ((i * depth) >> 3)]! >> (8 - depth - ((i * depth) & 7))) & maxIn
  const to8 = depth === 8 ? (v: number): number => v : (v: number): number => Math.floor((v * 255) / maxIn + 0.5)
  const key = ex.trns !== undefined && (colourType === 0 || colourType === 2) ? ex.trns : undefined
  const keyAt = (k: number): number => (key![2 * k]! << 8) | key![2 * k + 1]!
  if (key !== undefined && key.length < 2 * channels) fail(`tRNS holds ${key.length} bytes, a colour type ${colourType} image needs ${2 * channels}`)
  const palette = ex.palette
  if (colourType === 3 && palette === undefined) fail('a palette image (colour type 3) has no PLTE chunk before its image data')
  const entries = palette === undefined ? 0 : palette.length / 3
  for (let y = 0; y < p.h; y++) {
    row = p.offset + y * (stride + 1) + 1
    for (let x = 0; x < p.w; x++) {
      const o = ((p.y0 + y * p.dy) * width + p.x0 + x * p.dx) * 4
      const s = x * channels
      if (colourType === 3) {
        const idx = sample(s)
        if (idx >= entries) fail(`pixel (${p.x0 + x * p.dx}, ${p.y0 + y * p.dy}) uses palette entry ${idx}, but PLTE has ${entries} entries`)
        out[o] = palette![3 * idx]!
        out[o + 1] = palette![3 * idx + 1]!
        out[o + 2] = palette![3 * idx + 2]!
        out[o + 3] = ex.trns?.[idx] ?? 255
      } else if (colourType === 0 || colourType === 4) {
        const g = sample(s)
        out[o] = out[o + 1] = out[o + 2] = to8(g)
        out[o + 3] = colourType === 4 ? to8(sample(s + 1)) : key !== undefined && g === keyAt(0) ? 0 : 255
      } else {
        const r = sample(s)
        const g = sample(s + 1)
        const b = sample(s + 2)
        out[o] = to8(r)
        out[o + 1] = to8(g)
        out[o + 2] = to8(b)
        out[o + 3] = colourType === 6 ? to8(sample(s + 3)) : key !== undefined && r === keyAt(0) && g === keyAt(1) && b === keyAt(2) ? 0 : 255
      }
    }
  }
}

/**
 * The RGBA pixels of a PNG file (any colour type and bit depth, interlaced or not). Throws an
 * `Error` naming the problem when the bytes are not a PNG, a chunk is truncated or fails its CRC,
 * or the image data does not match the header.
 */
export const decodePng = (bytes: Uint8Array): Rgba => {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('not a PNG file (a PNG starts with 89 50 4e 47 0d 0a 1a 0a)')
  let header: Header | undefined
  let palette: Uint8Array | undefined
  let trns: Uint8Array | undefined
  const idat: Uint8Array[] = []
  let ended = false
  let pos = 8
  while (!ended) {
    if (pos + 12 > bytes.length) fail(`the file ends at byte ${bytes.length} before its IEND chunk; it is truncated`)
    const length = readU32(bytes, pos)
    const type = chunkName(bytes, pos + 4)
    const end = pos + 8 + length
    if (length > 0x7fffffff || end + 4 > bytes.length) fail(`the ${type} chunk at byte ${pos} needs ${length} bytes of data, but the file ends at byte ${bytes.length}; it is truncated`)
    const stored = readU32(bytes, end)
    const computed = crc32(bytes, pos + 4, end)
    if (stored !== computed) fail(`the ${type} chunk at byte ${pos} fails its CRC check (stored ${stored.toString(16)}, computed ${computed.toString(16)}); the file is corrupt`)
    const data = bytes.subarray(pos + 8, end)
    if (header === undefined && type !== 'IHDR') fail(`the first chunk is ${type}, not IHDR; the file is corrupt`)
    if (type === 'IHDR') {
      if (header !== undefined) fail('the file has a second IHDR chunk')
      header = readHeader(data)
    } else if (type === 'PLTE') {
      if (data.length === 0 || data.length % 3 !== 0 || data.length > 768) fail(`PLTE holds ${data.length} bytes, not 3 × (1 to 256) entries`)
      palette = data
    } else if (type === 'tRNS') trns = data
    else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') ended = true
    // An unknown chunk whose first letter is upper case is critical: the image cannot be shown without it.
    else if (type.charCodeAt(0) < 97) fail(`unknown critical chunk ${type}; this decoder cannot render the image`)
    pos = end + 4
  }
  const hd = header!
  if (idat.length === 0) fail('the file has no image data (IDAT chunk)')
  const channels = COLOUR_TYPES[hd.colourType]!.channels
  const stride = (w: number): number => Math.ceil((w * channels * hd.depth) / 8)
  const bpp = Math.max(1, (channels * hd.depth) >> 3)
  const { passes, bytes: expected } = passesOf(hd, stride)
  const joined = new Uint8Array(idat.reduce((s, x) => s + x.length, 0))
  let at = 0
  for (const x of idat) {
    joined.set(x, at)
    at += x.length
  }
  let raw: Uint8Array
  try {
    // Inflating into a buffer of the expected size bounds memory whatever the stream claims.
    raw = unzlibSync(joined, { out: new Uint8Array(expected) })
  } catch (e) {
    return fail(`the image data does not inflate (${e instanceof Error ? e.message : String(e)}); the file is corrupt`)
  }
  if (raw.length < expected) fail(`the image data holds ${raw.length} bytes, a ${hd.width} × ${hd.height} image of this kind needs ${expected}; it is truncated`)
  const out = new Uint8ClampedArray(hd.width * hd.height * 4)
  for (const p of passes) {
    unfilter(raw, p, stride(p.w), bpp)
    expandPass(raw, p, hd, { palette, trns }, stride(p.w), out)
  }
  return { width: hd.width, height: hd.height, data: out }
}
