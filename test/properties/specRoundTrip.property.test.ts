import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { METHODS } from '../../src/algorithms/registry.js'
import { checkPipeline, decodePipeline, describe as describeSpec, StageSpecCodec, type Pipeline, type StageSpec } from '../../src/dsl/spec.js'
import { ALL_STAGES } from '../../src/dsl/stages/index.js'
import { STAGE_ARBITRARIES } from '../helpers/stageArbitraries.js'

const rule = fc.constantFrom('riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre' as const)
const layerName = fc.string({ minLength: 1, maxLength: 12 })
const gradStage: fc.Arbitrary<StageSpec> = fc.oneof(
  fc.record({ _tag: fc.constant('grad' as const) }),
  fc.record({ _tag: fc.constant('grad' as const), layer: layerName }),
)
/** Stages that post-process computed values; some need slots (the checker decides). */
const post: fc.Arbitrary<StageSpec[]> = fc.array(
  fc.constantFrom<StageSpec>({ _tag: 'abs' }, { _tag: 'scaleByDelta' }, { _tag: 'multiplyByInputs' }, { _tag: 'completenessDelta' }),
  { maxLength: 3 },
)
const interp: fc.Arbitrary<StageSpec> = fc.oneof(
  fc.record({ _tag: fc.constant('interpolate' as const), nSteps: fc.integer({ min: 2, max: 500 }), method: rule }),
  fc.record({
    _tag: fc.constant('interpolate' as const),
    nSteps: fc.integer({ min: 2, max: 64 }),
    method: rule,
    path: fc.record({ _tag: fc.constant('power' as const), exponent: fc.double({ min: 0.1, max: 5, noNaN: true }) }),
  }),
)
const quad = { _tag: 'quadrature' as const } as StageSpec
const noiseStage: fc.Arbitrary<StageSpec> = fc.record({
  _tag: fc.constant('noise' as const),
  nSamples: fc.integer({ min: 1, max: 50 }),
  stdevs: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 1, maxLength: 3 })),
  baselines: fc.constantFrom('keep' as const, 'draw' as const),
})
const mean: fc.Arbitrary<StageSpec> = fc.record({ _tag: fc.constant('sampleMean' as const), type: fc.constantFrom('smoothgrad' as const, 'smoothgrad_sq' as const, 'vargrad' as const) })
/** Compositions built from the grammar of gradient methods (nested paths, layer paths), kept when they type-check. */
const { block } = fc.letrec<{ block: StageSpec[] }>((tie) => ({
  block: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(gradStage, post).map(([g, p]) => [g, ...p]),
    fc.tuple(interp, tie('block'), post).map(([i, b, p]) => [i, ...b, quad, ...p]),
    fc.tuple(layerName, interp, post).map(([l, i, p]) => [{ _tag: 'layerEndpoints', layer: l } as StageSpec, i, { _tag: 'grad', layer: l, inject: true } as StageSpec, quad, ...p]),
    // NoiseTunnel shapes: a method spliced inside the sample axis, or wrapped whole by apply
    fc.tuple(noiseStage, tie('block'), mean).map(([n, b, m]) => [n, ...b, m]),
    fc.tuple(noiseStage, tie('block'), mean).map(([n, b, m]) => [n, { _tag: 'apply', pipeline: { _tag: 'Pipeline', name: 'inner', stages: b } } as StageSpec, m]),
  ),
}))
const anyPipeline: fc.Arbitrary<Pipeline> = fc.record({ _tag: fc.constant('Pipeline' as const), name: fc.string(), stages: block })
/** Any stage of the vocabulary with arbitrary parameters (from the per-stage table). */
const anyStage = fc.oneof(...Object.entries(STAGE_ARBITRARIES).map(([tag, a]) => (a as fc.Arbitrary<object>).map((p) => ({ _tag: tag, ...p }) as StageSpec)))
const stageSoup: fc.Arbitrary<Pipeline> = fc.record({ _tag: fc.constant('Pipeline' as const), name: fc.string(), stages: fc.array(anyStage, { maxLength: 6 }) })
const pipelines: fc.Arbitrary<Pipeline> = anyPipeline.filter((p) => E.isRight(checkPipeline(p)))

