// tfjs benchmark: IntegratedGradients (50 steps) on the reference cnn (1×3×32×32), rebuilt in tfjs
// from its weights, vs 50 forward+backward passes of the same model, on tfjs-cpu and tfjs-wasm.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as E from 'fp-ts/lib/Either.js'
import { fromTfjs } from '../src/backends/tfjs/index.js'
import { loadModelWeights } from '../src/conformance/load.js'
import { loadReferenceDir } from '../src/conformance/files.js'
import { buildTfjsReferenceModel } from '../src/conformance/tfjsModels.js'
import { attribute, float32, integratedGradients, seedOf } from '../src/index.js'
import { row, time, unwrap } from './util.js'

export const benchTfjs = async (backends: readonly string[] = ['cpu', 'wasm']): Promise<string[]> => {
  const ref = loadReferenceDir(path.resolve('../shared/reference'))
  if (E.isLeft(ref)) throw new Error(ref.left.message)
  const weights = loadModelWeights(ref.right, 'cnn')
  if (E.isLeft(weights)) throw new Error(weights.left.message)
  const lines = ['### tfjs backends, reference cnn (Conv-ReLU-MaxPool-Conv-ReLU-GAP-Linear), 1×3×32×32', row(['tfjs backend', 'fwd+bwd s', 'IG 50 steps s', 'IG ÷ 50 passes']), row(['---', '---', '---', '---'])]
  for (const b of backends) {
    await tf.setBackend(b)
    const built = buildTfjsReferenceModel(weights.right)
    if (E.isLeft(built)) throw new Error(built.left.message)
    const model = fromTfjs(built.right.fn)
    const data = new Float32Array(3 * 32 * 32)
    for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
    const x = float32([1, 3, 32, 32], data)
    const xt = tf.tensor(data, [1, 3, 32, 32])
    const selector = { kind: 'linear' as const, seed: (s: readonly number[]) => seedOf(1, s, new Int32Array(s[0]!), 1, true) }
    const fb = await time(async () => {
      const r = unwrap(await model.vjp([xt], selector, { wrt: { kind: 'inputs' } })())
      tf.dispose([r.output, r.value, ...r.grads])
    }, 5)
    const ig = await time(async () => unwrap(await attribute(integratedGradients({ nSteps: 50 }), model, x, { target: 1 })()), 3)
    lines.push(row([b, fb, ig, `${(ig / (50 * fb)).toFixed(3)}×`]))
    xt.dispose()
    built.right.dispose()
  }
  await tf.setBackend('cpu')
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchTfjs()).join('\n'))
