import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { METHODS } from '../../src/algorithms/registry.js'
import { decodePipeline, describe as describeSpec, type Pipeline, type StageSpec } from '../../src/dsl/spec.js'

const rule = fc.constantFrom('riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre' as const)
const mapStage: fc.Arbitrary<StageSpec> = fc.oneof(
  fc.record({ _tag: fc.constant('grad' as const) }),
  fc.record({ _tag: fc.constant('grad' as const), layer: fc.string({ minLength: 1, maxLength: 12 }), inject: fc.boolean() }),
  fc.constant({ _tag: 'abs' as const }),
  fc.constant({ _tag: 'scaleByDelta' as const }),
  fc.constant({ _tag: 'multiplyByInputs' as const }),
  fc.constant({ _tag: 'completenessDelta' as const }),
  fc.record({ _tag: fc.constant('layerEndpoints' as const), layer: fc.string({ maxLength: 12 }) }),
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
const { block } = fc.letrec<{ block: StageSpec[] }>((tie) => ({
  block: fc.oneof(
    { depthSize: 'small' },
    fc.array(mapStage, { maxLength: 4 }),
    fc.tuple(fc.array(mapStage, { maxLength: 2 }), interp, tie('block'), fc.array(mapStage, { maxLength: 2 })).map(([a, i, b, c]) => [
      ...a, i, ...b, { _tag: 'quadrature' as const } as StageSpec, ...c,
    ]),
  ),
}))
const pipelines: fc.Arbitrary<Pipeline> = fc.record({ _tag: fc.constant('Pipeline' as const), name: fc.string(), stages: block })

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

  it('every registered method builds a pipeline that round-trips', () => {
    for (const [name, m] of Object.entries(METHODS)) {
      const p = m.build({ layer: 'some/tensor', returnConvergenceDelta: true })
      expect(decodePipeline(JSON.parse(JSON.stringify(p))), name).toEqual(E.right(p))
    }
  })

  it('fuzzed data never throws: it decodes or returns a typed InvalidSpec error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), pipelines.map((p) => ({ ...p, stages: [...p.stages].reverse() }))), (u) => {
        const d = decodePipeline(u)
        if (E.isLeft(d)) {
          expect(d.left._tag).toBe('InvalidSpec')
          expect(d.left.issues.length).toBeGreaterThan(0)
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
    expect(E.isLeft(d)).toBe(true)
    if (E.isLeft(d)) {
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
