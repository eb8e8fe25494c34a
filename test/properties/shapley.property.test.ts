// Shapley axioms and sampling limits of the perturbation methods, on random small networks
// (fromFunction). Each property has a negative control: a deliberately wrong method must fail it.
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../src/backends/host/index.js'
import {
  FeatureAblation, KernelShap, Lime, Occlusion, ShapleyValues, ShapleyValueSampling, float32,
  type HostTensor, type Model,
} from '../../src/index.js'

const RUNS = { numRuns: 12, seed: 20240611 }
/** Negative controls need a few more draws to meet a counter-example. */
const NEG = { numRuns: 40, seed: 20240611 }

interface Net { readonly m: number; readonly w1: number[]; readonly b1: number[]; readonly w2: number[] }
const H = 4

/** Multiples of 0.1 in [−k/10, k/10] (fast-check's doubles favour tiny values, which make every net linear). */
const tenths = (k: number): fc.Arbitrary<number> => fc.integer({ min: -k, max: k }).map((v) => v / 10)

const netArb = (mMin = 2, mMax = 5): fc.Arbitrary<Net> =>
  fc.integer({ min: mMin, max: mMax }).chain((m) =>
    fc.record({
      m: fc.constant(m),
      w1: fc.array(tenths(20), { minLength: m * H, maxLength: m * H }),
      b1: fc.array(tenths(10), { minLength: H, maxLength: H }),
      w2: fc.array(tenths(20), { minLength: H, maxLength: H }),
    }))

/** y = w2·tanh(W1 (x ⊙ keep) + b1), per row; `keep` zeroes the weights of ignored features. */
const netFn = (net: Net, keep?: (i: number) => boolean) => ([x]: readonly HostTensor[]): HostTensor => {
  const n = x!.shape[0]!
  const out = new Float32Array(n)
  for (let r = 0; r < n; r++) {
    let y = 0
    for (let h = 0; h < H; h++) {
      let a = net.b1[h]!
      for (let i = 0; i < net.m; i++) if (!keep || keep(i)) a += net.w1[h * net.m + i]! * Number(x!.data[r * net.m + i])
      y += net.w2[h]! * Math.tanh(a)
    }
    out[r] = y
  }
  return float32([n], out)
}

const pointArb = (m: number) => fc.array(tenths(20), { minLength: m, maxLength: m })
const caseArb = netArb().chain((net) => fc.record({ net: fc.constant(net), x: pointArb(net.m), b: pointArb(net.m) }))

const f = (net: Net, v: readonly number[]): number => netFn(net)([float32([1, net.m], v)]).data[0] as number
const sum = (t: HostTensor): number => Array.from(t.data as Float32Array).reduce((a, b) => a + b, 0)

type Method = (model: Model<HostTensor>, x: HostTensor, b: HostTensor) => Promise<HostTensor>
const shapley: Method = (model, x, b) => new ShapleyValues(model).attribute(x, { baselines: b })
const ablation: Method = (model, x, b) => new FeatureAblation(model).attribute(x, { baselines: b })

const efficiency = (method: Method) =>
  fc.asyncProperty(caseArb, async ({ net, x, b }) => {
    const a = await method(fromFunction(netFn(net)), float32([1, net.m], x), float32([1, net.m], b))
    const target = f(net, x) - f(net, b)
    expect(Math.abs(sum(a) - target)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(target)))
  })

