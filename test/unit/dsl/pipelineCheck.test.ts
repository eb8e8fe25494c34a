// The abstract check: pipelines that cannot run are rejected before any model call, naming the
// stage and what it lacks; `attribute` decodes its method before reading it and never rejects.
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import {
  ClarusError,
  attribute,
  decodePipeline,
  featureAblation,
  float32,
  inputXGradient,
  integratedGradients,
  pipeline,
  saliency,
  stage,
  type HostTensor,
  type Model,
  type Pipeline,
  type StageSpec,
} from '../../../src/index.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

let mlp: Model<HostTensor>
let calls = 0
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  const inner = m.right
  // Counts model calls, to show that a rejected pipeline never reaches the model.
  mlp = {
    ...inner,
    forward: (xs, o) => {
      calls++
      return inner.forward(xs, o)
    },
    vjp: (xs, s, o) => {
      calls++
      return inner.vjp(xs, s, o)
    },
  }
})
afterAll(async () => mlp.dispose())

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
const spec = (...stages: readonly unknown[]): unknown => ({ _tag: 'Pipeline', name: 'p', stages })

describe('attribute decodes its method first', () => {
  it.each([
    ['false', false],
    ['null', null],
    ['stages: [null]', spec(null)],
    ["stages: [{ _tag: 'perturb' }]", spec({ _tag: 'perturb' })],
    ['stages: "grad"', { _tag: 'Pipeline', name: 'p', stages: 'grad' }],
  ])('%s is a typed InvalidSpec, not a rejected promise', async (_name, u) => {
    const r = await attribute(u as Pipeline, mlp, x, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })
})

describe('meaningless pipelines are BadPipeline before any model call', () => {
  const cases: readonly [string, unknown, RegExp, string][] = [
    ['no stages', spec(), /no stages/, 'stages'],
    ['grad ∘ grad', spec({ _tag: 'grad' }, { _tag: 'grad' }), /stage 1 \(grad\).*needs model inputs.*per-element values/, 'stages.1'],
    ['interpolate ∘ quadrature', spec({ _tag: 'interpolate', nSteps: 4, method: 'gausslegendre' }, { _tag: 'quadrature' }), /stage 1 \(quadrature\).*put grad before it/, 'stages.1'],
    ['reference ∘ perturb ∘ diff', spec({ _tag: 'reference' }, { _tag: 'perturb', features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }, { _tag: 'diff', average: false }), /stage 2 \(diff\).*put forward before it/, 'stages.2'],
    ['a lone completenessDelta', spec({ _tag: 'completenessDelta' }), /stage 0 \(completenessDelta\)/, 'stages.0'],
    ['a lone reference', spec({ _tag: 'reference' }), /ends with model inputs/, 'stages.0'],
    ['perturb without reference', spec({ _tag: 'perturb', features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }, { _tag: 'forward' }, { _tag: 'diff', average: false }), /slot 'reference'/, 'stages.0'],
    ['scaleByDelta after a layer gradient', spec({ _tag: 'grad', layer: '/fc1/Gemm_output_0' }, { _tag: 'scaleByDelta' }), /slot 'anchorBaseline'/, 'stages.1'],
    ['perturbation inside a path', spec({ _tag: 'interpolate', nSteps: 2, method: 'riemann_left' }, { _tag: 'reference' }, { _tag: 'perturb', features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }, { _tag: 'forward' }, { _tag: 'diff', average: false }, { _tag: 'quadrature' }), /stage 1 \(reference\).*before any expansion/, 'stages.1'],
  ]
  it.each(cases)('%s', async (_name, u, message, at) => {
    const d = decodePipeline(u)
    expect(E.isLeft(d) && d.left._tag).toBe('BadPipeline')
    expect(E.isLeft(d) && d.left.message).toMatch(message)
    expect(E.isLeft(d) && d.left.path.join('.')).toBe(at)
    const before = calls
    const r = await attribute(u as Pipeline, mlp, x, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('BadPipeline')
    expect(calls).toBe(before)
    expect(() => pipeline('p', ...((u as { stages: StageSpec[] }).stages))).toThrow(ClarusError)
  })
})

describe('compositions the old interpreter got wrong', () => {
  it('Taylor = grad ∘ scaleByDelta runs with baselines (the stages declare them), and equals (x − x′) ⊙ ∂F/∂x', async () => {
    const taylor = pipeline('Taylor', stage.grad(), stage.scaleByDelta())
    const zero = await attribute(taylor, mlp, x, { target: 1, baselines: 0 })()
    const ixg = await attribute(inputXGradient(), mlp, x, { target: 1 })()
    if (E.isLeft(zero) || E.isLeft(ixg)) throw new Error('expected results')
    expect(Array.from(zero.right.attributions[0]!.data as Float32Array)).toEqual(Array.from(ixg.right.attributions[0]!.data as Float32Array))
    const one = await attribute(taylor, mlp, x, { target: 1, baselines: 1 })()
    const sal = await attribute(pipeline('grad', stage.grad()), mlp, x, { target: 1 })()
    if (E.isLeft(one) || E.isLeft(sal)) throw new Error('expected results')
    const g = sal.right.attributions[0]!.data as Float32Array
    const got = one.right.attributions[0]!.data as Float32Array
    for (let i = 0; i < 24; i++) expect(got[i]).toBeCloseTo(g[i]! * ((x.data[i] as number) - 1), 6)
  })

  it('a completeness delta inside a nested expansion is a typed error naming the reducer that would drop it', () => {
    const nested = spec(
      { _tag: 'interpolate', nSteps: 3, method: 'gausslegendre' },
      { _tag: 'interpolate', nSteps: 3, method: 'gausslegendre' },
      { _tag: 'grad' },
      { _tag: 'quadrature' },
      { _tag: 'scaleByDelta' },
      { _tag: 'completenessDelta' },
      { _tag: 'quadrature' },
    )
    const d = decodePipeline(nested)
    expect(E.isLeft(d) && d.left._tag).toBe('BadPipeline')
    expect(E.isLeft(d) && d.left.message).toMatch(/stage 6 \(quadrature\).*opened at stage 0.*move completenessDelta after stage 6/)
  })

  it('a perturbation method inside a path: spliced, a typed error that points to apply; wrapped in apply, it runs on the path points', async () => {
    const spliced = spec(
      { _tag: 'interpolate', nSteps: 4, method: 'riemann_middle' },
      ...featureAblation().stages,
      { _tag: 'quadrature' },
    )
    const d = decodePipeline(spliced)
    expect(E.isLeft(d) && d.left._tag).toBe('BadPipeline')
    expect(E.isLeft(d) && d.left.message).toMatch(/stage 1 \(reference\).*apply/)
    // "integrated ablation": FeatureAblation at every point of the path, integrated
    const wrapped = pipeline('IntegratedAblation', stage.interpolate({ nSteps: 4, method: 'riemann_middle' }), stage.apply(featureAblation()), stage.quadrature())
    const r = await attribute(wrapped, mlp, x, { target: 0, baselines: 0 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    // at every path point α·x the ablation baseline is the path's own baseline, 0: the mean over
    // the 4 midpoints of F(αx) − F(αx with feature j at 0)
    const direct: number[][] = []
    for (const a of [0.125, 0.375, 0.625, 0.875]) {
      const scaled = float32([2, 12], Array.from(x.data as Float32Array, (v) => Math.fround(a * v)))
      const fa = await attribute(featureAblation(), mlp, scaled, { target: 0, baselines: 0 })()
      if (E.isLeft(fa)) throw new Error(fa.left.message)
      direct.push(Array.from(fa.right.attributions[0]!.data as Float32Array))
    }
    const got = Array.from(r.right.attributions[0]!.data as Float32Array)
    got.forEach((v, i) => expect(v).toBeCloseTo(direct.reduce((s, d) => s + d[i]!, 0) / 4, 5))
  })

  it('every pipeline the library builds type-checks', () => {
    expect(E.isRight(decodePipeline(integratedGradients({ returnConvergenceDelta: true })))).toBe(true)
  })
})

describe('attribute never rejects, whatever the spec', () => {
  const tags = ['interpolate', 'grad', 'quadrature', 'scaleByDelta', 'multiplyByInputs', 'abs', 'completenessDelta', 'layerEndpoints', 'activation', 'reference', 'perturb', 'forward', 'diff', 'marginals', 'linearFit',
    'noise', 'sampleMean', 'apply', 'randomPoint', 'scaleByLayerDelta', 'bogus']
  const stageLike = fc.oneof(
    fc.constantFrom(...tags).map((t) => ({ _tag: t })),
    fc.record({ _tag: fc.constant('interpolate'), nSteps: fc.oneof(fc.integer({ min: -3, max: 8 }), fc.constant(2147483648), fc.constant(Number.NaN)), method: fc.constantFrom('gausslegendre', 'riemann_left', 'simpson') }),
    fc.record({ _tag: fc.constant('grad'), layer: fc.constantFrom('/fc1/Gemm_output_0', 'nope'), inject: fc.boolean() }),
    fc.record({ _tag: fc.constant('perturb'), features: fc.constant({ _tag: 'masks' }), design: fc.constantFrom({ _tag: 'ablation', replaceWith: 'baseline' }, { _tag: 'shapleyExact' }) }),
    fc.record({ _tag: fc.constant('diff'), average: fc.boolean() }),
    fc.record({ _tag: fc.constant('noise'), nSamples: fc.integer({ min: -1, max: 3 }), stdevs: fc.oneof(fc.double({ min: -1, max: 1 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 })), baselines: fc.constantFrom('keep', 'draw', 'cycle', 'x') }),
    fc.record({ _tag: fc.constant('sampleMean'), type: fc.constantFrom('smoothgrad', 'vargrad', 'mean') }),
    fc.record({ _tag: fc.constant('apply'), pipeline: fc.constantFrom(saliency(), featureAblation(), integratedGradients({ nSteps: 2 }), { _tag: 'Pipeline', name: 'empty', stages: [] }, null) }),
    fc.jsonValue(),
  )
  const fuzzed = fc.oneof(fc.jsonValue(), fc.record({ _tag: fc.constant('Pipeline'), name: fc.string(), stages: fc.array(stageLike, { maxLength: 6 }) }))
  it('resolves to a result or a typed error for 300 fuzzed specs', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzed, async (u) => {
        const r = await attribute(u as Pipeline, mlp, x, { target: 0 })()
        if (E.isLeft(r)) expect(typeof r.left._tag).toBe('string')
      }),
      { seed: 11, numRuns: 300 },
    )
  })
})
