// Small-model latency (issue 18): IG with 50 steps on the reference mlp (12 → 32 → 16 → 3, ReLU),
// a batch of 16, against the raw passes it needs (one forward+backward over the same 16 × 50 rows,
// seeded on the target, in the same session), in interleaved pairs, on ONNX, tfjs-cpu and tfjs-wasm.
// The ratio is the interpreter's overhead: interpolation, chunking, quadrature, checks.
//   npm run bench -- small   (THREADS=n sets ONNX Runtime's intra-op threads, default 2)
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { fromTfjs } from '../src/backends/tfjs/index.js'
import { buildTfjsReferenceModel } from '../src/conformance/tfjsModels.js'
import type { Model } from '../src/core/backend.js'
import { attribute, float32, integratedGradients, seedOf } from '../src/index.js'
import { interleaved, median, row, unwrap } from './util.js'

const ref = path.resolve('../shared/reference/models')
const N = 16
const STEPS = 50
const x = float32([N, 12], Float32Array.from({ length: N * 12 }, (_, i) => Math.sin(i * 0.37)))
const rows = float32([N * STEPS, 12], Float32Array.from({ length: N * STEPS * 12 }, (_, i) => Math.sin(i * 0.37) * ((i % 50) / 50)))
const target = 1

const pairs = async <T>(name: string, model: Model<T>): Promise<string> => {
  const b = model.backend
  const raw = async () => {
    const t = b.fromHost(rows)
    try {
      const r = unwrap(await model.vjp([t], { kind: 'linear', seed: (s) => seedOf(target, s, new Int32Array(s[0]!), 1, true) }, { wrt: { kind: 'inputs' } })())
      await b.toHost(r.grads[0]!)
      b.dispose(r.value)
      r.grads.forEach((g) => b.dispose(g))
    } finally {
      b.dispose(t)
    }
  }
  const ig = async () => unwrap(await attribute(integratedGradients({ nSteps: STEPS }), model, x, { target })())
  const { measured, reference, ratios } = await interleaved(raw, ig, 30, 5)
  return row([name, measured, reference, `${median(ratios).toFixed(2)}× (min–max ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`])
}

export const benchSmallModel = async (): Promise<string[]> => {
  const out = [
    `### Small-model latency: IG, ${STEPS} steps, reference mlp, batch ${N} (30 interleaved pairs after 5 warm-ups)`,
    '',
    row(['backend', 'IG median s', 'raw forward+backward of the same rows, median s', 'IG ÷ raw (median of pairs)']),
    row(['---', '---', '---', '---']),
  ]
  const threads = Number(process.env['THREADS'] ?? 2)
  const onnx = unwrap(await fromOnnx(path.join(ref, 'mlp.onnx'), { session: { intraOpNumThreads: threads } }))
  out.push(await pairs(`ONNX Runtime (CPU, ${threads} thread${threads === 1 ? '' : 's'})`, onnx))
  await onnx.dispose()
  await tf.setBackend('cpu')
  const built = unwrap(buildTfjsReferenceModel(JSON.parse(readFileSync(path.join(ref, 'mlp.weights.json'), 'utf8'))))
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend)
    out.push(await pairs(`tfjs-${backend}`, fromTfjs(built.fn)))
  }
  built.dispose?.()
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchSmallModel()).join('\n'))