describe('ShapleyValues', () => {
  it('efficiency: Σ φ = F(x) − F(x′)', async () => {
    await fc.assert(efficiency(shapley), RUNS)
    await fc.assert(efficiency((m, x, b) => new ShapleyValueSampling(m).attribute(x, { baselines: b, nSamples: 3, seed: 5 })), RUNS)
  })
  it('negative control: FeatureAblation is not efficient', async () => {
    await expect(fc.assert(efficiency(ablation), NEG)).rejects.toThrow()
  })

  // Features 0 and 1 enter only through x0 + x1, and x0 = x1, x′0 = x′1: φ0 = φ1.
  const symmetric = (method: Method) =>
    fc.asyncProperty(caseArb, tenths(20), tenths(20), async ({ net, x, b }, v, w) => {
      const tied: Net = { ...net, w1: net.w1.map((c, k) => (k % net.m === 1 ? net.w1[k - 1]! : c)) }
      const xs = [v, v, ...x.slice(2)]
      const bs = [w, w, ...b.slice(2)]
      const a = await method(fromFunction(netFn(tied)), float32([1, net.m], xs), float32([1, net.m], bs))
      expect(Math.abs(Number(a.data[0]) - Number(a.data[1]))).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(Number(a.data[0]))))
    })
  it('symmetry: interchangeable features get equal values', async () => {
    await fc.assert(symmetric(shapley), RUNS)
  })
  it('negative control: one fixed order (sampling with 1 permutation) is not symmetric', async () => {
    const oneOrder: Method = (m, x, b) => new ShapleyValueSampling(m).attribute(x, { baselines: b, nSamples: 1, seed: 3 })
    await expect(fc.assert(symmetric(oneOrder), RUNS)).rejects.toThrow()
  })

  // Feature `d` is ignored by the network: φ_d = 0.
  const dummy = (method: Method) =>
    fc.asyncProperty(caseArb, fc.nat(), async ({ net, x, b }, k) => {
      const d = k % net.m
      const a = await method(fromFunction(netFn(net, (i) => i !== d)), float32([1, net.m], x), float32([1, net.m], b))
      expect(Math.abs(Number(a.data[d]))).toBeLessThanOrEqual(1e-6)
    })
  it('dummy: an ignored feature gets 0 (ShapleyValues, ShapleyValueSampling, FeatureAblation)', async () => {
    await fc.assert(dummy(shapley), RUNS)
    await fc.assert(dummy((m, x, b) => new ShapleyValueSampling(m).attribute(x, { baselines: b, nSamples: 4 })), RUNS)
    await fc.assert(dummy(ablation), RUNS)
  })
  it('negative control: Occlusion with a 2-wide window smears onto the ignored feature', async () => {
    const smear: Method = (m, x, b) => new Occlusion(m).attribute(x, { baselines: b, slidingWindowShapes: [2] })
    await expect(fc.assert(dummy(smear), RUNS)).rejects.toThrow()
  })
})

describe('sampling methods converge to ShapleyValues', () => {
  const maxErr = (a: HostTensor, e: HostTensor): number => Math.max(...Array.from(a.data as Float32Array, (v, i) => Math.abs(v - Number(e.data[i]))))
  const converges = (method: Method, tol: number) =>
    fc.asyncProperty(caseArb, async ({ net, x, b }) => {
      const model = fromFunction(netFn(net))
      const xs = float32([1, net.m], x)
      const bs = float32([1, net.m], b)
      const exact = await shapley(model, xs, bs)
      const scale = Math.max(1e-3, ...Array.from(exact.data as Float32Array, Math.abs))
      expect(maxErr(await method(model, xs, bs), exact)).toBeLessThanOrEqual(tol * scale + 1e-4)
    })
  it('ShapleyValueSampling and KernelShap with many samples, KernelShap exact', async () => {
    await fc.assert(converges((m, x, b) => new ShapleyValueSampling(m).attribute(x, { baselines: b, nSamples: 3000, seed: 1 }), 0.08), RUNS)
    await fc.assert(converges((m, x, b) => new KernelShap(m).attribute(x, { baselines: b, nSamples: 3000, seed: 1 }), 0.08), RUNS)
    await fc.assert(converges((m, x, b) => new KernelShap(m).attribute(x, { baselines: b, exact: true }), 1e-3), RUNS)
  })
  it('and the error shrinks as samples grow (mean over seeds)', async () => {
    const net: Net = { m: 4, w1: [1, -2, 0.5, 1.5, -1, 1, 2, -0.5, 0.3, 0.7, -1.2, 1, 2, 1, -1, 0.5], b1: [0.1, -0.2, 0.3, 0], w2: [1, -1, 2, 0.5] }
    const model = fromFunction(netFn(net))
    const xs = float32([1, 4], [1, -1, 0.5, 2])
    const bs = float32([1, 4], [0, 0, 0, 0])
    const exact = await shapley(model, xs, bs)
    const meanErr = async (n: number, which: 'svs' | 'ks'): Promise<number> => {
      let acc = 0
      for (let seed = 0; seed < 8; seed++) {
        const a = which === 'svs'
          ? await new ShapleyValueSampling(model).attribute(xs, { baselines: bs, nSamples: n, seed })
          : await new KernelShap(model).attribute(xs, { baselines: bs, nSamples: n, seed })
        acc += maxErr(a, exact)
      }
      return acc / 8
    }
    for (const which of ['svs', 'ks'] as const) {
      const small = await meanErr(which === 'svs' ? 4 : 12, which)
      const large = await meanErr(which === 'svs' ? 400 : 1200, which)
      expect(large, which).toBeLessThan(small / 3)
    }
  })
  it('negative control: Lime (Lasso, cosine kernel) does not converge to Shapley values', async () => {
    const limeMethod: Method = (m, x, b) => new Lime(m).attribute(x, { baselines: b, nSamples: 3000, seed: 1 })
    await expect(fc.assert(converges(limeMethod, 0.08), NEG)).rejects.toThrow()
  })
})

