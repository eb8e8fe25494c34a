import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBackward } from '../../../../src/backends/onnx/gradients/builder.js'
import { fromProto, type Graph } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { int64, type HostTensor } from '../../../../src/core/tensor.js'
import { modelPath, oneHotSeed, randomTensor, saliencyCase, worstExcess } from './fixtures.js'

const loadGraph = (m: string): Graph => {
  const d = decodeModel(new Uint8Array(readFileSync(modelPath(m))))
  if (E.isLeft(d)) throw new Error(d.left.message)
  const g = fromProto(d.right)
  if (E.isLeft(g)) throw new Error(g.left.message)
  return g.right
}

const rt = async (m: string): Promise<OnnxRuntime> => {
  const r = await createOnnxRuntime(modelPath(m), { intraOpNumThreads: 1 })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** ⟨seed, f(x)⟩ in float64. */
const objective = (y: HostTensor, seed: HostTensor): number => {
  let s = 0
  for (let i = 0; i < y.data.length; i++) s += Number(y.data[i]) * Number(seed.data[i])
  return s
}

/** Central finite difference of ⟨seed, f⟩ w.r.t. element `idx` of the tensor `name` (a graph input or an injected tensor). */
const fdAt = async (r: OnnxRuntime, feeds: Record<string, HostTensor>, name: string, base: HostTensor, out: string, seed: HostTensor, idx: number, eps: number, inject: boolean): Promise<number> => {
  const at = async (d: number): Promise<number> => {
    const x = Float32Array.from(base.data as Float32Array)
    x[idx] = (x[idx] as number) + d
    const t: HostTensor = { dtype: 'float32', shape: base.shape, data: x }
    const o = right(inject ? await r.forward(feeds, { inject: { [name]: t }, outputs: [out] }) : await r.forward({ ...feeds, [name]: t }, { outputs: [out] }))
    return objective(o[out]!, seed)
  }
  const xp = Math.fround((base.data[idx] as number) + eps)
  const xm = Math.fround((base.data[idx] as number) - eps)
  return ((await at(eps)) - (await at(-eps))) / (xp - xm)
}

describe('buildBackward on the reference models', () => {
  // ReLU/MaxPool nets are piecewise linear: a finite difference that crosses a kink (or flips a
  // near-tied max) is off by that piece's share, so the cnn gets a wider relative tolerance; its
  // exact check is the Saliency fixture below.
  const cases: { model: string; out: string; wrt: string; shape: readonly number[]; classes: number; inject: boolean; eps: number; rel: number }[] = [
    { model: 'mlp', out: 'logits', wrt: 'input', shape: [3, 12], classes: 3, inject: false, eps: 1e-3, rel: 1e-2 },
    { model: 'sigmoidnet', out: 'output', wrt: 'input', shape: [3, 6], classes: 1, inject: false, eps: 1e-2, rel: 1e-2 },
    { model: 'cnn', out: 'logits', wrt: 'input', shape: [2, 3, 32, 32], classes: 5, inject: false, eps: 1e-3, rel: 5e-2 },
    { model: 'textcls', out: 'logits', wrt: '/embedding/Gather_output_0', shape: [2, 16], classes: 2, inject: true, eps: 1e-2, rel: 1e-2 },
  ]
  for (const c of cases) {
    it(`${c.model}: d${c.out}/d${c.wrt} matches central finite differences at random coordinates`, async () => {
      const r = await rt(c.model)
      try {
        const feeds: Record<string, HostTensor> = c.model === 'textcls'
          ? { input_ids: int64(c.shape, Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 500)) }
          : { input: randomTensor(c.shape, 3) }
        const seed = randomTensor([c.shape[0]!, c.classes], 5)
        const v = right(await r.vjp(feeds, { seeds: { [c.out]: seed }, wrt: [c.wrt], capture: [c.wrt] }))
        const g = v.grads[c.wrt]!
        const base = c.inject ? v.outputs[c.wrt]! : feeds['input']!
        expect(g.shape).toEqual(base.shape)
        const n = g.data.length
        const maxG = Math.max(...Array.from(g.data as Float32Array, Math.abs))
        for (const idx of [1, Math.floor(n / 3), Math.floor((2 * n) / 3) + 5, n - 2]) {
          const fd = await fdAt(r, feeds, c.wrt, base, c.out, seed, idx, c.eps, c.inject)
          expect(Math.abs((g.data[idx] as number) - fd), `${c.model} idx ${idx}: ad ${g.data[idx]} fd ${fd}`).toBeLessThan(2e-3 * maxG + c.rel * Math.abs(fd))
        }
      } finally {
        await r.dispose()
      }
    })
  }

  it('textcls: asking for the gradient w.r.t. the int64 input_ids is a DTypeMismatch', () => {
    const r = buildBackward(loadGraph('textcls'), { seeds: ['logits'], wrt: ['input_ids'] })
    expect(E.isLeft(r) && r.left._tag).toBe('DTypeMismatch')
    if (E.isLeft(r)) expect(r.left.path).toContain('input_ids')
  })

  it('textcls: the backward graph differentiates only float nodes and emits standard ops only', () => {
    const g = loadGraph('textcls')
    const bw = right(buildBackward(g, { seeds: ['logits'], wrt: ['/embedding/Gather_output_0'] }))
    expect(bw.graph.nodes.every((n) => n.domain === '')).toBe(true)
    expect(bw.graph.nodes.length).toBeGreaterThan(g.nodes.length)
    expect(Object.keys(bw.seedInputs)).toEqual(['logits'])
    expect(bw.graph.outputs.map((o) => o.name)).toEqual(['logits', 'clarus_grad/d//embedding/Gather_output_0'])
    // deterministic names: building twice gives the same graph
    const again = right(buildBackward(g, { seeds: ['logits'], wrt: ['/embedding/Gather_output_0'] }))
    expect(again.graph.nodes.map((n) => n.outputs.join(','))).toEqual(bw.graph.nodes.map((n) => n.outputs.join(',')))
  })

  it('errors: unknown wrt, unreachable wrt, all named', () => {
    const g = loadGraph('mlp')
    const unknown = buildBackward(g, { seeds: ['logits'], wrt: ['nope', 'input'] })
    expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownTensor')
    if (E.isLeft(unknown)) expect(unknown.left.message).toContain('nope')
    // the output of fc1 does not depend on relu2's output: not reachable from the seed fc1
    const unreachable = buildBackward(g, { seeds: ['/fc1/Gemm_output_0'], wrt: ['/relu2/Relu_output_0'] })
    expect(E.isLeft(unreachable) && unreachable.left._tag).toBe('NotReachable')
    if (E.isLeft(unreachable)) expect(unreachable.left.message).toContain('/relu2/Relu_output_0')
  })

  it('prunes: only nodes between wrt and seeds get backward nodes', () => {
    const g = loadGraph('mlp')
    const bw = right(buildBackward(g, { seeds: ['logits'], wrt: ['/relu2/Relu_output_0'] }))
    const backward = bw.graph.nodes.slice(g.nodes.length)
    // only fc3 (Gemm) is on the path: no Relu backward (Where) nodes
    expect(backward.some((n) => n.opType === 'Where')).toBe(false)
    expect(backward.some((n) => n.opType === 'Gemm')).toBe(true)
  })

  it('one backward session serves several batch sizes', async () => {
    const r = await rt('mlp')
    try {
      for (const n of [1, 4, 2]) {
        const v = right(await r.vjp({ input: randomTensor([n, 12], n) }, { seeds: { logits: oneHotSeed(n, 3, new Array<number>(n).fill(1)) }, wrt: ['input'] }))
        expect(v.grads['input']!.shape).toEqual([n, 12])
      }
    } finally {
      await r.dispose()
    }
  })
})

