/**
 * `npm run conformance -- <dir> [--backend tfjs|onnx] [--tfjs-backend cpu|wasm|…] [--filter REGEX]`
 *
 * Runs every case of a Captum reference directory on a backend and closes with
 * `N passed, M failed, K unsupported`. Exits non-zero when a case fails.
 */
import * as E from 'fp-ts/lib/Either.js'
import { onnxTarget, tfjsTarget } from '../conformance/targets.js'
import { runConformance } from '../conformance/runner.js'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')))
const backendName = flag('--backend') ?? 'onnx'
if (dir === undefined || (backendName !== 'onnx' && backendName !== 'tfjs')) {
  console.error('usage: npm run conformance -- <reference dir> [--backend tfjs|onnx] [--filter REGEX]')
  process.exit(2)
}
if (backendName === 'tfjs') {
  const tf = await import('@tensorflow/tfjs-core')
  await import('@tensorflow/tfjs-backend-cpu')
  const which = flag('--tfjs-backend') ?? 'cpu'
  if (which === 'wasm') await import('@tensorflow/tfjs-backend-wasm')
  if (!(await tf.setBackend(which))) {
    console.error(`tfjs backend ${which} is not available here (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`)
    process.exit(2)
  }
}
const filter = flag('--filter')
const options = { ...(filter ? { filter: new RegExp(filter) } : {}), log: (l: string) => console.log(l) }
const report = backendName === 'tfjs' ? await runConformance(dir, tfjsTarget, options) : await runConformance(dir, onnxTarget, options)
if (E.isLeft(report)) {
  console.error(`${report.left._tag}: ${report.left.message}`)
  process.exit(2)
}
const r = report.right
console.log(`${r.passed} passed, ${r.failed} failed, ${r.unsupported} unsupported`)
process.exit(r.failed > 0 ? 1 : 0)
