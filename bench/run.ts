// npm run bench [-- tfjs|onnx|deeplift|perturbation|adaptive|captum|profile|small|scale|gpu|ig2990|all]: runs the benchmarks and writes bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import * as os from 'node:os'
import { benchAdaptiveIg } from './adaptiveIg.js'
import { benchCaptumSideBySide } from './captumSideBySide.js'
import { benchDeepLiftOnly, benchOnnx } from './onnx.js'
import { benchGpu } from './gpu.js'
import { benchOrtProfile } from './ortProfile.js'
import { benchPerturbation } from './perturbation.js'
import { benchScale } from './scale.js'
import { benchSmallModel } from './smallModel.js'
import { benchTfjs } from './tfjs.js'

const what = process.argv[2] ?? 'all'
const out: string[] = [`# clarus benchmarks`, '', `${new Date().toISOString()} · Node ${process.version} · ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`, '']
if (what === 'tfjs' || what === 'all') out.push(...(await benchTfjs()), '')
if (what === 'onnx' || what === 'all') out.push(...(await benchOnnx()), '')
if (what === 'perturbation' || what === 'all') out.push(...(await benchPerturbation()), '')
if (what === 'deeplift') out.push(...(await benchDeepLiftOnly()), '')
if (what === 'adaptive' || what === 'all') out.push(...(await benchAdaptiveIg()), '')
if (what === 'captum' || what === 'all') out.push(...(await benchCaptumSideBySide()), '')
if (what === 'profile' || what === 'all') out.push(...(await benchOrtProfile()), '')
if (what === 'small' || what === 'all') out.push(...(await benchSmallModel()), '')
if (what === 'scale' || what === 'all') out.push(...(await benchScale()), '')
// WebGPU on a hardware adapter only (a software one is named and skipped; CLARUS_BENCH_GPU=force runs it)
if (what === 'gpu' || what === 'all') out.push(...(await benchGpu()), '')
if (what === 'ig2990' || what === 'all') {
  // its own process, so the peak RSS belongs to this run alone
  const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/igLarge.ts'], { encoding: 'utf8' }).trim().split('\n').pop()!) as { seconds: number; peakRssMiB: number; chunks: number; delta: number }
  out.push('### IntegratedGradients, 2990 steps, resnet18, 1×3×224×224', `${r.seconds.toFixed(1)} s, ${r.chunks} chunks, peak RSS ${r.peakRssMiB.toFixed(0)} MiB (goal < 2048), completeness delta ${r.delta.toExponential(2)}`, '')
}
const text = out.join('\n')
console.log(text)
if (what === 'all') writeFileSync('bench/RESULTS.md', text + '\n')
