// LRP properties on the ONNX backend (issue 10), each with a negative control that must fail it:
// - LRP with Captum's defaults (ε = 1e-9) on random bias-free ReLU networks equals InputXGradient
//   (Captum's test_lrp_ixg_equivalency); with a large ε it does not;
// - where the output is positive, the z⁺ rule gives non-negative relevance whatever the input's
//   signs; the ε-rule does not;
// - AttnLRP conserves relevance through the reference transformer `textcls` (bias-free copy, since
//   LRP lets biases absorb relevance by definition) within 1 %, at the embedding output; the plain
//   gradient (a rule set with no entries, `unmatched: 'gradient'`) visibly does not;
// - the LRP composites survive a JSON round trip.
// Oracles: the network's forward pass in plain JS, and the input × gradient from the ordinary
// backward graph.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeModel, encodeModel } from '../../src/backends/onnx/graph/proto.js'
import { fromProto, toProto, type Graph } from '../../src/backends/onnx/graph/ir.js'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import type { Model } from '../../src/core/backend.js'
import { ATTN_LRP, EPSILON_ALPHA2_BETA1, EPSILON_PLUS, LRP_CAPTUM, RuleSetCodec, type RuleSet } from '../../src/core/ruleSet.js'
import { float32, int64, type HostTensor } from '../../src/core/tensor.js'
import { attribute, inputXGradient, layerLrp, lrp, type Pipeline } from '../../src/index.js'
import { floatInit, graphOf, onnxModelOf, onnxNode } from '../helpers/onnxGraphs.js'
import { REFERENCE_DIR } from '../helpers/reference.js'

const RUNS = { seed: 1010, numRuns: 10 }

interface Net {
  readonly sizes: readonly number[]
  readonly weights: readonly number[][]
  readonly biases?: readonly number[][]
  readonly x: readonly number[]
}

const netArb = (withBias: boolean): fc.Arbitrary<Net> =>
  fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 3, maxLength: 4 }).chain((sizes) => {
    const dims = [...sizes.slice(0, -1), 1]
    // values on a grid of eighths (exact in float32), so sums are exact and rarely near 0
    const val = (n: number, s: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: -8 * s, max: 8 * s }).map((v) => v / 8), { minLength: n, maxLength: n })
    return fc.record({
      sizes: fc.constant(dims),
      weights: fc.tuple(...dims.slice(1).map((d, i) => val(dims[i]! * d, 1.5))),
      ...(withBias ? { biases: fc.tuple(...dims.slice(1).map((d) => val(d, 0.5))) } : {}),
      x: val(2 * dims[0]!, 2),
    })
  })

/** Pre-activations of every layer for each of the 2 rows (plain JS, float64). */
const preActivations = (n: Net): number[][] => {
  const out: number[][] = []
  for (let r = 0; r < 2; r++) {
    let a = n.x.slice(r * n.sizes[0]!, (r + 1) * n.sizes[0]!)
    n.weights.forEach((w, l) => {
      const din = n.sizes[l]!
      const dout = n.sizes[l + 1]!
      const z = Array.from({ length: dout }, (_, j) => a.reduce((s, v, i) => s + v * w[i * dout + j]!, 0) + (n.biases?.[l]?.[j] ?? 0))
      out.push(z)
      a = l === n.weights.length - 1 ? z : z.map((v) => Math.max(0, v))
      void din
    })
  }
  return out
}

/** A network whose pre-activations are all clear of 0 (where ReLU's gradient and the ε-rule's ratio are ill-defined). */
const wellPosed = (n: Net): boolean => preActivations(n).every((z) => z.every((v) => Math.abs(v) > 1e-3))

