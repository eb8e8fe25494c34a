// clarus and real Captum in the same run, alternating (A B A B …) so both see the same machine load:
// `npm run bench -- captum`. Captum runs in a Python process (bench/captum_server.py, Debian's
// python3-torch and python3-torchvision, Captum's source from CAPTUM_SRC, default /tmp/captum); each
// pair times one clarus call and one Captum call of the same computation on the reference resnet18
// and image, and the table gives the median of the per-pair ratios with their min–max.
// Optional: never part of the test suite. Without Python, torch or Captum it says what is missing.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { fromTfjs } from '../src/backends/tfjs/index.js'
import { buildTfjsReferenceModel } from '../src/conformance/tfjsModels.js'
import type { Model } from '../src/core/backend.js'
import type { HostTensor } from '../src/core/tensor.js'
import {
  adaptiveIntegratedGradients, attribute, deepLift, featureAblation, float32, gradientShap, int64, integratedGradients, layerGradCam, noiseTunnel, occlusion, saliency, shapleyValueSampling,
} from '../src/index.js'
import { median, relativeError, row, unwrap } from './util.js'

const PYTHON = process.env['CLARUS_PYTHON'] ?? '/usr/bin/python3'
const CAPTUM_SRC = process.env['CAPTUM_SRC'] ?? '/tmp/captum'
const PAIRS = Number(process.env['PAIRS'] ?? 5)

/** The Python side: one request line out, one answer line back. */
class Captum {
  private readonly lines: AsyncIterator<string>
  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
  }

  static start(): Captum {
    const proc = spawn(PYTHON, [path.resolve('bench/captum_server.py')], { env: { ...process.env, PYTHONPATH: CAPTUM_SRC } })
    proc.stderr.on('data', (d: Buffer) => {
      const s = d.toString()
      if (!/Warning/.test(s)) process.stderr.write(`[captum] ${s}`)
    })
    return new Captum(proc)
  }

  async run(name: string, repeats = 1): Promise<number[]> {
    return (await this.runWithRss(name, repeats)).seconds
  }

  /** The case's times, and the Python process's peak RSS so far (MiB). */
  async runWithRss(name: string, repeats = 1): Promise<{ seconds: number[]; peakRssMiB: number }> {
    this.proc.stdin.write(JSON.stringify({ case: name, repeats }) + '\n')
    const next = await this.lines.next()
    if (next.done === true) throw new Error('the Captum process ended (is torch, torchvision and Captum available? see bench/captum_server.py)')
    const r = JSON.parse(next.value) as { seconds?: number[]; peakRssMiB?: number; error?: string }
    if (r.error !== undefined || r.seconds === undefined) throw new Error(`Captum ${name}: ${r.error ?? 'no answer'}`)
    return { seconds: r.seconds, peakRssMiB: r.peakRssMiB ?? NaN }
  }

  stop(): void {
    this.proc.stdin.end()
  }
}

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await f()
  return (performance.now() - t0) / 1000
}

interface Case {
  readonly label: string
  readonly captum: string
  readonly clarus: (model: Model<HostTensor>) => Promise<unknown>
  /** The model the case runs on (default resnet18). */
  readonly model?: Model<HostTensor>
  /** Pairs for this row (default PAIRS; long cases take fewer). */
  readonly pairs?: number
}

