/**
 * `npm run conformance -- <dir> [--backend tfjs|onnx|onnx-webgpu] [--tfjs-backend cpu|wasm|webgpu|…] [--filter REGEX] [--known-gaps FILE]`
 *
 * Runs every case of a Captum reference directory on a backend and closes with
 * `N passed, M failed, G known gaps, K unsupported`. Failures listed in the known-gaps file
 * (default: conformance-known-gaps.json at the repository root; see conformance/knownGaps.ts) print
 * as KNOWN-GAP and leave the exit code alone; a listed case that passes is reported. Exit code 1
 * means a new failure, 2 a usage or input error.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { onnxTarget, onnxWebGpuTarget, tfjsTarget } from '../conformance/targets.js'
import { runConformance } from '../conformance/files.js'
import { gapKeys, gapsFor, KNOWN_GAPS_FILE, parseKnownGaps, statusLabel, summaryLines, verdict, type KnownGapsFile } from '../conformance/knownGaps.js'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')))
const backendName = flag('--backend') ?? 'onnx'
if (dir === undefined || (backendName !== 'onnx' && backendName !== 'onnx-webgpu' && backendName !== 'tfjs')) {
  console.error('usage: npm run conformance -- <reference dir> [--backend tfjs|onnx|onnx-webgpu] [--tfjs-backend cpu|wasm|webgpu] [--filter REGEX] [--known-gaps FILE]')
  process.exit(2)
}
// the default file sits at the repository (package) root, two levels above src/cli or dist/cli; without it no case is a known gap
const givenGaps = flag('--known-gaps')
const gapsPath = givenGaps ?? fileURLToPath(new URL(`../../${KNOWN_GAPS_FILE}`, import.meta.url))
if (givenGaps !== undefined && !existsSync(givenGaps)) {
  console.error(`--known-gaps: ${givenGaps} does not exist`)
  process.exit(2)
}
const parsedGaps = existsSync(gapsPath) ? parseKnownGaps(readFileSync(gapsPath, 'utf8'), gapsPath) : E.right<never, KnownGapsFile>({})
if (E.isLeft(parsedGaps)) {
  console.error(parsedGaps.left.message)
  process.exit(2)
}
const gapFile = parsedGaps.right
const gaps = gapsFor(gapFile, gapKeys(backendName, backendName === 'tfjs' ? flag('--tfjs-backend') ?? 'cpu' : undefined))
if (backendName === 'tfjs') {
  const tf = await import('@tensorflow/tfjs-core')
  await import('@tensorflow/tfjs-backend-cpu')
  const which = flag('--tfjs-backend') ?? 'cpu'
  if (which === 'wasm') await import('@tensorflow/tfjs-backend-wasm')
  if (which === 'webgpu') {
    // Node set-up (navigator.gpu from the webgpu package), registration and gradients, as a user gets them
    const { useWebGpu } = await import('../backends/tfjs/index.js')
    const gpu = await useWebGpu()
    if (E.isLeft(gpu)) {
      console.error(`tfjs backend webgpu is not available here: ${gpu.left.message}`)
      process.exit(2)
    }
    console.log(`webgpu adapter: ${Object.values(gpu.right.adapter).filter((v) => v !== '').join(', ') || '(no description)'}`)
  } else if (!(await tf.setBackend(which))) {
    console.error(`tfjs backend ${which} is not available here (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`)
    process.exit(2)
  }
}
const filter = flag('--filter')
const options = { ...(filter ? { filter: new RegExp(filter) } : {}), log: (l: string) => console.log(l), label: (r: { id: string; status: 'pass' | 'fail' | 'unsupported' }) => statusLabel(r, gaps) }
const report = backendName === 'tfjs' ? await runConformance(dir, tfjsTarget, options) : await runConformance(dir, backendName === 'onnx-webgpu' ? onnxWebGpuTarget : onnxTarget, options)
if (E.isLeft(report)) {
  console.error(`${report.left._tag}: ${report.left.message}`)
  process.exit(2)
}
const r = report.right
const v = verdict(r, gaps)
for (const line of summaryLines(r, v, gapsPath)) console.log(line)
process.exit(v.exitCode)