const netGraph = (n: Net): Graph => {
  const nodes = n.weights.flatMap((_, l) => {
    const last = l === n.weights.length - 1
    const inp = l === 0 ? 'x' : `a${l}`
    const lin = n.biases !== undefined
      ? [onnxNode(`mm${l}`, 'MatMul', [inp, `W${l}`], [`m${l}`]), onnxNode(`bias${l}`, 'Add', [`m${l}`, `b${l}`], [last ? 'y' : `z${l}`])]
      : [onnxNode(`mm${l}`, 'MatMul', [inp, `W${l}`], [last ? 'y' : `z${l}`])]
    return last ? lin : [...lin, onnxNode(`relu${l}`, 'Relu', [`z${l}`], [`a${l + 1}`])]
  })
  const inits = [
    ...n.weights.map((w, l) => floatInit(`W${l}`, [n.sizes[l]!, n.sizes[l + 1]!], w)),
    ...(n.biases ?? []).map((b, l) => floatInit(`b${l}`, [b.length], b)),
  ]
  return graphOf(nodes, ['N', n.sizes[0]!], ['N', 1], inits)
}

const run = async (p: Pipeline, m: Model<HostTensor>, x: HostTensor, target = 0) => {
  const r = await attribute(p, m, x, { target })()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const withModel = async <A>(g: Graph, f: (m: Model<HostTensor>) => Promise<A>): Promise<A> => {
  const m = await onnxModelOf(g)
  try {
    return await f(m)
  } finally {
    await m.dispose()
  }
}
const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!) / Math.max(1, Math.abs(b[i]!))), 0)

/** LRP (with `rs`) and InputXGradient on the network: the largest relative difference. */
const lrpVsIxg = (n: Net, rs: RuleSet = LRP_CAPTUM): Promise<number> =>
  withModel(netGraph(n), async (m) => {
    const x = float32([2, n.sizes[0]!], n.x)
    const a = await run(lrp({ ruleSet: rs }), m, x)
    const b = await run(inputXGradient(), m, x)
    return maxRelDiff(a.attributions[0]!.data as Float32Array, b.attributions[0]!.data as Float32Array)
  })

const Z_PLUS: RuleSet = { name: 'z+', entries: [{ match: { opType: 'MatMul' }, rule: { rule: 'zPlus' } }, { match: { opType: 'Relu' }, rule: { rule: 'identity' } }] }
const EPS = (epsilon: number): RuleSet => ({ name: 'ε', entries: [{ match: { opType: 'MatMul' }, rule: { rule: 'epsilon', epsilon } }, { match: { opType: 'Relu' }, rule: { rule: 'identity' } }] })

describe('LRP-ε (Captum defaults) and InputXGradient', () => {
  it('are equal on random bias-free ReLU networks', async () => {
    await fc.assert(fc.asyncProperty(netArb(false).filter(wellPosed), async (n) => {
      expect(await lrpVsIxg(n)).toBeLessThan(1e-5)
    }), RUNS)
  })

  it('negative control: with a large ε (1) they differ', async () => {
    const sample = fc.sample(netArb(false).filter(wellPosed), { seed: RUNS.seed, numRuns: 5 })
    const diffs = await Promise.all(sample.map((n) => lrpVsIxg(n, EPS(1))))
    expect(Math.min(...diffs)).toBeGreaterThan(1e-3)
  })
})

/** Both rows' outputs positive (the relevance z⁺ starts from is then positive). */
const positiveOutput = (n: Net): boolean => {
  const pre = preActivations(n)
  return pre[n.weights.length - 1]![0]! > 1e-3 && pre[2 * n.weights.length - 1]![0]! > 1e-3
}

/** The smallest relevance value, relative to the largest, and the total relevance, over both rows. */
const signs = (n: Net, rs: RuleSet): Promise<{ readonly worst: number; readonly total: number }> =>
  withModel(netGraph(n), async (m) => {
    const x = float32([2, n.sizes[0]!], n.x)
    const rel = Array.from((await run(lrp({ ruleSet: rs }), m, x)).attributions[0]!.data as Float32Array)
    const scale = Math.max(1e-12, ...rel.map(Math.abs))
    return { worst: Math.min(...rel) / scale, total: rel.reduce((a, b) => a + b, 0) }
  })

