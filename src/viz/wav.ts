/**
 * Reading WAV audio into samples: RIFF/WAVE files with 16-bit integer PCM or 32-bit float samples
 * (plain or `WAVE_FORMAT_EXTENSIBLE`), any sample rate, mono or several channels (the first channel
 * is returned). Samples come back as floats in −1..1 (16-bit PCM is divided by 32 768). Any other
 * encoding (8- or 24-bit PCM, 64-bit float, μ-law, ADPCM, RF64, …) is an `Unsupported` error that
 * names what the file holds and how to convert it.
 *
 * @category viz
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'

/** A decoded WAV file: its sample rate, channel count, and the first channel's samples in −1..1. */
export interface DecodedWav {
  readonly sampleRate: number
  /** Channels in the file; `samples` holds channel 0 only. */
  readonly channels: number
  readonly samples: Float32Array
}

const FORMAT_PCM = 1
const FORMAT_FLOAT = 3
const FORMAT_EXTENSIBLE = 0xfffe

const FORMAT_NAMES: Readonly<Record<number, string>> = { 2: 'Microsoft ADPCM', 6: 'A-law', 7: 'μ-law', 0x11: 'IMA ADPCM', 0x55: 'MP3' }

const CONVERT = 'convert it to 16-bit PCM or 32-bit float WAV (e.g. ffmpeg -i in.wav -c:a pcm_s16le out.wav)'

const fourCC = (v: DataView, at: number): string => String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3))

const bad = (message: string, at: string): E.Either<AttributionError, never> => E.left(err('Unsupported', `decodeWav: ${message}`, ['wav', at]))

/**
 * Decodes WAV bytes. A data chunk whose declared size runs past the end of the file (as streaming
 * writers leave it) is read up to the last whole frame present.
 */
export const decodeWav = (bytes: Uint8Array): E.Either<AttributionError, DecodedWav> => {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 12) return bad(`${bytes.byteLength} bytes is too short for a WAV file (a RIFF header alone is 12 bytes)`, 'header')
  const riff = fourCC(v, 0)
  if (riff === 'RF64' || riff === 'RIFX') return bad(`${riff} files are not supported; ${CONVERT}`, 'header')
  if (riff !== 'RIFF' || fourCC(v, 8) !== 'WAVE') {
    return bad(`not a WAV file: it starts with ${JSON.stringify(riff)}…${JSON.stringify(bytes.byteLength >= 12 ? fourCC(v, 8) : '')}, a WAV file with "RIFF"…"WAVE"`, 'header')
  }
  let fmt: { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined
  let pos = 12
  while (pos + 8 <= bytes.byteLength) {
    const id = fourCC(v, pos)
    const size = v.getUint32(pos + 4, true)
    const body = pos + 8
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) return bad(`the fmt chunk has ${Math.min(size, bytes.byteLength - body)} bytes; it needs at least 16`, 'fmt')
      let format = v.getUint16(body, true)
      if (format === FORMAT_EXTENSIBLE) {
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
        if (size < 40 || body + 26 > bytes.byteLength) return bad('the extensible fmt chunk is shorter than 40 bytes', 'fmt')
        format = v.getUint16(body + 24, true)
      }
      fmt = { format, channels: v.getUint16(body + 2, true), sampleRate: v.getUint32(body + 4, true), blockAlign: v.getUint16(body + 12, true), bits: v.getUint16(body + 14, true) }
    } else if (id === 'data') {
      if (fmt === undefined) return bad('the data chunk comes before any fmt chunk, so its sample format is unknown', 'fmt')
      const { format, channels, sampleRate, bits } = fmt
      if (channels < 1) return bad('the fmt chunk says the file has 0 channels', 'fmt')
      if (sampleRate < 1) return bad('the fmt chunk says the sample rate is 0', 'fmt')
      const pcm16 = format === FORMAT_PCM && bits === 16
      const f32 = format === FORMAT_FLOAT && bits === 32
      if (!pcm16 && !f32) {
        const what = format === FORMAT_PCM ? `${bits}-bit integer PCM` : format === FORMAT_FLOAT ? `${bits}-bit float` : `${FORMAT_NAMES[format] ?? 'format code ' + String(format)} (${bits} bits)`
        return bad(`the file holds ${what} samples; only 16-bit integer PCM and 32-bit float are read: ${CONVERT}`, 'fmt')
      }
      const width = bits / 8
      const frame = width * channels
      if (fmt.blockAlign !== frame) return bad(`the fmt chunk's block align is ${fmt.blockAlign} bytes, but ${channels} channel(s) of ${bits}-bit samples take ${frame}`, 'fmt')
      const n = Math.floor(Math.min(size, bytes.byteLength - body) / frame)
      if (n === 0) return E.left(err('EmptyInput', 'decodeWav: the data chunk holds no samples', ['wav', 'data']))
      const samples = new Float32Array(n)
      for (let i = 0; i < n; i++) {
        const at = body + i * frame
        samples[i] = pcm16 ? v.getInt16(at, true) / 32768 : v.getFloat32(at, true)
      }
      return E.right({ sampleRate, channels, samples })
    }
    pos = body + size + (size % 2) // chunks are padded to an even length
  }
  return bad(fmt === undefined ? 'the file has no fmt chunk' : 'the file has no data chunk', fmt === undefined ? 'fmt' : 'data')
}
