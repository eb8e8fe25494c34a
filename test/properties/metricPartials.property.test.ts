// The metric reducers are monoids (STYLE.md §3.1.4): on random chunk splits of a sample axis,
// lifting every chunk and combining the partials in any bracketing gives the bits of the
// left-to-right fold, and the finalized scores are the bits of the one-chunk result — for
// infidelityScore (exact sums), sensitivityScore (maxima), and the row-stacking reducers curveScore,
// correlationScore and sensitivityStat. Negative control: partials combined
// out of order are refused.
import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostBackend } from '../../src/backends/host/hostBackend.js'
import { fromFunction } from '../../src/backends/host/index.js'
import { keyOf } from '../../src/core/random.js'
import { float32, type HostTensor } from '../../src/core/tensor.js'
import { memoTable, type Flow, type RunContext } from '../../src/dsl/flow.js'
import type { PartialResult } from '../../src/dsl/partial.js'
import type { ChunkInfo, ReduceStageDef } from '../../src/dsl/stage.js'
import { infidelityScore } from '../../src/dsl/stages/infidelityScore.js'
import { sensitivityScore } from '../../src/dsl/stages/sensitivityScore.js'
import { curveScore } from '../../src/dsl/stages/curveScore.js'
import { correlationScore } from '../../src/dsl/stages/correlationScore.js'
import { sensitivityStat } from '../../src/dsl/stages/sensitivityStat.js'

const RUNS = { numRuns: 40, seed: 4242 }

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the harness drives reducers of two parameter types
type AnyReducer = ReduceStageDef<string, any, any, any>

const ctxOf = (R: number): RunContext<HostTensor> => ({
  model: fromFunction(([v]) => v!), backend: hostBackend, nExamples: R, inputs: [], extraArgs: [], target: null, key: keyOf(1),
  chunk: { memoryBudgetBytes: 1e9 }, track: (t) => t, tick: () => undefined, modelOptions: {}, memo: memoTable(),
  callData: {}, runInner: () => () => Promise.reject(new Error('not used')),
})

interface Expansion {
  readonly def: AnyReducer
  readonly params: unknown
  readonly count: number
  readonly rowsIn: number
  readonly chunk: (start: number, end: number) => { readonly flow: Flow<HostTensor>; readonly meta: unknown }
}

const ok = <A>(r: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const vals = (n: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: -3000, max: 3000 }).map((v) => v / 113), { minLength: n, maxLength: n })

/** infidelity over K samples of R examples: random Σ I ⊙ a per row and random perturbed outputs. */
const infidelityArb: fc.Arbitrary<Expansion> = fc
  .record({ K: fc.integer({ min: 1, max: 9 }), R: fc.integer({ min: 1, max: 3 }), normalize: fc.boolean() })
  .chain((c) => fc.record({ c: fc.constant(c), s: vals(c.K * c.R), out: vals(c.K * c.R), ref: vals(c.R) }))
  .map(({ c, s, out, ref }): Expansion => ({
    def: infidelityScore, params: { normalize: c.normalize }, count: c.K, rowsIn: c.R,
    chunk: (a, b) => ({
      flow: {
        value: [float32([b - a, c.R], out.slice(a * c.R, b * c.R))], rowExample: new Int32Array((b - a) * c.R), space: { kind: 'input' },
        reference: { outputShape: [c.R, 1], aggregate: false, selected: new Float32Array(ref), selShape: [c.R] },
      },
      meta: { attrTimesPerturbation: Float64Array.from(s.slice(a * c.R, b * c.R)) },
    }),
  }))

/** sensitivityMax over K samples of R examples of width d: random e(x) and e(x̃). */
const sensitivityArb: fc.Arbitrary<Expansion> = fc
  .record({ K: fc.integer({ min: 1, max: 9 }), R: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 4 }), norm: fc.constantFrom<'fro' | 'inf' | number>('fro', 'inf', 1, 3) })
  .chain((c) => fc.record({ c: fc.constant(c), ex: vals(c.R * c.d), pert: vals(c.K * c.R * c.d) }))
  .map(({ c, ex, pert }): Expansion => ({
    def: sensitivityScore, params: { norm: c.norm }, count: c.K, rowsIn: c.R,
    chunk: (a, b) => ({
      flow: { value: [float32([(b - a) * c.R, c.d], pert.slice(a * c.R * c.d, b * c.R * c.d))], rowExample: new Int32Array((b - a) * c.R), space: { kind: 'input' } },
      meta: { explanation: Float64Array.from(ex), width: c.d },
    }),
  }))

/** A deletion/insertion curve (or monotonicity) over K entries of R examples: random F along it. */
const curveArb: fc.Arbitrary<Expansion> = fc
  .record({ K: fc.integer({ min: 1, max: 9 }), R: fc.integer({ min: 1, max: 3 }), score: fc.constantFrom('auc' as const, 'monotonic' as const) })
  .chain((c) => fc.record({ c: fc.constant(c), out: vals(c.K * c.R), ref: vals(c.R) }))
  .map(({ c, out, ref }): Expansion => ({
    def: curveScore, params: { score: c.score }, count: c.K, rowsIn: c.R,
    chunk: (a, b) => ({
      flow: {
        value: [float32([b - a, c.R], out.slice(a * c.R, b * c.R))], rowExample: new Int32Array((b - a) * c.R), space: { kind: 'input' },
        reference: { outputShape: [c.R, 1], aggregate: false, selected: new Float32Array(ref), selShape: [c.R] },
      },
      meta: undefined,
    }),
  }))

