// Memory of the ONNX session cache: LayerGradientXActivation over 20 internal tensors of resnet18
// (the 17 Relu outputs and the first 3 residual Add outputs), each of which needs its own backward
// session. Prints the RSS after each layer, the peak RSS, and the RSS after dispose().
// Run in its own process so the peak belongs to this run only:
//   node --expose-gc --import tsx bench/sessionCache.ts [sessionCacheBytes]
// (with no argument the default bound applies).
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { attribute, float32, layerGradientXActivation } from '../src/index.js'
import { unwrap } from './util.js'

const MiB = 1024 * 1024
const arg = process.argv[2]
const bound = arg === undefined ? undefined : Number(arg)
const rss = (): number => process.memoryUsage().rss / MiB
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

const base = rss()
const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), {
  session: { intraOpNumThreads: 2, ...(bound !== undefined ? { sessionCacheBytes: bound } : {}) },
}))
const relus = model.signature.layers.filter((l) => l.endsWith('/Relu_output_0'))
const adds = model.signature.layers.filter((l) => l.endsWith('/Add_output_0')).slice(0, 3)
const layers = [...relus, ...adds].slice(0, 20)
if (layers.length !== 20) throw new Error(`expected 20 layers, found ${layers.length}`)

const data = new Float32Array(3 * 224 * 224)
for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
const x = float32([1, 3, 224, 224], data)
const perLayer: number[] = []
const t0 = performance.now()
for (const layer of layers) {
  unwrap(await attribute(layerGradientXActivation({ layer }), model, x, { target: 3 })())
  perLayer.push(Math.round(rss()))
}
const seconds = (performance.now() - t0) / 1000
const beforeDispose = rss()
await model.dispose()
gc()
await new Promise((r) => setTimeout(r, 500))
const afterDispose = rss()
console.log(JSON.stringify({
  sessionCacheBytes: bound ?? 'default',
  layers: layers.length,
  seconds: Number(seconds.toFixed(1)),
  baseRssMiB: Math.round(base),
  rssPerLayerMiB: perLayer,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  rssBeforeDisposeMiB: Math.round(beforeDispose),
  rssAfterDisposeMiB: Math.round(afterDispose),
}))
