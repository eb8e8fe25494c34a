/**
 * The model conformance suite for `Model.vjp`'s options: `describeModels(name, make)` runs every
 * case below on one backend's build of the two-head model (`twoHead.ts`). A case is data (vjp
 * options, the seed shape the selector must be shown, and the expected value and gradients, or the
 * expected typed error); the expectations come from a closed-form oracle in plain JS, independent
 * of every backend. Where the backend counts live tensors, every case checks for leaks.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Backend, Model, Selector, VjpOptions, VjpResult } from '../../src/core/backend.js'
import { err, type AttributionError, type ErrorTag } from '../../src/core/errors.js'
import { float32, toFloat64, type HostTensor } from '../../src/core/tensor.js'
import { TWO_HEAD, type Mat } from './twoHead.js'

export interface ModelHarness<T> {
  readonly backend: Backend<T>
  /** The two-head model of `twoHead.ts` on this backend. */
  readonly model: Model<T>
  /** Live tensor count (tfjs: `tf.memory().numTensors`); absent when the backend holds no resources. */
  readonly liveTensors?: () => number
  readonly teardown?: () => Promise<void>
}

// ------------------------------------------------------------------------------------------------
// the oracle: the two-head model and its derivatives in closed form
// ------------------------------------------------------------------------------------------------

const matMul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!))
const zip = (a: Mat, b: Mat, f: (x: number, y: number) => number): Mat => a.map((r, i) => r.map((v, j) => f(v, b[i]![j]!)))
const rowDot = (a: Mat, b: Mat): number[] => a.map((r, i) => r.reduce((s, v, j) => s + v * b[i]![j]!, 0))

const X: Mat = [[1, -0.5, 0.25], [-0.75, 0.5, 1.5]].map((r) => r.map((v) => Math.fround(v)))
/** The cotangent for a [rows, 2] output, and for the [rows, 4] internal tensors (not one-hot, to test the general linear seed). */
const S_OUT: Mat = [[1, 0], [0.5, -2]]
const S_HIDDEN: Mat = [[0, 1, 0, 0], [0.25, 0, -1, 0.5]]

const { W1, W2, W3, W4 } = TWO_HEAD
const HM = matMul(X, W1)
const H = HM.map((r) => r.map(Math.tanh))
const Y0 = matMul(H, W2)
const Y1 = zip(matMul(H, W3), matMul(X, W4), (a, b) => a + b)
const DTANH = H.map((r) => r.map((v) => 1 - v * v))
/** d⟨S, y⟩/dh for each output. */
const DH = { y0: matMul(S_OUT, transpose(W2)), y1: matMul(S_OUT, transpose(W3)) }
/** d/dhm and d/dx of ⟨S, seeded⟩ given its d/dh (`direct`: y1's path x·W4 that bypasses h). */
const viaH = (dh: Mat): Mat => zip(dh, DTANH, (a, b) => a * b)
const toX = (dh: Mat, direct: boolean): Mat => {
  const g = matMul(viaH(dh), transpose(W1))
  return direct ? zip(g, matMul(S_OUT, transpose(W4)), (a, b) => a + b) : g
}
export const ORACLE = {
  y0: { value: rowDot(S_OUT, Y0), dx: toX(DH.y0, false), dh: DH.y0, dhm: viaH(DH.y0) },
  y1: { value: rowDot(S_OUT, Y1), dx: toX(DH.y1, true), dh: DH.y1, dhm: viaH(DH.y1) },
  /** Seeding h itself: d⟨S_h, h⟩/dh = S_h. */
  h: { value: rowDot(S_HIDDEN, H), dx: toX(S_HIDDEN, false), dhm: viaH(S_HIDDEN) },
} as const

const host = (m: Mat): HostTensor => float32([m.length, m[0]!.length], m.flat())

// ------------------------------------------------------------------------------------------------
// the cases
// ------------------------------------------------------------------------------------------------

type Options = VjpOptions<never>

interface ValueCase {
  readonly name: string
  readonly options: Options
  /** The shape every call of the selector's seed must receive. */
  readonly seedShape: readonly number[]
  readonly value: readonly number[]
  readonly grads: readonly Mat[]
}

