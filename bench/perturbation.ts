// Perturbation benchmark on resnet18 (one 3×224×224 image), the settings of Captum's recorded
// timings: Occlusion with window 3×32×32 and stride 3×16×16, and FeatureAblation over 196
// superpixels of 16×16. Ratios: our time ÷ the bare forward passes the method needs (same batch
// size, same session), and Captum's recorded CPU time ÷ ours.
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { FeatureAblation, Occlusion, float32, int64, type HostTensor } from '../src/index.js'
import { captum } from './onnx.js'
import { row, time, unwrap } from './util.js'

export const benchPerturbation = async (): Promise<string[]> => {
  const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  const x = float32([1, 3, 224, 224], data)
  const rowsOf = (n: number): HostTensor => float32([n, 3, 224, 224], new Float32Array(n * data.length).map((_, i) => data[i % data.length]!))
  const forwardRows = async (total: number, perCall: number): Promise<number> => {
    const full = rowsOf(perCall)
    const tail = total % perCall === 0 ? undefined : rowsOf(total % perCall)
    return time(async () => {
      for (let done = 0; done + perCall <= total; done += perCall) unwrap(await model.forward([full])())
      if (tail) unwrap(await model.forward([tail])())
    }, 3)
  }
  // 196 superpixels: feature id = (row / 16) · 14 + (col / 16), shared by the channels
  const mask = int64([1, 1, 224, 224], Array.from({ length: 224 * 224 }, (_, p) => Math.floor(Math.floor(p / 224) / 16) * 14 + Math.floor((p % 224) / 16)))
  const windows = 13 * 13 // ((224 − 32) / 16 + 1)² placements
  const occ = (ppe?: number) => time(async () => new Occlusion(model).attribute(x, { target: 3, slidingWindowShapes: [3, 32, 32], strides: [3, 16, 16], ...(ppe ? { perturbationsPerEval: ppe } : {}) }), 3)
  const abl = (ppe?: number) => time(async () => new FeatureAblation(model).attribute(x, { target: 3, featureMask: mask, ...(ppe ? { perturbationsPerEval: ppe } : {}) }), 3)
  const occ8 = await occ(8)
  const occAuto = await occ()
  const bareOcc = (await forwardRows(windows, 8)) + (await forwardRows(1, 1))
  const abl16 = await abl(16)
  const ablAuto = await abl()
  const bareAbl = (await forwardRows(196, 16)) + (await forwardRows(1, 1))
  await model.dispose()
  const cOcc = captum('Occlusion window (3,32,32) stride (3,16,16), perturbations_per_eval=8')
  const cAbl = captum('FeatureAblation 16x16 superpixels (196 features), perturbations_per_eval=16')
  return [
    '### Perturbation methods on ONNX, resnet18, 1×3×224×224, 2 threads',
    row(['method', 'seconds', 'ratio to bare forwards', 'Captum CPU (recorded) ÷ ours']),
    row(['---', '---', '---', '---']),
    row([`Occlusion 3×32×32 / 3×16×16 (${windows} windows), perturbationsPerEval 8`, occ8, `${(occ8 / bareOcc).toFixed(3)}×`, cOcc ? `${(cOcc / occ8).toFixed(2)}×` : '']),
    row(['Occlusion, automatic packing', occAuto, `${(occAuto / bareOcc).toFixed(3)}×`, cOcc ? `${(cOcc / occAuto).toFixed(2)}×` : '']),
    row(['bare forwards: 169 rows in calls of 8, + 1', bareOcc, '', '']),
    row(['FeatureAblation, 196 superpixels, perturbationsPerEval 16', abl16, `${(abl16 / bareAbl).toFixed(3)}×`, cAbl ? `${(cAbl / abl16).toFixed(2)}×` : '']),
    row(['FeatureAblation, automatic packing', ablAuto, `${(ablAuto / bareAbl).toFixed(3)}×`, cAbl ? `${(cAbl / ablAuto).toFixed(2)}×` : '']),
    row(['bare forwards: 196 rows in calls of 16, + 1', bareAbl, '', '']),
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchPerturbation()).join('\n'))
