/**
 * Adversarial attacks on a real model: FGSM and PGD against PaddleOCR's text-line orientation
 * classifier (the ONNX model of the OCR examples), and what Integrated Gradients says before and
 * after the attack.
 *
 * The classifier ends in a softmax that is saturated on this line (p = 1 − 4e-12), so the gradient
 * of −log p(label) through it is below FGSM's 1e-6 threshold everywhere and nothing moves: the
 * example shows that first. Cross-entropy on the logits saturates the same way (its gradient is
 * softmax − onehot), so the attacks then use a margin loss on the logits before the softmax
 * (`lossOn`): z_other − z_label, given as its gradient w.r.t. the logits (any loss can be). Inputs live in [−1, 1] (PaddleOCR's (v/255 − 0.5)/0.5), so
 * ε = 8/255 of the pixel range is 16/255 here, and the bounds keep every pixel valid. Writes out/attack-fgsm.png: for the upright line,
 * rows = original | FGSM-perturbed, columns = image | IG map | overlay.
 *
 *   npm run example:attack
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, fgsm, float32, pgd, type HostTensor, type LossGradientFn } from '../src/index.js'
import { encodePng, heatmap, hstack, overlay, pixelMap, scaleFor, upscale, type Rgba } from '../src/viz/index.js'
import { H, loadModel, textLine, toInput, W } from './ocr.js'

const outDir = path.resolve('out')
const labels = ['upright (0°)', 'upside down (180°)']

/** The normalised [1, 3, H, W] tensor back to an RGBA picture. */
const toImage = (x: HostTensor): Rgba => {
  const data = new Uint8ClampedArray(W * H * 4)
  for (let p = 0; p < W * H; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = Math.round(((x.data as Float32Array)[c * W * H + p]! * 0.5 + 0.5) * 255)
    data[p * 4 + 3] = 255
  }
  return { width: W, height: H, data }
}

const describeOutput = (out: HostTensor): string => {
  const p = Array.from(out.data as Float32Array)
  const k = p[0]! >= p[1]! ? 0 : 1
  return `${labels[k]} (p = ${p[k]!.toFixed(3)}; P(upright) ${p[0]!.toFixed(3)})`
}

const main = async (): Promise<void> => {
  const x = toInput([textLine()])
  const model = await loadModel()
  try {
    const before = await model.forward([x])()
    if (E.isLeft(before)) throw new Error(before.left.message)
    const out0 = before.right.output
    const label = (out0.data as Float32Array)[0]! >= (out0.data as Float32Array)[1]! ? 0 : 1
    console.log(`original:           ${describeOutput(out0)}`)

    const epsilon = 16 / 255
    const bounds = { target: [label], lowerBound: -1, upperBound: 1 }
    const onProbs = await fgsm(model, x, { ...bounds, epsilon, loss: { _tag: 'negLogOutput' } })()
    if (E.isLeft(onProbs)) throw new Error(`${onProbs.left._tag}: ${onProbs.left.message}`)
    const movedBy = (p: HostTensor): number => (p.data as Float32Array).reduce((n, v, i) => n + (v !== (x.data as Float32Array)[i] ? 1 : 0), 0)
    console.log(`FGSM on −log p:     ${describeOutput(onProbs.right.perturbedOutput)}  [${movedBy(onProbs.right.perturbed[0]!)} values moved: the saturated softmax leaves |∇| ≤ 1e-6]`)

    // The logits are the input of the final Softmax node.
    const logits = model.signature.layerInfo?.find((l) => l.opType === 'Softmax')?.inputs[0]
    if (logits === undefined) throw new Error('no Softmax layer found')
    // Margin loss z_other − z_label for the two classes: d/dz = +1 at the other class, −1 at the label.
    const margin: LossGradientFn = (z, ys) => float32(z.shape, Array.from({ length: z.data.length }, (_, i) => (i % 2 === ys[Math.floor(i / 2)] ? -1 : 1)))
    const common = { ...bounds, lossOn: logits, loss: margin }
    const t0 = performance.now()
    const attacked = await fgsm(model, x, { ...common, epsilon })()
    if (E.isLeft(attacked)) throw new Error(`${attacked.left._tag}: ${attacked.left.message}`)
    console.log(`FGSM on the logits: ${describeOutput(attacked.right.perturbedOutput)}  [${movedBy(attacked.right.perturbed[0]!)} of ${x.data.length} values changed (the rest sit at a bound or have |∇| ≤ 1e-6), ${((performance.now() - t0) / 1000).toFixed(2)} s]`)

    const t1 = performance.now()
    const stronger = await pgd(model, x, { ...common, radius: epsilon, stepSize: epsilon / 4, stepNum: 10 })()
    if (E.isLeft(stronger)) throw new Error(`${stronger.left._tag}: ${stronger.left.message}`)
    console.log(`PGD on the logits:  ${describeOutput(stronger.right.perturbedOutput)}  [L∞ radius 8/255, 10 steps, max |x′ − x| = ${Number(stronger.right.perturbationNorm[0]!.data[0]).toFixed(4)}, ${((performance.now() - t1) / 1000).toFixed(2)} s]`)

    // IG of the originally predicted class, before and after FGSM (baseline: a mid-grey image).
    const ig = new IntegratedGradients(model)
    const nSteps = 64
    const attrBefore = await ig.attribute(x, { target: label, nSteps })
    const attrAfter = await ig.attribute(attacked.right.perturbed[0]!, { target: label, nSteps })
    const maps = [pixelMap(attrBefore, 0), pixelMap(attrAfter, 0)]
    const scale = scaleFor([...maps[0]!.values, ...maps[1]!.values], 'signed')
    const images = [toImage(x), toImage(attacked.right.perturbed[0]!)]
    const rows = images.map((img, i) => {
      const map = heatmap(maps[i]!.values, W, H, scale)
      return hstack([img, map, overlay(img, map, 0.75)])
    })
    const sum = (v: Float64Array): number => v.reduce((a, b) => a + b, 0)
    console.log(`IG Σ attribution for "${labels[label]}": ${sum(maps[0]!.values).toFixed(3)} before, ${sum(maps[1]!.values).toFixed(3)} after FGSM`)
    // Stack the two rows vertically.
    const width = rows[0]!.width
    const grid: Rgba = { width, height: rows[0]!.height * 2, data: new Uint8ClampedArray(width * rows[0]!.height * 2 * 4) }
    grid.data.set(rows[0]!.data, 0)
    grid.data.set(rows[1]!.data, rows[0]!.data.length)
    mkdirSync(outDir, { recursive: true })
    const file = path.join(outDir, 'attack-fgsm.png')
    writeFileSync(file, encodePng(upscale(grid, 2)))
    console.log(`wrote ${file} (rows: original | FGSM; columns: image | IG map | overlay; red: for "${labels[label]}", blue: against)`)
  } finally {
    await model.dispose()
  }
}

await main()
