// Time to accuracy for Integrated Gradients (issue 20): the completeness error Captum's default
// (Gauss–Legendre, 50 steps) reaches on one input, and what adaptiveIntegratedGradients needs for the
// same error — gradients per example and seconds — on the reference cnn and resnet18 (ONNX, CPU).
// clarus's 50-step Gauss–Legendre IG reproduces Captum's (the conformance cases), so its error is
// Captum's error and 50 passes is Captum's pass count for it.
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import type { HostTensor } from '../src/core/tensor.js'
import { adaptiveIntegratedGradients, attribute, float32, integratedGradients } from '../src/index.js'
import { relativeError, row, time, unwrap } from './util.js'

const ref = path.resolve('../shared/reference')

const input = (shape: readonly number[], salt: number): HostTensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  return float32(shape, Float32Array.from({ length: n }, (_, i) => (((i + salt) * 2654435761) % 1000) / 1000))
}

const one = async (name: string, file: string, x: HostTensor, target: number): Promise<string[]> => {
  const model = unwrap(await fromOnnx(path.join(ref, 'models', file), { session: { intraOpNumThreads: 2 } }))
  try {
    let gl = unwrap(await attribute(integratedGradients({ nSteps: 50, returnConvergenceDelta: true }), model, x, { target })())
    const tGl = await time(async () => {
      gl = unwrap(await attribute(integratedGradients({ nSteps: 50, returnConvergenceDelta: true }), model, x, { target })())
    }, 3)
    // a delta of exactly 0 (float32 cancellation) cannot be a tolerance: 1e-6 stands in for it
    const eps = Math.max(1e-6, Math.abs(Number(gl.delta!.data[0])))
    // attribution error against 300 Gauss–Legendre steps (relative L2)
    const ref = unwrap(await attribute(integratedGradients({ nSteps: 300 }), model, x, { target })()).attributions[0]!.data as Float32Array
    const relErr = (a: HostTensor): string => relativeError(a.data as Float32Array, ref)
    const rows = [row([`${name}: Gauss–Legendre IG, 50 steps (Captum's default rule)`, tGl, `50 gradients, completeness error ${eps.toExponential(2)}, attribution error ${relErr(gl.attributions[0]!)}`])]
    for (const rule of ['gaussKronrod', 'simpson', 'trapezoid'] as const) {
      let r = unwrap(await adaptiveIntegratedGradients(model, x, { target }, { tolerance: eps, maxSteps: 400, rule })())
      const tAd = await time(async () => {
        r = unwrap(await adaptiveIntegratedGradients(model, x, { target }, { tolerance: eps, maxSteps: 400, rule })())
      }, 3)
      const p = r.passes[0]!
      rows.push(row([`${name}: adaptiveIntegratedGradients (${rule}) to the same error`, tAd,
        `${p} gradients (${(p / 50).toFixed(2)}× the passes), error ${Math.abs(r.delta.data[0]!).toExponential(2)}${r.converged[0] ? '' : ' (not reached within 400)'}, attribution error ${relErr(r.attributions[0]!)}, ${(tAd / tGl).toFixed(2)}× the time`]))
    }
    return rows
  } finally {
    await model.dispose()
  }
}

export const benchAdaptiveIg = async (): Promise<string[]> => [
  '### Integrated Gradients: time to Captum\'s 50-step accuracy (ONNX, CPU, one input)',
  '',
  '| case | seconds | notes |',
  '|---|---|---|',
  ...(await one('cnn', 'cnn.onnx', input([1, 3, 32, 32], 7), 2)),
  ...(await one('resnet18', 'resnet18.onnx', input([1, 3, 224, 224], 0), 3)),
]
