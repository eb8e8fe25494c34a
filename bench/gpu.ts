// npm run bench -- gpu: the resnet18 cases of Captum's GPU timings (IG 50 and 2990 steps, Occlusion,
// FeatureAblation) with fromOnnx(model, { device: 'webgpu' }), next to the CPU provider in the same
// process and next to Captum on CUDA (../shared/reference/captum-timings.json, an H100). It needs a
// hardware WebGPU adapter: on a software one (lavapipe, SwiftShader) it reports the adapter and skips,
// since those times would mean nothing; CLARUS_BENCH_GPU=force runs it anyway (the code path, slowly;
// CLARUS_BENCH_GPU_ONLY=<regex of case labels> picks cases).
// Peak GPU memory comes from nvidia-smi, sampled every 20 ms during each timed run, where it exists.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { attribute, featureAblation, float32, int64, integratedGradients, occlusion, type HostTensor, type Model } from '../src/index.js'
import { median, relativeError, row, unwrap } from './util.js'

interface Adapter {
  readonly description: string
  readonly software: boolean
}

/** The part of Dawn's WebGPU API read here. */
interface AdapterInfo { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string; readonly isFallbackAdapter?: boolean }
interface Dawn { create(options: string[]): { requestAdapter(): Promise<{ readonly info: AdapterInfo } | null> } }

/** The first WebGPU adapter Dawn (the `webgpu` package, the same Dawn ONNX Runtime links) finds, or why none. */
const findAdapter = async (): Promise<Adapter | string> => {
  let dawn: Dawn
  try {
    dawn = (await import('webgpu')) as unknown as Dawn
  } catch {
    return 'the webgpu package (Dawn for Node) is not installed, so the adapter cannot be named'
  }
  const adapter = await dawn.create([]).requestAdapter()
  if (adapter === null) return 'no WebGPU adapter (install the GPU vendor\'s Vulkan driver; vulkaninfo --summary lists what the loader sees)'
  const info = adapter.info
  const description = [info.vendor, info.architecture, info.device, info.description].filter((s) => s !== '').join(' / ')
  const software = info.isFallbackAdapter === true || /software|llvmpipe|lavapipe|swiftshader/i.test(description)
  return { description, software }
}

/** Peak `memory.used` (MiB) nvidia-smi reports while `f` runs, or undefined without nvidia-smi. */
const withGpuMemory = async <A>(f: () => Promise<A>): Promise<{ readonly value: A; readonly peakMiB: number | undefined }> => {
  if (spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status !== 0) return { value: await f(), peakMiB: undefined }
  const smi = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '20'])
  let peak = 0
  smi.stdout.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.trim() !== '') peak = Math.max(peak, Number(l.trim().split(',')[0]))
  })
  try {
    const value = await f()
    await new Promise((r) => setTimeout(r, 60))
    return { value, peakMiB: peak }
  } finally {
    smi.kill()
  }
}

interface Case {
  readonly label: string
  /** The key in captum-timings.json's gpu.summary_median_s. */
  readonly captum: string
  readonly run: (m: Model<HostTensor>) => Promise<HostTensor>
  /** Timed runs per device (after one warm-up). */
  readonly repeats: number
}

const timed = async (run: () => Promise<HostTensor>, repeats: number): Promise<{ readonly s: number; readonly out: HostTensor }> => {
  let out = await run()
  const ts: number[] = []
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now()
    out = await run()
    ts.push((performance.now() - t0) / 1000)
  }
  return { s: median(ts), out }
}

