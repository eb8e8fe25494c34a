// verify's call contract: typed errors for bad calls, the report's text and HTML forms (every piece
// of user text escaped), unclaimed axioms on request, and a layer method's dummy on its neurons.
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { htmlReport } from '../../../src/viz/index.js'
import { float32, formatVerifyReport, integratedGradients, verify, verifyReportSection, type HostTensor, type Model, type VerifyReport } from '../../../src/index.js'

const REF = fileURLToPath(new URL('../../../../shared/reference', import.meta.url))
let onnx: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  onnx = m.right
})
afterAll(async () => {
  await onnx.dispose()
})

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.cos(3 * i)))
const report = async (r: TE.TaskEither<{ message: string }, VerifyReport>): Promise<VerifyReport> => {
  const v = await r()
  if (E.isLeft(v)) throw new Error(v.left.message)
  return v.right
}

describe('verify: bad calls are typed errors that say what to do', () => {
  it('an unknown method, a missing target, mismatched baselines, a bad numRuns', async () => {
    const tag = async (r: TE.TaskEither<{ _tag: string; message: string }, unknown>): Promise<string> => {
      const v = await r()
      return E.isLeft(v) ? `${v.left._tag}: ${v.left.message}` : 'ok'
    }
    expect(await tag(verify(onnx, 'integratedGradient', { inputs: x, target: 0 }))).toMatch(/^InvalidSpec: .*"integratedGradient" is not a key of METHODS/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x }))).toMatch(/^BadTarget: the model gives 3 outputs per example: pass target/)
    expect(await tag(verify(onnx, 'integratedGradients', { inputs: x, target: 0, baselines: float32([2, 5], new Float32Array(10)) }))).toMatch(/^BadBaseline: baselines.0 has 5 scalars per example, input 0 has 12/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x, target: 0, numRuns: 0 }))).toMatch(/^InvalidSpec: .*numRuns must be a positive integer/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x, target: 0, numRuns: 1e12 }))).toMatch(/^InvalidSpec: .*at most 10000/)
    expect(await tag(verify(onnx, { method: 'integratedGradients', options: { nSteps: -1 } }, { inputs: x, target: 0 }))).toMatch(/^InvalidSpec/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x, target: 7 }))).toMatch(/^BadTarget: target 7 is out of range: the model gives 3 outputs per example/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x, target: 1.5 }))).toMatch(/^BadTarget: target must be an output column index/)
    expect(await tag(verify(onnx, 'saliency', { inputs: x, target: 0, tolerance: { dummy: -1 } }))).toMatch(/^InvalidSpec: .*a tolerance is a number ≥ 0, got -1/)
  })
})

describe('verify: reports', () => {
  it('checks unclaimed axioms on request and marks them; one-row baselines serve every example', async () => {
    const r = await report(verify(onnx, 'saliency', { inputs: x, target: 2, baselines: float32([1, 12], new Float32Array(12).fill(0.1)), axioms: ['dummy', 'completeness'], numRuns: 2 }))
    expect(r.checks.map((c) => [c.axiom, c.claimed, c.status])).toEqual([['dummy', true, 'holds'], ['completeness', false, 'fails']])
    expect(r.ok).toBe(false)
    const text = formatVerifyReport(r)
    expect(text.split('\n')[0]).toBe('verify saliency on host: some axioms FAIL (claims: implementationInvariance, dummy; radius 0.1, seed 0)')
    expect(text).toContain('  holds  dummy: worst error 0 (tolerance 0.001, 2 runs)')
    expect(text).toContain('  FAILS  completeness (not claimed): worst error ')
  })

  it('the same seed gives the same report; another seed draws other samples', async () => {
    const run = (seed: number) => report(verify(onnx, 'integratedGradients', { inputs: x, target: 0, seed, numRuns: 3, axioms: ['linearity'] }))
    const [a, b, c] = [await run(4), await run(4), await run(5)]
    expect(a).toEqual(b)
    expect(a.checks[0]!.worstError).not.toBe(c.checks[0]!.worstError)
  })

  it('a layer method is checked for dummy on its layer neurons; LayerActivation (not about the output) fails it', async () => {
    const layer = '/relu1/Relu_output_0'
    const ok = await report(verify(onnx, { method: 'layerFeatureAblation', options: { layer } }, { inputs: x, target: 0, numRuns: 3 }))
    expect(ok.checks.map((c) => c.status)).toEqual(['holds'])
    const bad = await report(verify(onnx, { method: 'layerActivation', options: { layer } }, { inputs: x, target: 0, numRuns: 3, axioms: ['dummy', 'symmetry'] }))
    expect(bad.checks.map((c) => c.status)).toEqual(['fails', 'notApplicable'])
    expect(bad.checks[0]!.counterexample!.where).toMatch(new RegExp(`^neuron \\d+ of ${layer} of example \\d: attribution `))
  })

  it('a method that errors on the models an axiom builds is reported as an error, not as a failure', async () => {
    const picky = {
      name: 'OnlyTheOriginal',
      claims: ['implementationInvariance', 'dummy'] as const,
      explain: (model: Model<HostTensor>, inputs: readonly HostTensor[]) =>
        model === onnx ? TE.right(inputs) : TE.left({ _tag: 'Unsupported' as const, message: 'runs on the original model only', path: [] }),
    }
    const r = await report(verify(onnx, picky, { inputs: x, target: 0, numRuns: 2 }))
    expect(r.checks.map((c) => [c.status, c.reason])).toEqual([['error', 'Unsupported: runs on the original model only'], ['error', 'Unsupported: runs on the original model only']])
    expect(r.ok).toBe(false)
    expect(formatVerifyReport(r)).toContain('  ERROR  implementationInvariance: Unsupported: runs on the original model only')
  })

  it('as an HTML section: every piece of user text is escaped', async () => {
    const evil = '<img src=x onerror="alert(1)">'
    const r = await report(verify(onnx, { pipeline: { ...integratedGradients({ nSteps: 4 }), name: evil }, claims: ['completeness'] }, { inputs: x, target: 0, numRuns: 2 }))
    expect(r.method).toBe(evil)
    const section = verifyReportSection(r)
    expect(section.facts![0]![0]).toBe('completeness')
    expect(section.facts![0]![1]).toMatch(/^FAILS: worst error /)
    const html = htmlReport('axioms', [section])
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;')
  })
})
