// Hashes of attributions from a fixed set of calls (IG with three rules and chunking, NoiseTunnel,
// Occlusion, FeatureAblation, KernelShap, ShapleyValueSampling on the reference mlp and cnn, ONNX).
// Run it on two commits and diff the output: speed work must leave every line the same.
//   npx tsx bench/bitHashes.ts
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { attribute, float32, integratedGradients, noiseTunnel, Occlusion, FeatureAblation, KernelShap, ShapleyValueSampling, int32, type HostTensor } from '../src/index.js'
import { unwrap } from './util.js'
const ref = path.resolve('../shared/reference/models')
const h = (xs: readonly HostTensor[]) => createHash('sha1').update(Buffer.concat(xs.map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)))).digest('hex').slice(0, 12)
const mlp = unwrap(await fromOnnx(path.join(ref, 'mlp.onnx')))
const cnn = unwrap(await fromOnnx(path.join(ref, 'cnn.onnx')))
const x = float32([4, 12], Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.37) * 2))
const xc = float32([2, 3, 32, 32], Float32Array.from({ length: 6144 }, (_, i) => Math.cos(i * 0.11)))
const out: string[] = []
for (const [name, m, xx] of [['mlp', mlp, x], ['cnn', cnn, xc]] as const) {
  for (const method of ['gausslegendre', 'riemann_trapezoid', 'riemann_left'] as const) {
    const r = unwrap(await attribute(integratedGradients({ nSteps: 37, method, returnConvergenceDelta: true }), m, xx, { target: 1, internalBatchSize: 50 })())
    out.push(`${name} ig ${method} ${h(r.attributions)} ${h([r.delta!])}`)
  }
  const nt = unwrap(await attribute(noiseTunnel(integratedGradients({ nSteps: 8 }), { nSamples: 5 }), m, xx, { target: 0, seed: 3 })())
  out.push(`${name} nt(ig) ${h(nt.attributions)}`)
}
const occ = await new Occlusion(cnn).attribute(xc, { target: 2, slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4], perturbationsPerEval: 5 })
out.push(`cnn occlusion ${h([occ])}`)
const fa = await new FeatureAblation(cnn).attribute(xc, { target: 2, featureMask: int32([1, 1, 32, 32], Array.from({ length: 1024 }, (_, p) => Math.floor(p / 128))), perturbationsPerEval: 3 })
out.push(`cnn featureAblation ${h([fa])}`)
const ks = await new KernelShap(mlp).attribute(x, { target: 1, nSamples: 60, seed: 1 })
out.push(`mlp kernelShap ${h([ks])}`)
const svs = await new ShapleyValueSampling(mlp).attribute(x, { target: 1, nSamples: 3, seed: 1 })
out.push(`mlp svs ${h([svs])}`)
console.log(out.join('\n'))