describe('specs are plain data', () => {
  it('every well-formed pipeline survives a JSON round trip and decodes to itself', () => {
    fc.assert(
      fc.property(pipelines, (p) => {
        const back = JSON.parse(JSON.stringify(p)) as unknown
        const d = decodePipeline(back)
        expect(E.isRight(d)).toBe(true)
        expect(JSON.stringify(E.isRight(d) ? d.right : null)).toBe(JSON.stringify(p))
        expect(describeSpec(p).split('\n')).toHaveLength(p.stages.length + 1)
      }),
      { seed: 20261123, numRuns: 300 },
    )
  })

  it('every stage\'s parameters decode with its codec and survive a JSON round trip', () => {
    expect(Object.keys(STAGE_ARBITRARIES).sort()).toEqual(ALL_STAGES.map((d) => d.tag).sort())
    for (const [tag, params] of Object.entries(STAGE_ARBITRARIES)) {
      fc.assert(
        fc.property(params, (p: object) => {
          const spec = { _tag: tag, ...p }
          expect(StageSpecCodec.decode(spec), tag).toEqual(E.right(spec))
          const back = StageSpecCodec.decode(JSON.parse(JSON.stringify(spec)))
          expect(E.isRight(back) && JSON.stringify(back.right), tag).toBe(JSON.stringify(spec))
        }),
        { seed: 20261124, numRuns: 60 },
      )
    }
  })

  it('negative control: the same parameters under an unknown tag, or with every field null, do not decode', () => {
    let withFields = 0
    for (const [tag, params] of Object.entries(STAGE_ARBITRARIES)) {
      for (const p of fc.sample(params as fc.Arbitrary<object>, { seed: 5, numRuns: 10 })) {
        expect(E.isLeft(StageSpecCodec.decode({ _tag: `${tag}2`, ...p })), tag).toBe(true)
        const keys = Object.keys(p)
        if (keys.length === 0) continue
        withFields++
        expect(E.isLeft(StageSpecCodec.decode({ _tag: tag, ...Object.fromEntries(keys.map((k) => [k, null])) })), tag).toBe(true)
      }
    }
    expect(withFields).toBeGreaterThan(100)
  })

  it('every registered method builds a pipeline that round-trips', () => {
    for (const [name, m] of Object.entries(METHODS)) {
      const p = m.build({ layer: 'some/tensor', returnConvergenceDelta: true, wrapped: 'layerIntegratedGradients', slidingWindowShapes: [2], neuronSelector: 0 })
      expect(decodePipeline(JSON.parse(JSON.stringify(p))), name).toEqual(E.right(p))
    }
  })

  it('the grammar yields both compositions that check and ones that do not', () => {
    const sample = fc.sample(anyPipeline, { seed: 3, numRuns: 300 })
    const ok = sample.filter((p) => E.isRight(checkPipeline(p))).length
    expect(ok).toBeGreaterThan(60)
    expect(ok).toBeLessThan(300)
  })

  it('fuzzed data never throws: it decodes or returns a typed InvalidSpec or BadPipeline error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), anyPipeline, stageSoup, anyPipeline.map((p) => ({ ...p, stages: [...p.stages].reverse() }))), (u) => {
        const d = decodePipeline(u)
        if (E.isLeft(d)) {
          expect(['InvalidSpec', 'BadPipeline']).toContain(d.left._tag)
          if (d.left._tag === 'InvalidSpec') expect(d.left.issues.length).toBeGreaterThan(0)
          else expect(d.left.path[0]).toBe('stages')
        }
      }),
      { seed: 7, numRuns: 300 },
    )
  })

  it('names every bad field at once, with its path', () => {
    const d = decodePipeline({
      _tag: 'Pipeline',
      name: 'broken',
      stages: [{ _tag: 'interpolate', nSteps: 0, method: 'simpson' }, { _tag: 'grad' }, { _tag: 'teleport' }],
    })
    expect(E.isLeft(d) && d.left._tag).toBe('InvalidSpec')
    if (E.isLeft(d) && d.left._tag === 'InvalidSpec') {
      const paths = d.left.issues.map((i) => i.path.join('.'))
      expect(paths).toContain('stages.0.nSteps')
      expect(paths).toContain('stages.0.method')
      expect(paths.some((p) => p.startsWith('stages.2'))).toBe(true)
      expect(d.left.message).toMatch(/unknown stage "teleport"/)
    }
  })

  it('rejects unbalanced expansions and riemann rules with one step', () => {
    const open = decodePipeline({ _tag: 'Pipeline', name: 'x', stages: [{ _tag: 'interpolate', nSteps: 4, method: 'gausslegendre' }, { _tag: 'grad' }] })
    expect(E.isLeft(open) && open.left.message).toMatch(/never closed/)
    const close = decodePipeline({ _tag: 'Pipeline', name: 'x', stages: [{ _tag: 'grad' }, { _tag: 'quadrature' }] })
    expect(E.isLeft(close) && close.left.message).toMatch(/none is open/)
    const one = decodePipeline({ _tag: 'Pipeline', name: 'x', stages: [{ _tag: 'interpolate', nSteps: 1, method: 'riemann_left' }, { _tag: 'grad' }, { _tag: 'quadrature' }] })
    expect(E.isLeft(one) && one.left.message).toMatch(/nSteps ≥ 2/)
  })
})
