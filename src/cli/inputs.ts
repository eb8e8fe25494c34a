/**
 * Reading the CLI's `--input`: a PNG or JPEG image (preprocessed by an `ImagePreprocessing` spec, whose
 * defaults follow the model's declared input shape), a JSON array (nested numbers, or
 * `{ "shape", "data" }`), JSON tokens (`{ "ids": [...], "tokens"?: [...] }`), or a WAV sound (its first
 * channel as a [1, samples] row), into a one-example host tensor plus what the pictures need (the
 * image, the token strings, the sample rate).
 *
 * @category cli
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TensorInfo } from '../core/backend.js'
import { float32, int32, int64, sizeOf, type HostTensor } from '../core/tensor.js'
import type { Rgba } from '../viz/heatmap.js'
import { decodeImage } from '../viz/jpeg.js'
import { decodePreprocessing, preprocessImage, type ImagePreprocessing } from '../viz/preprocess.js'
import { decodeWav } from '../viz/wav.js'
import { CliError } from './args.js'
import { readBytes, readJson } from './files.js'

/** What the input is, for the pictures. */
export type InputView =
  | { readonly kind: 'image'; readonly image: Rgba; readonly layout: 'NCHW' | 'NHWC' }
  | { readonly kind: 'tokens'; readonly tokens: readonly string[] }
  | { readonly kind: 'array' }
  | { readonly kind: 'audio'; readonly sampleRate: number }

export interface LoadedInput {
  readonly tensor: HostTensor
  readonly view: InputView
}

/** Preprocessing defaults read off a declared image input: [N, C, H, W] or [N, H, W, C] with C ∈ {1, 3}. */
export const preprocessingFor = (info: TensorInfo | undefined): ImagePreprocessing => {
  const s = info?.shape ?? []
  if (s.length !== 4) return {}
  const num = (d: number | string | null | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined)
  const [c1, h1, w1] = [num(s[1]), num(s[2]), num(s[3])]
  if ((c1 === 1 || c1 === 3) && h1 !== undefined && w1 !== undefined) return { layout: 'NCHW', size: [h1, w1], ...(c1 === 1 ? { channelOrder: 'grey' as const } : {}) }
  const [h2, w2, c2] = [num(s[1]), num(s[2]), num(s[3])]
  if ((c2 === 1 || c2 === 3) && h2 !== undefined && w2 !== undefined) return { layout: 'NHWC', size: [h2, w2], ...(c2 === 1 ? { channelOrder: 'grey' as const } : {}) }
  return {}
}

/** The shape of a rectangular nested array of numbers, or a message saying where it is not. */
const shapeOfNested = (u: unknown, at = 'input'): number[] => {
  if (typeof u === 'number') return []
  if (!Array.isArray(u) || u.length === 0) throw new CliError(`${at} must be a number or a non-empty array of numbers, got ${JSON.stringify(u)?.slice(0, 40) ?? String(u)}`)
  const inner = shapeOfNested(u[0], `${at}[0]`)
  u.forEach((v, i) => {
    const s = shapeOfNested(v, `${at}[${i}]`)
    if (s.join(',') !== inner.join(',')) throw new CliError(`${at}[${i}] has shape [${s.join(', ')}] but ${at}[0] has [${inner.join(', ')}]: the array must be rectangular`)
  })
  return [u.length, ...inner]
}

/** A tensor of the declared dtype (integer inputs stay integers), the batch dim added when the rank is one short. */
const tensorOf = (shape: readonly number[], data: readonly number[], info: TensorInfo | undefined): HostTensor => {
  const full = info !== undefined && shape.length === info.shape.length - 1 ? [1, ...shape] : [...shape]
  if (full[0] !== 1) throw new CliError(`the input has shape [${full.join(', ')}]: the CLI explains one example, so its first (batch) dim must be 1`)
  if (info?.dtype === 'int64' || info?.dtype === 'int32') {
    const bad = data.findIndex((v) => !Number.isInteger(v))
    if (bad >= 0) throw new CliError(`the model's input ${info.name} is ${info.dtype} but input value ${bad} is ${data[bad]}`)
    return info.dtype === 'int64' ? int64(full, data) : int32(full, data)
  }
  return float32(full, data)
}

