import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeWav } from '../../../src/viz/index.js'

/** A WAV file written by hand, field by field, independently of the decoder. */
interface WavSpec {
  readonly format?: number
  readonly channels?: number
  readonly rate?: number
  readonly bits?: number
  /** Interleaved frames, already encoded by `bits`. */
  readonly frames: readonly number[]
  /** Chunks to put before `fmt ` (id, body length). */
  readonly before?: readonly (readonly [string, number])[]
  readonly extensibleSubformat?: number
  readonly omitData?: boolean
  /** Declared data size, when it should differ from the bytes written. */
  readonly declaredDataSize?: number
}

const writeWav = (s: WavSpec): Uint8Array => {
  const channels = s.channels ?? 1
  const bits = s.bits ?? 16
  const width = bits / 8
  const fmtSize = s.extensibleSubformat !== undefined ? 40 : 16
  const extra = (s.before ?? []).reduce((a, [, n]) => a + 8 + n + (n % 2), 0)
  const dataBytes = s.frames.length * width
  const size = 12 + extra + 8 + fmtSize + (s.omitData ? 0 : 8 + dataBytes)
  const v = new DataView(new ArrayBuffer(size))
  const cc = (at: number, id: string): void => [...id].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)))
  cc(0, 'RIFF')
  v.setUint32(4, size - 8, true)
  cc(8, 'WAVE')
  let p = 12
  for (const [id, n] of s.before ?? []) {
    cc(p, id)
    v.setUint32(p + 4, n, true)
    for (let i = 0; i < n; i++) v.setUint8(p + 8 + i, 0x41)
    p += 8 + n + (n % 2)
  }
  cc(p, 'fmt ')
  v.setUint32(p + 4, fmtSize, true)
  v.setUint16(p + 8, s.extensibleSubformat !== undefined ? 0xfffe : (s.format ?? 1), true)
  v.setUint16(p + 10, channels, true)
  v.setUint32(p + 12, s.rate ?? 16000, true)
  v.setUint32(p + 16, (s.rate ?? 16000) * channels * width, true)
  v.setUint16(p + 20, channels * width, true)
  v.setUint16(p + 22, bits, true)
  if (s.extensibleSubformat !== undefined) {
    v.setUint16(p + 24, 22, true)
    v.setUint16(p + 26, bits, true)
    v.setUint32(p + 28, channels === 1 ? 4 : 3, true)
    v.setUint16(p + 32, s.extensibleSubformat, true)
  }
  p += 8 + fmtSize
  if (!s.omitData) {
    cc(p, 'data')
    v.setUint32(p + 4, s.declaredDataSize ?? dataBytes, true)
    s.frames.forEach((x, i) => {
      const at = p + 8 + i * width
      if (bits === 16) v.setInt16(at, x, true)
      else if (bits === 32) v.setFloat32(at, x, true)
      else for (let b = 0; b < width; b++) v.setUint8(at + b, (x >> (8 * b)) & 0xff)
    })
  }
  return new Uint8Array(v.buffer)
}

const ok = (bytes: Uint8Array): { sampleRate: number; channels: number; samples: number[] } => {
  const r = decodeWav(bytes)
  if (E.isLeft(r)) throw new Error(r.left.message)
  return { sampleRate: r.right.sampleRate, channels: r.right.channels, samples: Array.from(r.right.samples) }
}

const fails = (bytes: Uint8Array): { tag: string; message: string } => {
  const r = decodeWav(bytes)
  if (E.isRight(r)) throw new Error('expected an error')
  return { tag: r.left._tag, message: r.left.message }
}

describe('decodeWav', () => {
  it('reads 16-bit PCM mono as value / 32768, with the sample rate', () => {
    const w = ok(writeWav({ rate: 8000, frames: [0, 16384, -32768, 32767, -1] }))
    expect(w.sampleRate).toBe(8000)
    expect(w.channels).toBe(1)
    expect(w.samples).toEqual([0, 0.5, -1, 32767 / 32768, -1 / 32768])
  })

  it('returns the first channel of interleaved stereo, and reads 32-bit float as is', () => {
    const pcm = ok(writeWav({ channels: 2, frames: [100, -7, 200, -7, 300, -7] }))
    expect(pcm.channels).toBe(2)
    expect(pcm.samples.map((x) => x * 32768)).toEqual([100, 200, 300])
    const f = ok(writeWav({ format: 3, bits: 32, channels: 2, rate: 44100, frames: [0.25, 9, -0.75, 9] }))
    expect(f).toEqual({ sampleRate: 44100, channels: 2, samples: [0.25, -0.75] })
  })

  it('skips other chunks (odd sizes padded) and reads WAVE_FORMAT_EXTENSIBLE', () => {
    const w = ok(writeWav({ before: [['LIST', 3], ['junk', 4]], extensibleSubformat: 3, bits: 32, frames: [0.5, -0.5] }))
    expect(w.samples).toEqual([0.5, -0.5])
  })

  it('reads a data chunk whose declared size runs past the end up to the last whole frame', () => {
    const bytes = writeWav({ frames: [1000, 2000, 3000], declaredDataSize: 0xffffffff })
    expect(ok(bytes.subarray(0, bytes.length - 1)).samples.map((x) => x * 32768)).toEqual([1000, 2000])
  })

  it('refuses what it cannot read with an Unsupported error that says what the file holds', () => {
    const notWav = fails(new TextEncoder().encode('OggS\0\0\0\0vorbis and more'))
    expect(notWav.tag).toBe('Unsupported')
    expect(notWav.message).toMatch(/not a WAV file: it starts with "OggS"/)
    expect(fails(new Uint8Array(4)).message).toMatch(/4 bytes is too short/)
    const pcm24 = fails(writeWav({ bits: 24, frames: [1, 2] }))
    expect(pcm24.tag).toBe('Unsupported')
    expect(pcm24.message).toMatch(/24-bit integer PCM.*only 16-bit integer PCM and 32-bit float.*pcm_s16le/)
    expect(fails(writeWav({ format: 7, bits: 8, frames: [1] })).message).toMatch(/μ-law \(8 bits\)/)
    expect(fails(writeWav({ frames: [1], omitData: true })).message).toMatch(/no data chunk/)
    expect(fails(writeWav({ frames: [] }))).toEqual({ tag: 'EmptyInput', message: 'decodeWav: the data chunk holds no samples' })
  })

  it('reads the example clip: 16 kHz, speech louder than the framing noise', () => {
    const w = ok(readFileSync('examples/assets/vad/speech.wav'))
    expect(w.sampleRate).toBe(16000)
    expect(w.samples.length).toBe(59738)
    const rms = (a: number[]): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length)
    expect(rms(w.samples.slice(0, 12000))).toBeLessThan(0.005)
    expect(rms(w.samples.slice(16000, 44000))).toBeGreaterThan(0.05)
  })
})
