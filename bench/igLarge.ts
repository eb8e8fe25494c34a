// IntegratedGradients with 2990 steps (STEPS=n for another count) on resnet18: automatic chunking
// must keep peak RSS under 2 GiB. Run in its own process so the peak belongs to this run only:
// npm run bench -- ig2990 (and bench/captumSideBySide.ts for 1000 steps next to Captum's).
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { attribute, float32, integratedGradients } from '../src/index.js'
import { unwrap } from './util.js'

const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
const data = new Float32Array(3 * 224 * 224)
for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
const steps = Number(process.env['STEPS'] ?? 2990)
const t0 = performance.now()
const r = unwrap(await attribute(integratedGradients({ nSteps: steps, returnConvergenceDelta: true }), model, float32([1, 3, 224, 224], data), { target: 3 })())
const s = (performance.now() - t0) / 1000
await model.dispose()
const peak = process.resourceUsage().maxRSS / 1024
console.log(JSON.stringify({ steps, seconds: s, peakRssMiB: peak, chunks: r.meta.chunks, delta: Number(r.delta?.data[0]) }))