interface ErrorCase {
  readonly name: string
  readonly options: Options
  readonly tag: ErrorTag
  readonly path: readonly string[]
  readonly message?: RegExp
}

export const VJP_CASES: readonly ValueCase[] = [
  { name: 'legacy wrt inputs seeds the explained output', options: { wrt: { kind: 'inputs' } }, seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dx] },
  { name: 'legacy wrt layer h', options: { wrt: { kind: 'layer', name: 'h' } }, seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dh] },
  { name: 'of output 0 is the explained output', options: { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 0 } }, seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dx] },
  { name: 'of output 1 (the second output), wrt inputs', options: { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 1 } }, seedShape: [2, 2], value: ORACLE.y1.value, grads: [ORACLE.y1.dx] },
  { name: 'of output 1, wrt layer h', options: { wrt: { kind: 'layer', name: 'h' }, of: { kind: 'output', index: 1 } }, seedShape: [2, 2], value: ORACLE.y1.value, grads: [ORACLE.y1.dh] },
  { name: 'of tensor h (an internal tensor), wrt inputs', options: { wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'h' } }, seedShape: [2, 4], value: ORACLE.h.value, grads: [ORACLE.h.dx] },
  { name: 'of tensor h, wrt layer hm upstream of it', options: { wrt: [{ kind: 'layer', name: 'hm' }], of: { kind: 'tensor', name: 'h' } }, seedShape: [2, 4], value: ORACLE.h.value, grads: [ORACLE.h.dhm] },
  {
    name: 'wrt [input 0, layer h] of output 1: both gradients, the input one through every path',
    options: { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h' }], of: { kind: 'output', index: 1 } },
    seedShape: [2, 2], value: ORACLE.y1.value, grads: [ORACLE.y1.dx, ORACLE.y1.dh],
  },
  {
    name: 'wrt [layer h, input 0]: gradients in the order given',
    options: { wrt: [{ kind: 'layer', name: 'h' }, { kind: 'input', index: 0 }] },
    seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dh, ORACLE.y0.dx],
  },
  {
    name: 'wrt [layer h, layer hm] (downstream first): the upstream gradient counts the path through h',
    options: { wrt: [{ kind: 'layer', name: 'h' }, { kind: 'layer', name: 'hm' }], of: { kind: 'output', index: 1 } },
    seedShape: [2, 2], value: ORACLE.y1.value, grads: [ORACLE.y1.dh, ORACLE.y1.dhm],
  },
  // rule sets: pass-through ops and an explicit `gradient` rule keep the ordinary gradient
  { name: 'a rule set with no entries on a path of MatMuls only (pass-through)', options: { wrt: { kind: 'layer', name: 'h' }, ruleSet: { name: 'empty', entries: [] } }, seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dh] },
  {
    name: 'a rule set giving the Tanh its ordinary gradient explicitly',
    options: { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 1 }, ruleSet: { name: 'plain', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'gradient' } }] } },
    seedShape: [2, 2], value: ORACLE.y1.value, grads: [ORACLE.y1.dx],
  },
  {
    name: 'wrt [input 0, input 0]: one gradient per entry, even repeated',
    options: { wrt: [{ kind: 'input', index: 0 }, { kind: 'input', index: 0 }] },
    seedShape: [2, 2], value: ORACLE.y0.value, grads: [ORACLE.y0.dx, ORACLE.y0.dx],
  },
]

export const VJP_ERROR_CASES: readonly ErrorCase[] = [
  // the Tanh on the path has no rule and is not a pass-through op: listed before anything runs
  { name: 'a rule set leaving a nonlinearity without a rule', options: { wrt: { kind: 'inputs' }, ruleSet: { name: 'lrp-epsilon', entries: [] } }, tag: 'UnsupportedOps', path: ['ruleSet'], message: /rule set "lrp-epsilon" leaves 1 /i },
  { name: 'a rule set leaving a nonlinearity without a rule, with a wrt list', options: { wrt: [{ kind: 'layer', name: 'hm' }], ruleSet: { name: 'x', entries: [] } }, tag: 'UnsupportedOps', path: ['ruleSet'], message: /rule set "x" leaves 1 /i },
  { name: 'wrt input index out of range', options: { wrt: [{ kind: 'input', index: 0 }, { kind: 'input', index: 1 }] }, tag: 'MissingInput', path: ['wrt', '1'], message: /wrt\[1\].*no input 1/ },
  { name: 'wrt negative input index', options: { wrt: [{ kind: 'input', index: -1 }] }, tag: 'MissingInput', path: ['wrt', '0'] },
  { name: 'wrt unknown layer name', options: { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'nope' }] }, tag: 'UnknownTensor', path: ['wrt', '1'], message: /nope/ },
  { name: 'wrt empty list', options: { wrt: [] }, tag: 'MissingInput', path: ['wrt'] },
  { name: 'of output index out of range', options: { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 2 } }, tag: 'UnknownTensor', path: ['of', 'index'], message: /2 output/ },
  { name: 'of unknown tensor', options: { wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'nope' } }, tag: 'UnknownTensor', path: ['of', 'name'], message: /nope/ },
]