describe('Saliency fixtures (Captum 0.8.0) reproduced through the backward graph', () => {
  const fixtures: [string, string, string][] = [
    ['mlp', 'mlp.saliency.abs_true.t0', 'logits'],
    ['cnn', 'cnn.saliency.abs_true.t3', 'logits'],
    ['cnn', 'cnn.saliency.abs_false.tlist', 'logits'],
  ]
  let runtimes: Map<string, OnnxRuntime>
  beforeAll(() => {
    runtimes = new Map()
  })
  afterAll(async () => {
    for (const r of runtimes.values()) await r.dispose()
  })
  for (const [model, id, out] of fixtures) {
    it(id, async () => {
      const r = runtimes.get(model) ?? (await rt(model))
      runtimes.set(model, r)
      const c = saliencyCase(model, id)
      const rows = c.input.shape[0]!
      const classes = model === 'cnn' ? 5 : model === 'mlp' ? 3 : 10
      const v = right(await r.vjp({ input: c.input }, { seeds: { [out]: oneHotSeed(rows, classes, c.target) }, wrt: ['input'] }))
      const g = Array.from(v.grads['input']!.data as Float32Array, (x) => (c.abs ? Math.abs(x) : x))
      expect(worstExcess(g, c.expected, c.tolerance)).toBeLessThanOrEqual(0)
      // negative control: a different target does not match
      const wrong = right(await r.vjp({ input: c.input }, { seeds: { [out]: oneHotSeed(rows, classes, c.target.map((t) => (t + 1) % classes)) }, wrt: ['input'] }))
      const gw = Array.from(wrong.grads['input']!.data as Float32Array, (x) => (c.abs ? Math.abs(x) : x))
      expect(worstExcess(gw, c.expected, c.tolerance)).toBeGreaterThan(0)
    })
  }

  it('resnet18.saliency.abs_true.t3 (batch 1): within tolerance except one float32-rounding-sized patch', async () => {
    // ORT's float32 forward differs from torch's by ~4e-7; one conv1 activation in this case sits on
    // a ReLU kink / MaxPool near-tie, which re-routes its 7×7×3 receptive field (≈ 0.1 % of the
    // elements, max error 1.7e-3·max|e|). Everything else meets the fixture tolerance.
    const r = await rt('resnet18')
    try {
      const c = saliencyCase('resnet18', 'resnet18.saliency.abs_true.t3')
      const score = async (target: readonly number[]): Promise<{ frac: number; maxErr: number; maxE: number }> => {
        const v = right(await r.vjp({ input: c.input }, { seeds: { logits: oneHotSeed(1, 10, target) }, wrt: ['input'] }))
        const g = v.grads['input']!.data as Float32Array
        let ok = 0
        let maxErr = 0
        let maxE = 0
        for (let i = 0; i < g.length; i++) {
          const e = c.expected[i] as number
          const d = Math.abs(Math.abs(g[i] as number) - e)
          if (d <= c.tolerance.abs + c.tolerance.rel * Math.abs(e)) ok++
          maxErr = Math.max(maxErr, d)
          maxE = Math.max(maxE, Math.abs(e))
        }
        return { frac: ok / g.length, maxErr, maxE }
      }
      const good = await score(c.target)
      expect(good.frac).toBeGreaterThan(0.998)
      expect(good.maxErr).toBeLessThan(5e-3 * good.maxE)
      const bad = await score(c.target.map((t) => (t + 1) % 10))
      expect(bad.frac).toBeLessThan(0.5)
    } finally {
      await r.dispose()
    }
  })
})
