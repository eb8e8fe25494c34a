// NoiseTunnel and GradientShap against their definitions, on the reference mlp (ONNX):
// with σ = 0 NoiseTunnel is the wrapped method, vargrad is a variance (≥ 0), and GradientShap with
// one baseline and σ = 0 converges to Integrated Gradients.
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { MLP_CALL_DATA, MLP_METHOD_OPTIONS } from '../helpers/methodOptions.js'
import { METHODS, attribute, float32, gradientShap, integratedGradients, layerGradientShap, layerIntegratedGradients, noiseTunnel, type AttributionResult, type HostTensor, type Model, type Pipeline } from '../../src/index.js'

const REF = fileURLToPath(new URL('../../../shared/reference', import.meta.url))
let mlp: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
})
afterAll(async () => {
  await mlp.dispose()
})

const run = async (p: Pipeline, x: HostTensor, extra: Record<string, unknown> = {}): Promise<AttributionResult> => {
  const r = await attribute(p, mlp, x, { target: 1, seed: 5, ...extra })()
  if (E.isLeft(r)) throw new Error(`${p.name}: ${r.left._tag}: ${r.left.message}`)
  return r.right
}
const values = (r: AttributionResult): number[] => r.attributions.flatMap((t) => Array.from(t.data as Float32Array))

const OPTIONS = MLP_METHOD_OPTIONS
/**
 * Methods whose random draws are made per row (a random point on the path per example and sample):
 * wrapped in NoiseTunnel every copy draws its own point, so the average is a different (larger)
 * sample, not the method's own draw. FeaturePermutation permutes across the batch, and inside
 * NoiseTunnel the batch holds the copies (LayerFeaturePermutation too). The wrapper and the methods that wrap are excluded too.
 */
const NOT_ROW_INDEPENDENT = new Set(['gradientShap', 'inputBaselineXGradient', 'layerGradientShap', 'neuronGradientShap', 'featurePermutation', 'layerFeaturePermutation', 'noiseTunnel'])

const xs = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 24, maxLength: 24 }).map((d) => float32([2, 12], d))

describe('NoiseTunnel with stdevs 0 is the wrapped method', () => {
  for (const name of Object.keys(METHODS).filter((n) => !NOT_ROW_INDEPENDENT.has(n))) {
    it(`${name}: smoothgrad = the method, smoothgrad_sq = its square, vargrad ≈ 0`, async () => {
      await fc.assert(
        fc.asyncProperty(xs, async (x) => {
          const inner = METHODS[name]!.build(OPTIONS[name] ?? {})
          const data = MLP_CALL_DATA[name] ?? {}
          const alone = values(await run(inner, x, data))
          const scale = Math.max(1e-3, ...alone.map(Math.abs))
          const sg = values(await run(noiseTunnel(inner, { nSamples: 3, stdevs: 0 }), x, data))
          sg.forEach((v, i) => expect(Math.abs(v - alone[i]!)).toBeLessThanOrEqual(1e-6 * scale))
          const sq = values(await run(noiseTunnel(inner, { nSamples: 3, stdevs: 0, ntType: 'smoothgrad_sq' }), x, data))
          sq.forEach((v, i) => expect(Math.abs(v - alone[i]! ** 2)).toBeLessThanOrEqual(1e-5 * scale * scale))
          const vg = values(await run(noiseTunnel(inner, { nSamples: 3, stdevs: 0, ntType: 'vargrad' }), x, data))
          vg.forEach((v) => expect(Math.abs(v)).toBeLessThanOrEqual(1e-5 * scale * scale))
        }),
        { seed: 11, numRuns: 2 },
      )
    })
  }
})

describe('NoiseTunnel statistics', () => {
  it('vargrad is a variance: ≥ 0 (up to float32 rounding) and 0 only without noise; smoothgrad_sq ≥ smoothgrad²', async () => {
    await fc.assert(
      fc.asyncProperty(xs, fc.double({ min: 0.05, max: 1, noNaN: true }), async (x, sd) => {
        const ig = integratedGradients({ nSteps: 4 })
        const sg = values(await run(noiseTunnel(ig, { nSamples: 8, stdevs: sd }), x))
        const sq = values(await run(noiseTunnel(ig, { nSamples: 8, stdevs: sd, ntType: 'smoothgrad_sq' }), x))
        const vg = values(await run(noiseTunnel(ig, { nSamples: 8, stdevs: sd, ntType: 'vargrad' }), x))
        vg.forEach((v, i) => {
          const tol = 1e-5 * Math.max(1, sq[i]!)
          expect(v).toBeGreaterThanOrEqual(-tol)
          expect(Math.abs(v - (sq[i]! - sg[i]! ** 2))).toBeLessThanOrEqual(tol)
        })
        expect(vg.some((v) => v > 1e-8)).toBe(true)
      }),
      { seed: 12, numRuns: 4 },
    )
  })
})