// ------------------------------------------------------------------------------------------------
// the suite
// ------------------------------------------------------------------------------------------------

/** A linear selector that returns S_OUT or S_HIDDEN by the shape it is given, and records that shape. */
const recordingSelector = <T>(): { selector: Selector<T>; shapes: number[][] } => {
  const shapes: number[][] = []
  const selector: Selector<T> = {
    kind: 'linear',
    seed: (shape) => {
      shapes.push([...shape])
      const s = shape[1] === 2 ? S_OUT : shape[1] === 4 ? S_HIDDEN : undefined
      return s === undefined || shape.length !== 2 || shape[0] !== 2 ? E.left(err('BadTarget', `unexpected seed shape [${shape.join(', ')}]`)) : E.right(host(s))
    },
  }
  return { selector, shapes }
}

const expectClose = (actual: HostTensor, expected: readonly number[] | Mat, label: string, tol = 1e-5): void => {
  const e = (expected as readonly (number | readonly number[])[]).flat() as number[]
  const shape = Array.isArray(expected[0]) ? [expected.length, (expected[0] as readonly number[]).length] : [expected.length]
  expect([...actual.shape], `${label}: shape`).toEqual(shape)
  const a = toFloat64(actual)
  e.forEach((v, i) => expect(Math.abs(a[i]! - v), `${label}: element ${i} is ${a[i]}, expected ${v}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(v))))
}

/** Registers the vjp conformance cases for one backend; `make` runs in `beforeAll`. */
export const describeModels = <T>(name: string, make: () => Promise<ModelHarness<T>>): void => {
  describe(`model conformance (vjp options): ${name}`, () => {
    let h: ModelHarness<T>
    let x: T
    beforeAll(async () => {
      h = await make()
      x = h.backend.fromHost(host(X))
    })
    afterAll(async () => {
      h?.backend.dispose(x)
      await h?.teardown?.()
    })
    const live = (): number => h.liveTensors?.() ?? 0
    const vjp = async (options: Options): Promise<{ r: E.Either<AttributionError, VjpResult<T>>; shapes: number[][] }> => {
      const { selector, shapes } = recordingSelector<T>()
      return { r: await h.model.vjp([x], selector, options)(), shapes }
    }
    const release = (r: VjpResult<T>): void => {
      const b = h.backend
      ;[r.output, r.value, ...r.grads, ...Object.values(r.captured)].forEach((t) => b.dispose(t))
    }

    it.each(VJP_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const before = live()
      const { r, shapes } = await vjp(c.options)
      if (E.isLeft(r)) throw new Error(`${r.left._tag} at ${r.left.path.join('.')}: ${r.left.message}`)
      expect(shapes.length, 'the seed was built').toBeGreaterThan(0)
      shapes.forEach((s) => expect(s, 'seed shape').toEqual([...c.seedShape]))
      const b = h.backend
      expectClose(await b.toHost(r.right.output), Y0, `${c.name}: output (the explained output, whatever is seeded)`)
      expectClose(await b.toHost(r.right.value), c.value, `${c.name}: value`)
      expect(r.right.grads).toHaveLength(c.grads.length)
      for (const [i, g] of c.grads.entries()) expectClose(await b.toHost(r.right.grads[i]!), g, `${c.name}: grads[${i}]`)
      release(r.right)
      expect(live(), `${c.name}: live tensors`).toBe(before)
    })

    it.each(VJP_ERROR_CASES.map((c) => [c.name, c] as const))('typed error: %s', async (_, c) => {
      const before = live()
      const { r } = await vjp(c.options)
      if (E.isRight(r)) {
        release(r.right)
        throw new Error('expected a typed error, got a result')
      }
      expect(r.left._tag, r.left.message).toBe(c.tag)
      expect([...r.left.path]).toEqual([...c.path])
      if (c.message !== undefined) expect(r.left.message).toMatch(c.message)
      expect(live(), `${c.name}: live tensors`).toBe(before)
    })

    it('wrt [input 0, layer h] equals the two single-wrt calls, for the explained output and for output 1', async () => {
      const before = live()
      const b = h.backend
      for (const of of [undefined, { kind: 'output', index: 1 } as const]) {
        const both = await vjp({ wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h' }], ...(of ? { of } : {}) })
        const byInput = await vjp({ wrt: { kind: 'inputs' }, ...(of ? { of } : {}) })
        const byLayer = await vjp({ wrt: { kind: 'layer', name: 'h' }, ...(of ? { of } : {}) })
        if (E.isLeft(both.r) || E.isLeft(byInput.r) || E.isLeft(byLayer.r)) throw new Error('a vjp call failed')
        const label = of === undefined ? 'explained output' : 'output 1'
        const [gx, gh] = [await b.toHost(both.r.right.grads[0]!), await b.toHost(both.r.right.grads[1]!)]
        const asMat = (t: HostTensor): Mat => Array.from({ length: t.shape[0]! }, (_, i) => Array.from(toFloat64(t)).slice(i * t.shape[1]!, (i + 1) * t.shape[1]!))
        expectClose(gx, asMat(await b.toHost(byInput.r.right.grads[0]!)), `${label}: input gradient`)
        expectClose(gh, asMat(await b.toHost(byLayer.r.right.grads[0]!)), `${label}: layer gradient`)
        ;[both, byInput, byLayer].forEach((c) => E.isRight(c.r) && release(c.r.right))
      }
      expect(live()).toBe(before)
    })

    it('the gradient of a seeded internal tensor matches central finite differences of the forward pass', async () => {
      const before = live()
      const b = h.backend
      const { r } = await vjp({ wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'h' } })
      if (E.isLeft(r)) throw new Error(r.left.message)
      const g = toFloat64(await b.toHost(r.right.grads[0]!))
      release(r.right)
      // ⟨S_h, h(x)⟩ summed over rows, from the backend's own forward pass with h captured
      const objective = async (xs: Mat): Promise<number> => {
        const xt = b.fromHost(host(xs))
        const f = await h.model.forward([xt], { capture: ['h'] })()
        b.dispose(xt)
        if (E.isLeft(f)) throw new Error(f.left.message)
        const hv = toFloat64(await b.toHost(f.right.captured['h']!))
        b.dispose(f.right.output)
        b.dispose(f.right.captured['h']!)
        return S_HIDDEN.flat().reduce((s, v, i) => s + v * hv[i]!, 0)
      }
      const eps = 1e-2
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          const at = (d: number): Mat => X.map((row, r) => row.map((v, c) => (r === i && c === j ? v + d : v)))
          const fd = ((await objective(at(eps))) - (await objective(at(-eps)))) / (2 * eps)
          expect(Math.abs(g[i * 3 + j]! - fd), `d/dx[${i},${j}]: ${g[i * 3 + j]} vs finite difference ${fd}`).toBeLessThan(1e-3)
        }
      }
      expect(live()).toBe(before)
    })

    it('capture next to a wrt list and a seeded tensor returns only what was asked for', async () => {
      const before = live()
      const { r } = await vjp({ wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h' }], of: { kind: 'tensor', name: 'h' }, capture: ['hm'] })
      if (E.isLeft(r)) throw new Error(r.left.message)
      expect(Object.keys(r.right.captured)).toEqual(['hm'])
      expectClose(await h.backend.toHost(r.right.captured['hm']!), HM, 'captured hm')
      expectClose(await h.backend.toHost(r.right.grads[1]!), S_HIDDEN, 'd⟨S, h⟩/dh is the seed')
      release(r.right)
      expect(live()).toBe(before)
    })
  })
}
