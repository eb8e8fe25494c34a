// clarus and real Captum in the same run, alternating (A B A B …) so both see the same machine load:
// `npm run bench -- captum`. Captum runs in a Python process (bench/captum_server.py, Debian's
// python3-torch and python3-torchvision, Captum's source from CAPTUM_SRC, default /tmp/captum); each
// pair times one clarus call and one Captum call of the same computation on the reference resnet18
// and image, and the table gives the median of the per-pair ratios with their min–max.
// Optional: never part of the test suite. Without Python, torch or Captum it says what is missing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { fromOnnx } from '../src/backends/onnx/index.js'
import type { Model } from '../src/core/backend.js'
import type { HostTensor } from '../src/core/tensor.js'
import {
  adaptiveIntegratedGradients, attribute, deepLift, featureAblation, float32, gradientShap, int64, integratedGradients, layerGradCam, noiseTunnel, occlusion, saliency, shapleyValueSampling,
} from '../src/index.js'
import { median, row, unwrap } from './util.js'

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
    this.proc.stdin.write(JSON.stringify({ case: name, repeats }) + '\n')
    const next = await this.lines.next()
    if (next.done === true) throw new Error('the Captum process ended (is torch, torchvision and Captum available? see bench/captum_server.py)')
    const r = JSON.parse(next.value) as { seconds?: number[]; error?: string }
    if (r.error !== undefined || r.seconds === undefined) throw new Error(`Captum ${name}: ${r.error ?? 'no answer'}`)
    return r.seconds
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
  // time to accuracy: the completeness error of the 50-step Gauss–Legendre result (Captum's and
  // clarus's agree), reached by adaptiveIntegratedGradients; Captum reaches it by running its 50 steps
  const fixed = unwrap(await attribute(integratedGradients({ nSteps: 50, returnConvergenceDelta: true }), model, x, { target })())
  // a delta of exactly 0 (float32 cancellation) cannot be a tolerance: 1e-6 stands in for it
  const tolerance = Math.max(1e-6, Math.abs(Number(fixed.delta!.data[0])))
  let adaptivePasses = 0
  const adaptive = async (m: Model<HostTensor>): Promise<unknown> => {
    const r = unwrap(await adaptiveIntegratedGradients(m, x, { target }, { tolerance, maxSteps: 256 })())
    adaptivePasses = r.passes[0] ?? 0
    return r
  }
  const cases: Case[] = [
    { label: 'IG, 50 steps (Captum internal_batch_size None)', captum: 'ig50', clarus: run(integratedGradients({ nSteps: 50 })) },
    {
      label: `IG to the 50-step completeness error (${tolerance.toExponential(2)}): clarus adaptive vs Captum's 50 steps (internal_batch_size 10)`,
      captum: 'ig50.ibs10',
      clarus: adaptive,
    },
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
    '### clarus vs Captum, same run, alternating pairs (resnet18, 1×3×224×224, ONNX CPU vs torch CPU, 2 threads each)',
    '',
    `${PAIRS} pairs per row after one warm-up each; ratio = clarus ÷ Captum per pair (below 1: clarus is faster).`,
    '',
    row(['case', 'clarus s (median)', 'Captum s (median)', 'ratio median', 'ratio min–max']),
    row(['---', '---', '---', '---', '---']),
  ]
  try {
    for (const c of cases) {
      if (only !== undefined && !only.includes(c.captum)) continue
      await c.clarus(model)
      await captum.run(c.captum)
      const a: number[] = []
      const b: number[] = []
      for (let k = 0; k < PAIRS; k++) {
        a.push(await seconds(() => c.clarus(model)))
        b.push((await captum.run(c.captum))[0]!)
      }
      const ratios = a.map((v, k) => v / b[k]!)
      const label = c.clarus === adaptive ? `${c.label}; clarus used ${adaptivePasses} gradients` : c.label
      out.push(row([label, median(a), median(b), median(ratios), `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`]))
      console.error(out[out.length - 1])
    }
  } finally {
    captum.stop()
    await model.dispose()
  }
  return out
}