describe('GradientShap', () => {
  it('with one baseline and stdevs 0 converges to Integrated Gradients from that baseline', async () => {
    await fc.assert(
      fc.asyncProperty(xs, fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }), async (x, b) => {
        const baseline = float32([1, 12], b)
        const ig = values(await run(integratedGradients({ nSteps: 2000, method: 'riemann_middle' }), x, { baselines: baseline }))
        const errOf = async (n: number): Promise<number> => {
          const gs = values(await run(gradientShap({ nSamples: n }), x, { baselines: baseline }))
          return Math.max(...gs.map((v, i) => Math.abs(v - ig[i]!)))
        }
        const scale = Math.max(1e-3, ...ig.map(Math.abs))
        // a Monte-Carlo estimate: its error shrinks like 1/√n (the mlp's gradients are bounded)
        expect(await errOf(20000)).toBeLessThan(0.05 * scale + 1e-3)
      }),
      { seed: 13, numRuns: 3 },
    )
  })

  it('is seeded: the same seed repeats bit for bit, another seed draws other samples', async () => {
    const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i)))
    const dist = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i) / 2))
    const a = values(await run(gradientShap({ nSamples: 7, stdevs: 0.1 }), x, { baselines: dist }))
    expect(values(await run(gradientShap({ nSamples: 7, stdevs: 0.1 }), x, { baselines: dist }))).toEqual(a)
    const other = values(await run(gradientShap({ nSamples: 7, stdevs: 0.1 }), x, { baselines: dist, seed: 6 }))
    expect(other.some((v, i) => v !== a[i])).toBe(true)
  })

  it('does not depend on the chunking (per-row draws are keyed by the row, not its chunk)', async () => {
    const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(3 * i)))
    const dist = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i) / 2))
    const p = gradientShap({ nSamples: 9, stdevs: 0.2, returnConvergenceDelta: true })
    const whole = await run(p, x, { baselines: dist })
    for (const internalBatchSize of [2, 4, 10]) {
      const chunked = await run(p, x, { baselines: dist, internalBatchSize })
      values(chunked).forEach((v, i) => expect(v).toBeCloseTo(values(whole)[i]!, 5))
      const d = Array.from(chunked.delta!.data as Float32Array)
      expect(d).toHaveLength(18)
      d.forEach((v, i) => expect(v).toBeCloseTo((whole.delta!.data as Float32Array)[i]!, 5))
    }
  })
})

describe('LayerGradientShap', () => {
  it('at an affine layer (fc1, before its ReLU) converges to the mean over the baseline rows of LayerIntegratedGradients', async () => {
    // a(b + α(x − b)) = a(b) + α(a(x) − a(b)) for affine a: the input path is the layer's straight path
    const layer = '/fc1/Gemm_output_0'
    await fc.assert(
      fc.asyncProperty(xs, async (x) => {
        const rows = [0, 1, 2].map((k) => float32([1, 12], Array.from({ length: 12 }, (_, i) => Math.cos(i + 5 * k) / 2)))
        const dist = float32([3, 12], rows.flatMap((r) => Array.from(r.data as Float32Array)))
        const lig = await Promise.all(rows.map(async (b) => values(await run(layerIntegratedGradients({ layer, nSteps: 1000, method: 'riemann_middle' }), x, { baselines: b }))))
        const limit = lig[0]!.map((_, i) => (lig[0]![i]! + lig[1]![i]! + lig[2]![i]!) / 3)
        const lgs = values(await run(layerGradientShap({ layer, nSamples: 20000 }), x, { baselines: dist }))
        const scale = Math.max(1e-3, ...limit.map(Math.abs))
        lgs.forEach((v, i) => expect(Math.abs(v - limit[i]!)).toBeLessThan(0.05 * scale + 1e-3))
      }),
      { seed: 14, numRuns: 2 },
    )
  })
})
