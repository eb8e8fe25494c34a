// ONNX backend benchmark on resnet18 (one 3×224×224 image), the model Captum's timings were taken on:
// IntegratedGradients with 50 steps vs 50 forward+backward passes in the same session, and vs
// Captum's CPU time recorded in ../shared/reference/captum-timings.json.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import type { Model } from '../src/core/backend.js'
import type { HostTensor } from '../src/core/tensor.js'
import { attribute, deepLift, float32, gradientShap, integratedGradients, layerGradCam, noiseTunnel, saliency, seedOf } from '../src/index.js'
import { interleaved, median, row, time, unwrap } from './util.js'

const ref = path.resolve('../shared/reference')
const timings = JSON.parse(readFileSync(path.join(ref, 'captum-timings.json'), 'utf8')) as unknown
/** Captum's recorded CPU median (first session) for a case label of captum-timings.json. */
export const captum = (label: string): number | undefined => {
  const v = (timings as { cpu?: { summary_median_s?: Record<string, unknown> } }).cpu?.summary_median_s?.[label]
  return typeof v === 'number' ? v : undefined
}

/**
 * DeepLift on resnet18 (the stock torchvision graph, whose reused ReLU Captum rejects) against one
 * plain forward+backward of the doubled batch (x and its zero baseline, 2 rows) in the same session:
 * DeepLift is that pass with the rescale rules in the backward graph, plus the product with x − x′.
 * Measured in interleaved pairs (one pass, one DeepLift; 15 pairs after 3 warm-ups), so both see the
 * same machine load: the median of the per-pair ratios, with its min–max.
 */
export const benchDeepLift = async (model: Model<HostTensor>, x: HostTensor, target: number): Promise<string[]> => {
  const doubled = float32([2, ...x.shape.slice(1)], Float32Array.from({ length: 2 * x.data.length }, (_, i) => (i < x.data.length ? Number(x.data[i]) : 0)))
  const fb = async () => unwrap(await model.vjp([doubled], { kind: 'linear', seed: (s) => seedOf(target, s, new Int32Array(s[0]!), 1, true) }, { wrt: { kind: 'inputs' } })())
  const dl = async () => unwrap(await attribute(deepLift(), model, x, { target })())
  const { reference: fb2, measured: dlT, ratios } = await interleaved(fb, dl, 15, 3)
  const cDl = captum('DeepLift (resnet18 with one non-inplace nn.ReLU module per use)')
  return [
    row(['forward+backward to the input (batch 2: x and its baseline)', fb2, '']),
    row(['DeepLift, zero baseline (goal ≤ 1.3× 1 pass of batch 2)', dlT, `${median(ratios).toFixed(3)}× 1 pass of batch 2 (median of 15 interleaved pairs; min–max ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`]),
    row(['Captum CPU DeepLift (recorded; needs a copy with one ReLU per use)', cDl ?? NaN, cDl ? `clarus is ${(cDl / dlT).toFixed(2)}× faster` : '']),
  ]
}

/** The DeepLift rows alone (`npm run bench -- deeplift`). */
export const benchDeepLiftOnly = async (): Promise<string[]> => {
  const model = unwrap(await fromOnnx(path.join(ref, 'models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  try {
    return ['### DeepLift on ONNX, resnet18, 1×3×224×224, 2 threads', row(['case', 'seconds', 'ratio']), row(['---', '---', '---']), ...(await benchDeepLift(model, float32([1, 3, 224, 224], data), 3))]
  } finally {
    await model.dispose()
  }
}

export const benchOnnx = async (): Promise<string[]> => {
  const model = unwrap(await fromOnnx(path.join(ref, 'models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  const x = float32([1, 3, 224, 224], data)
  const target = 3
  const fb = await time(async () => unwrap(await model.vjp([x], { kind: 'linear', seed: (s) => seedOf(target, s, new Int32Array(s[0]!), 1, true) }, { wrt: { kind: 'inputs' } })()))
  const fwd = await time(async () => unwrap(await model.forward([x])()))
  const ig = await time(async () => unwrap(await attribute(integratedGradients({ nSteps: 50 }), model, x, { target })()), 3)
  const ig10 = await time(async () => unwrap(await attribute(integratedGradients({ nSteps: 50 }), model, x, { target, internalBatchSize: 10 })()), 3)
  const sal = await time(async () => unwrap(await attribute(saliency(), model, x, { target })()), 3)
  // GradCAM at torchvision's layer4 (the output of its last block), as in Captum's recorded timing
  const gradCam = await time(async () => unwrap(await attribute(layerGradCam({ layer: '/layer4/layer4.1/relu_1/Relu_output_0' }), model, x, { target })()), 3)
  // wrappers: GradientShap (50 samples over 4 background images) and SmoothGrad (50 noisy copies) are 50 fwd+bwd rows each
  const background = float32([4, 3, 224, 224], Float32Array.from({ length: 4 * 3 * 224 * 224 }, (_, i) => ((i * 40503) % 997) / 997))
  const gs = await time(async () => unwrap(await attribute(gradientShap({ nSamples: 50 }), model, x, { target, baselines: background, seed: 1 })()), 3)
  const sg = await time(async () => unwrap(await attribute(noiseTunnel(saliency(), { nSamples: 50, stdevs: 0.1 }), model, x, { target, seed: 1 })()), 3)
  const dlRows = await benchDeepLift(model, x, target)
  await model.dispose()
  const cIg = captum('IntegratedGradients n_steps=50, internal_batch_size=None')
  const cIg10 = captum('IntegratedGradients n_steps=50, internal_batch_size=10')
  const cSal = captum('Saliency')
  const cGradCam = captum('LayerGradCam on layer4')
  return [
    '### ONNX backend, resnet18, 1×3×224×224, 2 threads',
    row(['measure', 'seconds', 'ratio']),
    row(['---', '---', '---']),
    row(['forward (batch 1)', fwd, '']),
    row(['forward+backward to the input (batch 1)', fb, '']),
    row(['IntegratedGradients, 50 steps, automatic chunks', ig, `${(ig / (50 * fb)).toFixed(3)}× 50 passes`]),
    row(['IntegratedGradients, 50 steps, internalBatchSize 10', ig10, `${(ig10 / (50 * fb)).toFixed(3)}× 50 passes`]),
    row(['Saliency', sal, `${(sal / fb).toFixed(3)}× 1 pass`]),
    row(['LayerGradCam at layer4 (goal ≤ 1.2× 1 pass)', gradCam, `${(gradCam / fb).toFixed(3)}× 1 pass`]),
    row(['GradientShap, 50 samples, 4 background images', gs, `${(gs / (50 * fb)).toFixed(3)}× 50 passes`]),
    row(['NoiseTunnel(Saliency), 50 samples', sg, `${(sg / (50 * fb)).toFixed(3)}× 50 passes`]),
    row(['Captum CPU IG 50 steps (recorded)', cIg ?? NaN, cIg ? `clarus is ${(cIg / ig).toFixed(2)}× faster` : '']),
    row(['Captum CPU IG 50 steps, ibs 10 (recorded)', cIg10 ?? NaN, cIg10 ? `clarus is ${(cIg10 / ig10).toFixed(2)}× faster` : '']),
    row(['Captum CPU Saliency (recorded)', cSal ?? NaN, cSal ? `clarus is ${(cSal / sal).toFixed(2)}× faster` : '']),
    row(['Captum CPU LayerGradCam on layer4 (recorded)', cGradCam ?? NaN, cGradCam ? `clarus is ${(cGradCam / gradCam).toFixed(2)}× faster` : '']),
    ...dlRows,
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchOnnx()).join('\n'))