describe('invariance to perturbationsPerEval (packing)', () => {
  const methods: Record<string, (m: Model<HostTensor>, x: HostTensor, ppe: number | undefined) => Promise<HostTensor>> = {
    FeatureAblation: (m, x, ppe) => new FeatureAblation(m).attribute(x, ppe ? { perturbationsPerEval: ppe } : {}),
    Occlusion: (m, x, ppe) => new Occlusion(m).attribute(x, { slidingWindowShapes: [2], ...(ppe ? { perturbationsPerEval: ppe } : {}) }),
    ShapleyValues: (m, x, ppe) => new ShapleyValues(m).attribute(x, ppe ? { perturbationsPerEval: ppe } : {}),
    ShapleyValueSampling: (m, x, ppe) => new ShapleyValueSampling(m).attribute(x, { nSamples: 7, seed: 9, ...(ppe ? { perturbationsPerEval: ppe } : {}) }),
    KernelShap: (m, x, ppe) => new KernelShap(m).attribute(x, { nSamples: 30, seed: 9, ...(ppe ? { perturbationsPerEval: ppe } : {}) }),
    Lime: (m, x, ppe) => new Lime(m).attribute(x, { nSamples: 30, seed: 9, ...(ppe ? { perturbationsPerEval: ppe } : {}) }),
  }
  const invariant = (fn: (net: Net) => (xs: readonly HostTensor[]) => HostTensor) =>
    fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }), async ({ net, x }, ppe, rows) => {
      const model = fromFunction(fn(net))
      const xs = float32([rows, net.m], Array.from({ length: rows }, (_, r) => x.map((v) => v + r)).flat())
      for (const [name, run] of Object.entries(methods)) {
        const auto = await run(model, xs, undefined)
        const packed = await run(model, xs, ppe)
        const bits = (t: HostTensor): number[] => Array.from(t.data as Float32Array, (v) => v + 0)
        expect(bits(packed), `${name} ppe=${ppe}`).toEqual(bits(auto))
      }
    })
  it('every method gives the same bits for any packing', async () => {
    await fc.assert(invariant((net) => netFn(net)), { ...RUNS, numRuns: 8 })
  })
  it('negative control: a forward that normalises over the batch makes packing visible', async () => {
    const batchNorm = (net: Net) => (xs: readonly HostTensor[]): HostTensor => {
      const y = netFn(net)(xs)
      const mean = Array.from(y.data as Float32Array).reduce((a, b) => a + b, 0) / y.shape[0]!
      return float32(y.shape, Float32Array.from(y.data as Float32Array, (v) => v - 0.5 * mean))
    }
    await expect(fc.assert(invariant(batchNorm), { ...RUNS, numRuns: 8 })).rejects.toThrow()
  })
})