/** Reads and checks the input file against the model's first input. */
export const loadInput = (file: string, info: TensorInfo | undefined, preprocess: unknown): LoadedInput => {
  if (/\.(png|jpe?g)$/i.test(file)) {
    const bytes = readBytes(file, 'input image')
    let img: Rgba
    try {
      img = decodeImage(bytes)
    } catch (e) {
      throw new CliError(`input ${file} is not a readable PNG or JPEG image: ${(e as Error).message}`)
    }
    const decoded = decodePreprocessing(preprocess ?? {})
    if (E.isLeft(decoded)) throw new CliError(`bad preprocessing spec: ${decoded.left.message}`)
    const p: ImagePreprocessing = { ...preprocessingFor(info), ...decoded.right }
    const { tensor, image } = preprocessImage(img, p)
    return { tensor, view: { kind: 'image', image, layout: p.layout ?? 'NCHW' } }
  }
  if (file.toLowerCase().endsWith('.wav')) {
    // Audio: the first channel's samples in −1..1 as one [1, samples] float32 row.
    const wav = decodeWav(readBytes(file, 'input audio'))
    if (E.isLeft(wav)) throw new CliError(`input ${file} is not a readable WAV file: ${wav.left.message}`)
    return { tensor: float32([1, wav.right.samples.length], wav.right.samples), view: { kind: 'audio', sampleRate: wav.right.sampleRate } }
  }
  if (!file.toLowerCase().endsWith('.json')) throw new CliError(`unknown input file ${file}: give a .png or .jpg image, a .wav sound, or a .json array or token file`)
  const u = readJson(file, 'input')
  if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
    const o = u as Record<string, unknown>
    if ('ids' in o) {
      const ids = o.ids
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((v) => Number.isInteger(v))) throw new CliError(`input ${file}: ids must be a non-empty array of integer token ids`)
      const tokens = o.tokens === undefined ? ids.map(String) : o.tokens
      if (!Array.isArray(tokens) || tokens.length !== ids.length || !tokens.every((v) => typeof v === 'string')) {
        throw new CliError(`input ${file}: tokens must be an array of ${ids.length} strings, one per id`)
      }
      const dtype = info?.dtype === 'int32' ? 'int32' : 'int64'
      return { tensor: dtype === 'int32' ? int32([1, ids.length], ids as number[]) : int64([1, ids.length], ids as number[]), view: { kind: 'tokens', tokens: tokens as string[] } }
    }
    if ('shape' in o && 'data' in o) {
      const shape = o.shape
      const data = o.data
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) throw new CliError(`input ${file}: shape must be an array of positive integers`)
      if (!Array.isArray(data) || !data.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new CliError(`input ${file}: data must be an array of finite numbers`)
      if (data.length !== sizeOf(shape as number[])) throw new CliError(`input ${file}: shape [${shape.join(', ')}] needs ${sizeOf(shape as number[])} values, data has ${data.length}`)
      return { tensor: tensorOf(shape as number[], data as number[], info), view: { kind: 'array' } }
    }
    throw new CliError(`input ${file}: expected a nested array of numbers, { "shape", "data" }, or { "ids", "tokens" }; got an object with keys ${Object.keys(o).join(', ') || '(none)'}`)
  }
  const shape = shapeOfNested(u)
  const data = (Array.isArray(u) ? (u as unknown[]).flat(Infinity) : [u]) as number[]
  const bad = data.findIndex((v) => !Number.isFinite(v))
  if (bad >= 0) throw new CliError(`input ${file}: value ${bad} is not a finite number`)
  return { tensor: tensorOf(shape, data, info), view: { kind: 'array' } }
}