/** Faithfulness correlation over K samples of R examples: random subset sums and perturbed outputs. */
const correlationArb: fc.Arbitrary<Expansion> = fc
  .record({ K: fc.integer({ min: 1, max: 9 }), R: fc.integer({ min: 1, max: 3 }) })
  .chain((c) => fc.record({ c: fc.constant(c), s: vals(c.K * c.R), out: vals(c.K * c.R), ref: vals(c.R) }))
  .map(({ c, s, out, ref }): Expansion => ({
    def: correlationScore, params: {}, count: c.K, rowsIn: c.R,
    chunk: (a, b) => ({
      flow: {
        value: [float32([b - a, c.R], out.slice(a * c.R, b * c.R))], rowExample: new Int32Array((b - a) * c.R), space: { kind: 'input' },
        reference: { outputShape: [c.R, 1], aggregate: false, selected: new Float32Array(ref), selShape: [c.R] },
      },
      meta: { attrSum: Float64Array.from(s.slice(a * c.R, b * c.R)) },
    }),
  }))

/** Avg-sensitivity and the local Lipschitz estimate: random e(x), e(x̃) and displacements x̃ − x. */
const sensitivityStatArb: fc.Arbitrary<Expansion> = fc
  .record({ K: fc.integer({ min: 1, max: 9 }), R: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 4 }), norm: fc.constantFrom<'fro' | 'inf' | number>('fro', 'inf', 1, 3), stat: fc.constantFrom('mean' as const, 'lipschitz' as const) })
  .chain((c) => fc.record({ c: fc.constant(c), ex: vals(c.R * c.d), pert: vals(c.K * c.R * c.d), disp: vals(c.K * c.R * c.d) }))
  .map(({ c, ex, pert, disp }): Expansion => ({
    def: sensitivityStat, params: { norm: c.norm, stat: c.stat }, count: c.K, rowsIn: c.R,
    chunk: (a, b) => ({
      flow: { value: [float32([(b - a) * c.R, c.d], pert.slice(a * c.R * c.d, b * c.R * c.d))], rowExample: new Int32Array((b - a) * c.R), space: { kind: 'input' } },
      meta: { explanation: Float64Array.from(ex), width: c.d, displacement: Float64Array.from(disp.slice(a * c.R * c.d, b * c.R * c.d)) },
    }),
  }))

const lift = async (x: Expansion, a: number, b: number): Promise<PartialResult> => {
  const c = x.chunk(a, b)
  const info: ChunkInfo = { start: a, end: b, count: x.count, rowsIn: x.rowsIn, scope: undefined, meta: c.meta }
  return ok(await x.def.lift(x.params, c.flow, info, ctxOf(x.rowsIn))())
}

const rangesOf = (count: number, cuts: readonly number[]): [number, number][] => {
  const at = [...new Set(cuts.map((c) => 1 + (c % Math.max(1, count - 1))).filter((c) => c < count))].sort((a, b) => a - b)
  const bounds = [0, ...at, count]
  return bounds.slice(1).map((e, i) => [bounds[i]!, e])
}

const bracketed = (x: Expansion, parts: readonly PartialResult[], picks: readonly number[], depth = 0): PartialResult => {
  if (parts.length === 1) return parts[0]!
  const m = 1 + ((picks[depth % Math.max(1, picks.length)] ?? 0) % (parts.length - 1))
  return ok(x.def.combine(x.params, bracketed(x, parts.slice(0, m), picks, depth + 1), bracketed(x, parts.slice(m), picks, depth + 5)))
}

const bits = (t: { readonly data: ArrayBufferView }): number[] => Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))

const scoresOf = async (x: Expansion, p: PartialResult): Promise<number[]> =>
  bits(ok(await x.def.finalize(x.params, p, { count: x.count, rowsIn: x.rowsIn, scope: undefined }, ctxOf(x.rowsIn))()).value[0]!)

describe.each([['infidelityScore', infidelityArb], ['sensitivityScore', sensitivityArb], ['curveScore', curveArb], ['correlationScore', correlationArb], ['sensitivityStat', sensitivityStatArb]] as const)('%s', (_name, arb) => {
  it('any split and any bracketing give the bits of one chunk', async () => {
    await fc.assert(
      fc.asyncProperty(arb, fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), async (x, cuts, picks) => {
        const parts = await Promise.all(rangesOf(x.count, cuts).map(([a, b]) => lift(x, a, b)))
        const left = parts.reduce((a, b) => ok(x.def.combine(x.params, a, b)))
        const tree = bracketed(x, parts, picks)
        expect(tree.tensors.map(bits)).toEqual(left.tensors.map(bits))
        expect(await scoresOf(x, tree)).toEqual(await scoresOf(x, await lift(x, 0, x.count)))
      }),
      RUNS,
    )
  })

  it('negative control: partials combined out of order are refused', async () => {
    await fc.assert(
      fc.asyncProperty(arb.filter((x) => x.count >= 2), async (x) => {
        const a = await lift(x, 0, 1)
        const b = await lift(x, 1, x.count)
        expect(E.isLeft(x.def.combine(x.params, b, a))).toBe(true)
      }),
      { numRuns: 10, seed: 4242 },
    )
  })
})