export const benchGpu = async (): Promise<string[]> => {
  const lines = ['### WebGPU (ONNX Runtime WebGPU provider) vs the CPU provider vs Captum on CUDA, resnet18, 1×3×224×224']
  const adapter = await findAdapter()
  if (typeof adapter === 'string') return [...lines, `skipped: ${adapter}`]
  lines.push(`adapter: ${adapter.description}${adapter.software ? ' (software)' : ''}`)
  if (adapter.software && process.env['CLARUS_BENCH_GPU'] !== 'force') {
    return [...lines, 'software adapter: skipped, times would mean nothing (CLARUS_BENCH_GPU=force runs it anyway)']
  }
  const file = path.resolve('../shared/reference/models/resnet18.onnx')
  const captum = (JSON.parse(readFileSync(path.resolve('../shared/reference/captum-timings.json'), 'utf8')) as { gpu?: { setup?: { gpu?: string }; summary_median_s?: Record<string, number | string> } }).gpu
  const gpu = unwrap(await fromOnnx(file, { device: 'webgpu' }))
  const cpu = unwrap(await fromOnnx(file, { session: { intraOpNumThreads: os.cpus().length } }))
  const data = new Float32Array(3 * 224 * 224)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000
  const x = float32([1, 3, 224, 224], data)
  const mask = int64([1, 1, 224, 224], Array.from({ length: 224 * 224 }, (_, p) => Math.floor(Math.floor(p / 224) / 16) * 14 + Math.floor((p % 224) / 16)))
  const target = 3
  const at = (p: Parameters<typeof attribute>[0], o: Parameters<typeof attribute<HostTensor>>[3] = {}) => async (m: Model<HostTensor>): Promise<HostTensor> =>
    unwrap(await attribute(p, m, x, { target, ...o })()).attributions[0]!
  const quick = process.env['CLARUS_BENCH_GPU'] === 'force' && adapter.software
  // CLARUS_BENCH_GPU_ONLY=<regex> runs the cases whose label matches (e.g. 'IG, 50' to check the path on lavapipe)
  const only = process.env['CLARUS_BENCH_GPU_ONLY'] !== undefined ? new RegExp(process.env['CLARUS_BENCH_GPU_ONLY']) : undefined
  const cases: Case[] = [
    { label: 'IG, 50 steps', captum: 'IntegratedGradients n_steps=50, internal_batch_size=None', run: at(integratedGradients({ nSteps: 50 })), repeats: quick ? 1 : 5 },
    { label: 'IG, 2990 steps', captum: 'IntegratedGradients n_steps=2990, internal_batch_size=500', run: at(integratedGradients({ nSteps: 2990 })), repeats: 1 },
    { label: 'Occlusion 3×32×32 / 3×16×16', captum: 'Occlusion window (3,32,32) stride (3,16,16), perturbations_per_eval=8', run: at(occlusion({ slidingWindowShapes: [3, 32, 32], strides: [3, 16, 16] })), repeats: quick ? 1 : 3 },
    { label: 'FeatureAblation, 196 superpixels', captum: 'FeatureAblation 16x16 superpixels (196 features), perturbations_per_eval=16', run: at(featureAblation(), { featureMask: mask }), repeats: quick ? 1 : 3 },
  ]
  lines.push('', `| case | WebGPU s | CPU provider s (${os.cpus().length} threads) | WebGPU ÷ CPU | Captum CUDA s (${captum?.setup?.gpu ?? 'GPU'}) | WebGPU ÷ Captum | peak GPU MiB | ‖WebGPU − CPU‖ / ‖CPU‖ |`, '|---|---|---|---|---|---|---|---|')
  try {
    for (const c of cases.filter((k) => (only === undefined || only.test(k.label)) && !(quick && k.label.includes('2990')))) {
      const g = await withGpuMemory(() => timed(() => c.run(gpu), c.repeats))
      const h = await timed(() => c.run(cpu), c.repeats)
      const ref = captum?.summary_median_s?.[c.captum]
      const refS = typeof ref === 'number' ? ref : undefined
      lines.push(row([c.label, g.value.s, h.s, g.value.s / h.s, refS ?? '–', refS !== undefined ? g.value.s / refS : '–', g.peakMiB ?? 'n/a', relativeError(g.value.out.data as Float32Array, h.out.data as Float32Array)]))
      console.error(lines.at(-1))
    }
  } finally {
    await gpu.dispose()
    await cpu.dispose()
  }
  lines.push('', 'Median of the timed runs after one warm-up (session creation and shader compilation excluded); the 2990-step row is one run. Peak GPU memory is the whole device\'s memory.used (nvidia-smi), other processes included.')
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchGpu()).join('\n'))