describe('LRP-z⁺', () => {
  it('relevance is non-negative where the output is positive (inputs of both signs), and not all zero', async () => {
    await fc.assert(fc.asyncProperty(netArb(false).filter((n) => wellPosed(n) && positiveOutput(n)), async (n) => {
      const s = await signs(n, Z_PLUS)
      expect(s.worst).toBeGreaterThanOrEqual(-1e-6)
      expect(s.total).toBeGreaterThan(0)
    }), RUNS)
  })

  it('negative control: the ε-rule gives some values the other sign', async () => {
    const sample = fc.sample(netArb(false).filter((n) => wellPosed(n) && positiveOutput(n)), { seed: RUNS.seed, numRuns: 5 })
    const worst = await Promise.all(sample.map(async (n) => (await signs(n, EPS(1e-9))).worst))
    expect(Math.min(...worst)).toBeLessThan(-1e-2)
  })
})

describe('AttnLRP on the reference transformer textcls', () => {
  const EMBEDDING = '/embedding/Gather_output_0'
  const PLAIN: RuleSet = { name: 'plain gradient', entries: [], unmatched: 'gradient' }
  let model: Model<HostTensor>

  /** textcls with every bias (attention, feed-forward, LayerNorm β, classifier) set to 0. */
  const biasFree = (): Uint8Array => {
    const p = decodeModel(new Uint8Array(readFileSync(join(REFERENCE_DIR, 'models/textcls.onnx'))))
    if (E.isLeft(p)) throw new Error(p.left.message)
    const g = fromProto(p.right)
    if (E.isLeft(g)) throw new Error(g.left.message)
    const inits = new Map([...g.right.initializers].map(([k, v]) => {
      if (!/bias/.test(k)) return [k, v] as const
      const n = (v.dims ?? []).reduce((a: number, d) => a * Number(d), 1)
      return [k, { name: k, dims: v.dims, dataType: v.dataType, floatData: new Array<number>(n).fill(0) }] as const
    }))
    return encodeModel(toProto({ ...g.right, initializers: inits }))
  }
  beforeAll(async () => {
    const m = await fromOnnx(biasFree())
    if (E.isLeft(m)) throw new Error(m.left.message)
    model = m.right
  })
  afterAll(async () => {
    await model.dispose()
  })

  /** |F(x) − Σ relevance at the embedding| / |F(x)| per row. */
  const leak = async (rs: RuleSet, ids: readonly number[], target: number): Promise<number[]> => {
    const r = await run(layerLrp({ layer: EMBEDDING, ruleSet: rs, returnConvergenceDelta: true }), model, int64([ids.length / 16, 16], ids), target)
    const rel = r.attributions[0]!.data as Float32Array
    const rows = ids.length / 16
    const per = rel.length / rows
    return Array.from({ length: rows }, (_, i) => {
      const sum = rel.slice(i * per, (i + 1) * per).reduce((a, b) => a + b, 0)
      const delta = Number(r.delta!.data[i])
      return Math.abs(delta) / Math.abs(sum + delta)
    })
  }
  const idsArb = fc.array(fc.integer({ min: 0, max: 499 }), { minLength: 32, maxLength: 32 })

  it('conserves relevance within 1 % at the embedding output', async () => {
    await fc.assert(fc.asyncProperty(idsArb, fc.integer({ min: 0, max: 1 }), async (ids, target) => {
      for (const l of await leak(ATTN_LRP, ids, target)) expect(l).toBeLessThan(0.01)
    }), { seed: RUNS.seed, numRuns: 6 })
  })

  it('negative control: the plain gradient does not conserve it', async () => {
    const sample = fc.sample(idsArb, { seed: RUNS.seed, numRuns: 3 })
    const leaks = (await Promise.all(sample.map((ids) => leak(PLAIN, ids, 1)))).flat()
    expect(Math.min(...leaks)).toBeGreaterThan(0.1)
  })
})

describe('LRP composites are JSON values', () => {
  it('survive a JSON round trip', () => {
    for (const rs of [LRP_CAPTUM, EPSILON_PLUS, EPSILON_ALPHA2_BETA1, ATTN_LRP]) {
      const back = RuleSetCodec.decode(JSON.parse(JSON.stringify(rs)))
      expect(E.isRight(back) && back.right).toEqual(rs)
    }
  })
})
