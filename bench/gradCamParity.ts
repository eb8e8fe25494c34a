// LayerGradCam on resnet18's layer4 against real Captum, run side by side (optional, not a test):
//   PYTHONPATH=<captum checkout> /usr/bin/python3 bench/captum_gradcam.py out/captum-gradcam.json
//   npx tsx bench/gradCamParity.ts out/captum-gradcam.json
// The reference resnet18.onnx was exported from the same torchvision model the Python script
// rebuilds, so the two runs see the same weights and the same image.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { LayerGradCam, float32, type HostTensor } from '../src/index.js'
import { unwrap } from './util.js'

type Saved = Record<string, { shape: number[]; data: number[] } | number[]>

const maxDiff = (a: HostTensor, want: { shape: number[]; data: number[] }): { abs: number; scale: number } => {
  if (a.shape.join() !== want.shape.join()) throw new Error(`shape [${a.shape.join(', ')}] vs Captum's [${want.shape.join(', ')}]`)
  let abs = 0
  let scale = 0
  want.data.forEach((w, i) => {
    abs = Math.max(abs, Math.abs(Number(a.data[i]) - w))
    scale = Math.max(scale, Math.abs(w))
  })
  return { abs, scale }
}

export const gradCamParity = async (file: string): Promise<string[]> => {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Saved
  const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  const x = float32([1, 3, 224, 224], data)
  const cam = new LayerGradCam(model, '/layer4/layer4.1/relu_1/Relu_output_0')
  const lines: string[] = ['| map | max abs diff vs Captum | max abs value |', '| --- | --- | --- |']
  for (const relu of [false, true]) {
    const key = relu ? 'relu' : 'signed'
    const got = await cam.attribute(x, { target: 3, reluAttributions: relu })
    const d = maxDiff(got, saved[key] as { shape: number[]; data: number[] })
    lines.push(`| layer4, ${key} (${got.shape.join('×')}) | ${d.abs.toExponential(2)} | ${d.scale.toExponential(2)} |`)
    for (const mode of ['nearest', 'bilinear'] as const) {
      // upsampled in the pipeline, as LayerAttribution.interpolate does after Captum's call
      const up = await cam.attribute(x, { target: 3, reluAttributions: relu, upsample: { size: 'input', mode } })
      const u = maxDiff(up, saved[`${key}.${mode}`] as { shape: number[]; data: number[] })
      lines.push(`| layer4, ${key}, ${mode} to 224×224 | ${u.abs.toExponential(2)} | ${u.scale.toExponential(2)} |`)
    }
  }
  await model.dispose()
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await gradCamParity(process.argv[2] ?? 'out/captum-gradcam.json')).join('\n'))
