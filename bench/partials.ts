// Host partial results (issue 9) against the interpreter that kept partial sums on the backend:
// IntegratedGradients with one path step per chunk (the most combines a run can have) and with
// automatic chunks, on tfjs (cpu, wasm; reference cnn 1×3×32×32) and ONNX (resnet18 1×3×224×224);
// NoiseTunnel(IG) on tfjs-cpu. Run the same file in two checkouts on one machine to compare:
// npx tsx bench/partials.ts
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { fromTfjs } from '../src/backends/tfjs/index.js'
import { loadModelWeights } from '../src/conformance/load.js'
import { loadReferenceDir } from '../src/conformance/files.js'
import { buildTfjsReferenceModel } from '../src/conformance/tfjsModels.js'
import { attribute, float32, integratedGradients, noiseTunnel } from '../src/index.js'
import { row, time, unwrap } from './util.js'

const pattern = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000)

export const benchPartials = async (): Promise<string[]> => {
  const lines = ['### Partial results: IntegratedGradients (50 steps) per chunking', row(['model', 'backend', 'chunking', 'chunks', 'seconds']), row(['---', '---', '---', '---', '---'])]
  const ref = loadReferenceDir(path.resolve('../shared/reference'))
  if (E.isLeft(ref)) throw new Error(ref.left.message)
  const weights = loadModelWeights(ref.right, 'cnn')
  if (E.isLeft(weights)) throw new Error(weights.left.message)
  const ig = integratedGradients({ nSteps: 50 })
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b)
    const built = buildTfjsReferenceModel(weights.right)
    if (E.isLeft(built)) throw new Error(built.left.message)
    const model = fromTfjs(built.right.fn)
    const x = float32([1, 3, 32, 32], pattern(3 * 32 * 32))
    for (const [label, opts] of [['automatic', {}], ['internalBatchSize 1', { internalBatchSize: 1 }]] as const) {
      let chunks = 0
      const s = await time(async () => {
        chunks = unwrap(await attribute(ig, model, x, { target: 1, ...opts })()).meta.chunks
      }, 5)
      lines.push(row(['cnn', `tfjs-${b}`, label, String(chunks), s]))
    }
    if (b === 'cpu') {
      const nt = noiseTunnel(integratedGradients({ nSteps: 10 }), { nSamples: 10, stdevs: 0.1 })
      for (const [label, opts] of [['automatic', {}], ['internalBatchSize 1', { internalBatchSize: 1 }]] as const) {
        let chunks = 0
        const s = await time(async () => {
          chunks = unwrap(await attribute(nt, model, x, { target: 1, ...opts })()).meta.chunks
        }, 3)
        lines.push(row(['cnn, NoiseTunnel(IG 10) × 10', `tfjs-${b}`, label, String(chunks), s]))
      }
    }
    built.right.dispose()
  }
  await tf.setBackend('cpu')
  const resnet = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const x = float32([1, 3, 224, 224], pattern(3 * 224 * 224))
  for (const [label, opts] of [['automatic', {}], ['internalBatchSize 1', { internalBatchSize: 1 }]] as const) {
    let chunks = 0
    const s = await time(async () => {
      chunks = unwrap(await attribute(ig, resnet, x, { target: 3, ...opts })()).meta.chunks
    }, 3)
    lines.push(row(['resnet18', 'onnx', label, String(chunks), s]))
  }
  await resnet.dispose()
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchPartials()).join('\n'))