export const benchCaptumSideBySide = async (): Promise<string[]> => {
  if (!existsSync(path.join(CAPTUM_SRC, 'captum'))) {
    return ['### clarus vs Captum, same run', '', `skipped: no Captum source at ${CAPTUM_SRC} (set CAPTUM_SRC to a checkout of https://github.com/pytorch/captum)`]
  }
  const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2 } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  const x = float32([1, 3, 224, 224], data)
  const mask = int64([1, 1, 224, 224], Array.from({ length: 224 * 224 }, (_, p) => Math.floor(Math.floor(p / 224) / 16) * 14 + Math.floor((p % 224) / 16)))
  const background = float32([4, 3, 224, 224], Float32Array.from({ length: 4 * 3 * 224 * 224 }, (_, i) => ((i * 40503) % 997) / 997))
  const target = 3
  const run = (p: Parameters<typeof attribute>[0], o: Parameters<typeof attribute<HostTensor>>[3] = {}) => async (m: Model<HostTensor>) => unwrap(await attribute(p, m, x, { target, ...o })())
  // time to accuracy, for resnet18 and the reference cnn: the completeness error of the 50-step
  // Gauss–Legendre result (Captum's and clarus's agree: the conformance cases), reached by
  // adaptiveIntegratedGradients; Captum reaches it by running its 50 steps. Each row also gives both
  // results' attribution error against 300 Gauss–Legendre steps (relative L2), so the accuracy
  // compared is not only the one scalar completeness checks.
  const cnn = unwrap(await fromOnnx(path.resolve('../shared/reference/models/cnn.onnx'), { session: { intraOpNumThreads: 2 } }))
  // the small-model rows: the reference mlp on ONNX and on tfjs (cpu, wasm), bench/smallModel.ts's batch
  const xMlp = float32([16, 12], Float32Array.from({ length: 16 * 12 }, (_, i) => Math.sin(i * 0.37)))
  const mlpOnnx = unwrap(await fromOnnx(path.resolve('../shared/reference/models/mlp.onnx'), { session: { intraOpNumThreads: 2 } }))
  await tf.setBackend('cpu')
  const built = unwrap(buildTfjsReferenceModel(JSON.parse(readFileSync(path.resolve('../shared/reference/models/mlp.weights.json'), 'utf8'))))
  const mlpTfjs = fromTfjs(built.fn)
  const small: { name: string; ig: () => Promise<unknown> }[] = [
    { name: 'ONNX Runtime', ig: async () => unwrap(await attribute(integratedGradients({ nSteps: 50 }), mlpOnnx, xMlp, { target: 1 })()) },
    ...['cpu', 'wasm'].map((backend) => ({
      name: `tfjs-${backend}`,
      ig: async () => {
        if (tf.getBackend() !== backend) await tf.setBackend(backend)
        return unwrap(await attribute(integratedGradients({ nSteps: 50 }), mlpTfjs, xMlp, { target: 1 })())
      },
    })),
  ]
  const xCnn = float32([1, 3, 32, 32], Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => (((i + 7) * 2654435761) % 1000) / 1000))
  const accuracyCase = async (name: string, m: Model<HostTensor>, input: HostTensor, t: number, captumCase: string): Promise<Case> => {
    const ig = async (nSteps: number) => unwrap(await attribute(integratedGradients({ nSteps, returnConvergenceDelta: true }), m, input, { target: t })())
    const fixed = await ig(50)
    const ref = (await ig(300)).attributions[0]!.data as Float32Array
    const relErr = (a: HostTensor): string => relativeError(a.data as Float32Array, ref)
    // float32 rounding puts a floor of about 1e-6 under any completeness error here (a delta of exactly 0 is cancellation luck)
    const tolerance = Math.max(1e-6, Math.abs(Number(fixed.delta!.data[0])))
    const probe = unwrap(await adaptiveIntegratedGradients(m, input, { target: t }, { tolerance, maxSteps: 256 })())
    return {
      label: `${name}: IG to the 50-step completeness error (${tolerance.toExponential(0)}): clarus adaptive (${probe.passes[0]} gradients, |δ| ${Math.abs(probe.delta.data[0]!).toExponential(0)}, ` +
        `attribution error ${relErr(probe.attributions[0]!)}) vs Captum's 50 steps (attribution error ${relErr(fixed.attributions[0]!)})`,
      captum: captumCase,
      clarus: async () => unwrap(await adaptiveIntegratedGradients(m, input, { target: t }, { tolerance, maxSteps: 256 })()),
      model: m,
    }
  }
  const cases: Case[] = [
    { label: 'cnn: IG, 50 steps (Captum internal_batch_size None)', captum: 'cnn.ig50', clarus: async () => unwrap(await attribute(integratedGradients({ nSteps: 50 }), cnn, xCnn, { target: 2 })()), model: cnn },
    await accuracyCase('cnn', cnn, xCnn, 2, 'cnn.ig50'),
    { label: 'IG, 50 steps (Captum internal_batch_size None)', captum: 'ig50', clarus: run(integratedGradients({ nSteps: 50 })) },
    await accuracyCase('resnet18', model, x, target, 'ig50.ibs10'),
    // scaling with the step count and the batch (Captum: 10 steps per chunk, its best setting at 50 steps)
    ...[10, 200, 1000].map((n): Case => ({ label: `IG, ${n} steps (Captum internal_batch_size 10)`, captum: `ig${n}.ibs10`, clarus: run(integratedGradients({ nSteps: n })), ...(n === 1000 ? { pairs: 2 } : {}) })),
    ...[1, 4, 8].map((b): Case => {
      // b copies of the image, copy k shifted k pixels along the width (the Python side's torch.roll)
      const xb = float32([b, 3, 224, 224], Float32Array.from({ length: b * 3 * 224 * 224 }, (_, i) => {
        const k = Math.floor(i / (3 * 224 * 224))
        const w = i % 224
        return data[i - k * 3 * 224 * 224 - w + ((w - k + 224) % 224)]!
      }))
      return { label: `IG, 50 steps, batch ${b} (Captum internal_batch_size ${10 * b})`, captum: `ig50.batch${b}`, clarus: async (m) => unwrap(await attribute(integratedGradients({ nSteps: 50 }), m, xb, { target })()), ...(b === 8 ? { pairs: 3 } : {}) }
    }),
    // small-model latency: the reference mlp, a batch of 16, on every clarus backend against Captum
    ...small.map((sm): Case => ({ label: `mlp, batch 16: IG, 50 steps, clarus on ${sm.name} (Captum internal_batch_size None)`, captum: 'mlp.ig50.b16', clarus: sm.ig })),
    { label: 'IG, 50 steps (Captum internal_batch_size 10)', captum: 'ig50.ibs10', clarus: run(integratedGradients({ nSteps: 50 })) },
    { label: 'IG, 50 steps (Captum internal_batch_size 25)', captum: 'ig50.ibs25', clarus: run(integratedGradients({ nSteps: 50 })) },
    { label: 'Saliency', captum: 'saliency', clarus: run(saliency()) },
    { label: 'Occlusion 3×32×32 / 3×16×16 (Captum perturbations_per_eval 8)', captum: 'occlusion.ppe8', clarus: run(occlusion({ slidingWindowShapes: [3, 32, 32], strides: [3, 16, 16] })) },
    { label: 'Occlusion (Captum perturbations_per_eval 16)', captum: 'occlusion.ppe16', clarus: run(occlusion({ slidingWindowShapes: [3, 32, 32], strides: [3, 16, 16] })) },
    { label: 'FeatureAblation, 196 superpixels (Captum perturbations_per_eval 16)', captum: 'ablation.ppe16', clarus: run(featureAblation(), { featureMask: mask }) },
    { label: 'FeatureAblation (Captum perturbations_per_eval 32)', captum: 'ablation.ppe32', clarus: run(featureAblation(), { featureMask: mask }) },
    { label: 'ShapleyValueSampling, 196 superpixels, 2 samples', captum: 'svs.2', clarus: run(shapleyValueSampling({ nSamples: 2 }), { featureMask: mask, seed: 0 }) },
    { label: 'DeepLift, zero baseline (Captum: a copy with one ReLU module per use)', captum: 'deeplift', clarus: run(deepLift()) },
    { label: 'LayerGradCam on layer4', captum: 'gradcam.layer4', clarus: run(layerGradCam({ layer: '/layer4/layer4.1/relu_1/Relu_output_0' })) },
    { label: 'NoiseTunnel(Saliency), 50 samples', captum: 'smoothgrad50', clarus: run(noiseTunnel(saliency(), { nSamples: 50, stdevs: 0.1 }), { seed: 1 }) },
    { label: 'GradientShap, 50 samples over 4 background images', captum: 'gradientshap50', clarus: run(gradientShap({ nSamples: 50 }), { baselines: background, seed: 1 }) },
  ]
  const only = process.env['CASES']?.split(',')
  const captum = Captum.start()
  const out = [
    '### clarus vs Captum, same run, alternating pairs (resnet18, 1×3×224×224; the reference cnn, 1×3×32×32; the reference mlp, 16×12; ONNX or tfjs on the CPU vs torch CPU, 2 threads each)',
    '',
    `${PAIRS} pairs per row after one warm-up each; ratio = clarus ÷ Captum per pair (below 1: clarus is faster).`,
    '',
    row(['case', 'clarus s (median)', 'Captum s (median)', 'ratio median', 'ratio min–max']),
    row(['---', '---', '---', '---', '---']),
  ]
  try {
    for (const c of cases) {
      if (only !== undefined && !only.includes(c.captum)) continue
      const m = c.model ?? model
      await c.clarus(m)
      await captum.run(c.captum)
      const a: number[] = []
      const b: number[] = []
      for (let k = 0; k < (c.pairs ?? PAIRS); k++) {
        a.push(await seconds(() => c.clarus(m)))
        b.push((await captum.run(c.captum))[0]!)
      }
      const ratios = a.map((v, k) => v / b[k]!)
      out.push(row([c.label, median(a), median(b), median(ratios), `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`]))
      console.error(out[out.length - 1])
    }
  } finally {
    captum.stop()
    await model.dispose()
    await cnn.dispose()
    await mlpOnnx.dispose()
    built.dispose?.()
  }
  // peak RSS of IG with 1000 steps, each library in a fresh process of its own
  if (only === undefined || only.includes('rss')) {
    const clarusRss = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/igLarge.ts'], { encoding: 'utf8', env: { ...process.env, STEPS: '1000' } }).trim().split('\n').pop()!) as { seconds: number; peakRssMiB: number }
    const fresh = Captum.start()
    try {
      const r = await fresh.runWithRss('ig1000.ibs10')
      out.push('', `Peak RSS, IG with 1000 steps on resnet18, each in a fresh process: clarus ${clarusRss.peakRssMiB.toFixed(0)} MiB (${clarusRss.seconds.toFixed(1)} s), ` +
        `Captum (internal_batch_size 10) ${r.peakRssMiB.toFixed(0)} MiB (${r.seconds[0]!.toFixed(1)} s); both include the runtime itself (Node + ONNX Runtime, Python + torch).`)
    } finally {
      fresh.stop()
    }
  }
  return out
}
