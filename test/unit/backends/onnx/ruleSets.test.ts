// Modified backprop as rule sets on the ONNX backend (issue 10): the rule-set mechanism of the
// backward builder (coverage errors before anything runs, session keys) and the DeepLift rescale,
// guided-backprop and deconvolution rules. Oracles: hand computations in plain JS on small graphs
// built here, DeepLift's completeness (Σ (x − x_ref)·m = F(x) − F(x_ref)) from the forward pass, and
// the Captum 0.8 fixtures in ../shared/reference.
import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBackward } from '../../../../src/backends/onnx/gradients/builder.js'
import { attr, ElemType, type Graph, type Node } from '../../../../src/backends/onnx/graph/ir.js'
import { toProto } from '../../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { fromOnnx } from '../../../../src/backends/onnx/model.js'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { DECONVOLUTION, DEEPLIFT, GUIDED_BACKPROP, type RuleSet } from '../../../../src/core/ruleSet.js'
import { float32, type HostTensor } from '../../../../src/core/tensor.js'
import { modelPath, randomTensor, REF, worstExcess } from './fixtures.js'

// ------------------------------------------------------------------------------------------------
// small graphs and plain-JS helpers
// ------------------------------------------------------------------------------------------------

type Mat = number[][]
const f32 = Math.fround
const node = (out: string, opType: string, inputs: string[], attributes: Node['attributes'] = []): Node => ({ name: `${out}_node`, opType, domain: '', inputs, outputs: [out], attributes })
const weight = (name: string, m: Mat): [string, { name: string; dims: number[]; dataType: number; floatData: number[] }] =>
  [name, { name, dims: [m.length, m[0]!.length], dataType: ElemType.FLOAT, floatData: m.flat().map(f32) }]

const graphOf = (nodes: Node[], inputShape: (string | number)[], outputShape: (string | number)[], weights: ReturnType<typeof weight>[], opset = 17): Graph => ({
  name: 'g',
  nodes,
  inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: inputShape }],
  outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: outputShape }],
  initializers: new Map(weights),
  valueInfo: [],
  opsetImports: [{ domain: '', version: opset }],
  irVersion: 8,
  modelExtras: {},
})

const runtimeOf = async (g: Graph | string): Promise<OnnxRuntime> => {
  const r = await createOnnxRuntime(typeof g === 'string' ? g : encodeModel(toProto(g)), { intraOpNumThreads: 1 })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

const matMul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!))
const zip = (a: Mat, b: Mat, f: (x: number, y: number) => number): Mat => a.map((r, i) => r.map((v, j) => f(v, b[i]![j]!)))
const host = (m: Mat): HostTensor => float32([m.length, m[0]!.length], m.flat())
const stack = (a: HostTensor, b: HostTensor): HostTensor => float32([a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)], [...a.data as Float32Array, ...b.data as Float32Array])
const firstRows = (t: HostTensor, n: number): Float32Array => (t.data as Float32Array).slice(0, (t.data.length / t.shape[0]!) * n)
const lastRows = (t: HostTensor, n: number): Float32Array => (t.data as Float32Array).slice((t.data.length / t.shape[0]!) * (t.shape[0]! - n))
const oneHot = (n: number, classes: number, target: readonly number[]): HostTensor =>
  float32([n, classes], Array.from({ length: n * classes }, (_, k) => (target[Math.floor(k / classes)] === k % classes ? 1 : 0)))
const expectClose = (a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void => {
  expect(a.length, what).toBe(e.length)
  for (let i = 0; i < e.length; i++) expect(Math.abs(Number(a[i]) - Number(e[i])), `${what}[${i}]: ${a[i]} vs ${e[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(Number(e[i]))))
}

const W1: Mat = [[0.5, -1.2, 0.3, 0.8], [-0.7, 0.4, 1.1, -0.2], [0.9, 0.6, -0.5, 0.4]]
const W2: Mat = [[1.0, -0.5], [0.3, 0.8], [-0.6, 0.2], [0.7, 1.4]]
const W3: Mat = [[0.2, -0.4, 0.6, 0.1], [-0.3, 0.5, 0.2, -0.8], [0.9, -0.1, 0.4, 0.3], [0.5, 0.7, -0.6, 0.2]]

/** y = act(x·W1)·W2 with one activation node. */
const oneActivation = (op: string, attrs: Node['attributes'] = []): Graph =>
  graphOf([node('h', 'MatMul', ['x', 'W1']), node('a', op, ['h'], attrs), node('y', 'MatMul', ['a', 'W2'])], ['batch', 3], ['batch', 2], [weight('W1', W1), weight('W2', W2)])

const X: Mat = [[1, -0.5, 0.25], [-0.75, 0.5, 1.5]]
const B: Mat = [[0.2, 0.1, -0.3], [-0.75, 0.5, 1.5]] // the second pair: input = reference (every |Δin| < eps)
const S: Mat = [[1, 0], [0.5, -2]]

/** DeepLift through one elementwise activation, by hand: dx = ((S·W2ᵀ) ⊙ m)·W1ᵀ, m = Δout/Δin (derivative at the row's own input where Δin = 0). */
const handRescale = (f: (v: number) => number, df: (v: number) => number, x: Mat, b: Mat, s: Mat): { input: Mat; reference: Mat } => {
  const hx = matMul(x, W1)
  const hb = matMul(b, W1)
  const da = matMul(s, transpose(W2))
  const m = (own: Mat): Mat => zip(hx, hb, (u, v) => (Math.abs(u - v) < 1e-10 ? NaN : (f(u) - f(v)) / (u - v))).map((r, i) => r.map((v, j) => (Number.isNaN(v) ? df(own[i]![j]!) : v)))
  return { input: matMul(zip(da, m(hx), (p, q) => p * q), transpose(W1)), reference: matMul(zip(da, m(hb), (p, q) => p * q), transpose(W1)) }
}

const vjpRows = async (rt: OnnxRuntime, x: HostTensor, seed: HostTensor, opts: { ruleSet?: RuleSet; referenceRows?: 'halves'; wrt?: string } = {}): Promise<HostTensor> => {
  const wrt = opts.wrt ?? 'x'
  const r = right(await rt.vjp({ x }, { seeds: { y: seed }, wrt: [wrt], ...(opts.ruleSet ? { ruleSet: opts.ruleSet } : {}), ...(opts.referenceRows ? { referenceRows: opts.referenceRows } : {}) }))
  return r.grads[wrt]!
}

// ------------------------------------------------------------------------------------------------
// coverage: every node without a usable rule, before anything runs
// ------------------------------------------------------------------------------------------------

describe('rule sets in the ONNX backward builder: coverage before running', () => {
  const withErf = graphOf([
    node('h', 'MatMul', ['x', 'W1']),
    node('e', 'Erf', ['h']),
    node('r', 'Relu', ['e']),
    node('e2', 'Erf', ['r']),
    node('t', 'Exp', ['e2']),
    node('y', 'MatMul', ['t', 'W2']),
  ], ['batch', 3], ['batch', 2], [weight('W1', W1), weight('W2', W2)])

  it('lists every unmatched node on the path in one UnsupportedOps error, path [ruleSet]', () => {
    const r = buildBackward(withErf, { seeds: ['y'], wrt: ['x'], ruleSet: DEEPLIFT, referenceRows: 'halves' })
    if (E.isRight(r)) throw new Error('expected an error')
    expect(r.left._tag).toBe('UnsupportedOps')
    expect(r.left.path).toEqual(['ruleSet'])
    expect(r.left._tag === 'UnsupportedOps' && r.left.nodes.map((n) => `${n.opType}:${n.name}`)).toEqual(['Erf:e_node', 'Erf:e2_node', 'Exp:t_node'])
    expect(r.left.message).toMatch(/rule set "DeepLift" leaves 3 node\(s\)/)
  })

  it('an explicit gradient entry or unmatched: gradient covers them; the matched Relu keeps its rule', () => {
    const explicit: RuleSet = { ...DEEPLIFT, entries: [...DEEPLIFT.entries, { match: { opType: ['Erf', 'Exp'] }, rule: { rule: 'gradient' } }] }
    expect(E.isRight(buildBackward(withErf, { seeds: ['y'], wrt: ['x'], ruleSet: explicit, referenceRows: 'halves' }))).toBe(true)
    expect(E.isRight(buildBackward(withErf, { seeds: ['y'], wrt: ['x'], ruleSet: { ...DEEPLIFT, unmatched: 'gradient' }, referenceRows: 'halves' }))).toBe(true)
  })

  it('a rule with no implementation for the op type, and rescale without references, are reported with the node', () => {
    const g = oneActivation('Tanh')
    const noImpl = buildBackward(g, { seeds: ['y'], wrt: ['x'], ruleSet: { name: 'odd', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'guided' } }] } })
    if (E.isRight(noImpl)) throw new Error('expected an error')
    expect(noImpl.left).toMatchObject({ _tag: 'UnsupportedOps', path: ['ruleSet'], nodes: [{ name: 'a_node', opType: 'Tanh' }] })
    expect(noImpl.left.message).toMatch(/rule 'guided' has no ONNX implementation for op type Tanh/)
    const noRef = buildBackward(g, { seeds: ['y'], wrt: ['x'], ruleSet: DEEPLIFT })
    if (E.isRight(noRef)) throw new Error('expected an error')
    expect(noRef.left).toMatchObject({ _tag: 'UnsupportedOps', path: ['ruleSet'], nodes: [{ name: 'a_node', opType: 'Tanh' }] })
    expect(noRef.left.message).toMatch(/referenceRows: 'halves'/)
  })

  it('a pass-through product of two tensors on the path is reported (a product with a constant is not)', () => {
    const g = graphOf([
      node('h', 'MatMul', ['x', 'W1']),
      node('a', 'Relu', ['h']),
      node('p', 'Mul', ['a', 'h']),
      node('c', 'Mul', ['p', 'W1row']),
      node('y', 'MatMul', ['c', 'W2']),
    ], ['batch', 3], ['batch', 2], [weight('W1', W1), weight('W2', W2), weight('W1row', [W1[0]!])])
    const r = buildBackward(g, { seeds: ['y'], wrt: ['x'], ruleSet: DEEPLIFT, referenceRows: 'halves' })
    if (E.isRight(r)) throw new Error('expected an error')
    expect(r.left).toMatchObject({ _tag: 'UnsupportedOps', path: ['ruleSet'], nodes: [{ name: 'p_node', opType: 'Mul' }] })
    expect(r.left.message).toMatch(/multiplies two tensors that both lie on the gradient path/)
  })

  it('fromOnnx: referenceRows halves with an odd number of rows is a ShapeMismatch before running', async () => {
    const m = right(await fromOnnx(modelPath('mlp')))
    try {
      const r = await m.vjp([randomTensor([3, 12], 1)], { kind: 'linear', seed: (shape) => E.right(float32(shape, new Array<number>(shape.reduce((p, q) => p * q, 1)).fill(1))) }, { wrt: { kind: 'inputs' }, ruleSet: DEEPLIFT, referenceRows: 'halves' })()
      expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'ShapeMismatch', path: ['referenceRows'] })
    } finally {
      await m.dispose()
    }
  })

  it('without a rule set nothing changes: the same graph builds with ordinary gradients', () => {
    expect(E.isRight(buildBackward(withErf, { seeds: ['y'], wrt: ['x'] }))).toBe(true)
  })
})

// ------------------------------------------------------------------------------------------------
// DeepLift rescale against hand computations
// ------------------------------------------------------------------------------------------------

describe('DeepLift rescale on ONNX, by hand', () => {
  const x2 = stack(host(X), host(B))
  const seed = stack(host(S), host(S))
  const acts: { op: string; f: (v: number) => number; df: (v: number) => number; attrs?: Node['attributes'] }[] = [
    { op: 'Tanh', f: Math.tanh, df: (v) => 1 - Math.tanh(v) ** 2 },
    { op: 'Sigmoid', f: (v) => 1 / (1 + Math.exp(-v)), df: (v) => Math.exp(-v) / (1 + Math.exp(-v)) ** 2 },
    { op: 'Relu', f: (v) => Math.max(v, 0), df: (v) => (v > 0 ? 1 : 0) },
    { op: 'LeakyRelu', f: (v) => (v > 0 ? v : 0.1 * v), df: (v) => (v > 0 ? 1 : 0.1), attrs: [attr.float('alpha', 0.1)] },
    { op: 'Elu', f: (v) => (v > 0 ? v : Math.exp(v) - 1), df: (v) => (v > 0 ? 1 : Math.exp(v)) },
    { op: 'Softplus', f: (v) => Math.log1p(Math.exp(v)), df: (v) => 1 / (1 + Math.exp(-v)) },
  ]
  for (const a of acts) {
    it(`${a.op}: (Δout/Δin)-multiplier on both halves, the ordinary derivative where Δin = 0`, async () => {
      const rt = await runtimeOf(oneActivation(a.op, a.attrs))
      try {
        const g = await vjpRows(rt, x2, seed, { ruleSet: DEEPLIFT, referenceRows: 'halves' })
        const want = handRescale(a.f, a.df, X.map((r) => r.map(f32)), B.map((r) => r.map(f32)), S)
        expectClose(firstRows(g, 2), want.input.flat(), 2e-5, `${a.op} input half`)
        expectClose(lastRows(g, 2), want.reference.flat(), 2e-5, `${a.op} reference half`)
        // negative control: the ordinary gradient differs on the first pair
        const plain = await vjpRows(rt, x2, seed)
        expect(Math.max(...Array.from(firstRows(plain, 1)).map((v, i) => Math.abs(v - want.input[0]![i]!)))).toBeGreaterThan(1e-3)
      } finally {
        await rt.dispose()
      }
    })
  }

  it('Softmax: the rescale multiplier minus its mean over the whole 2n-row tensor (Captum)', async () => {
    const rt = await runtimeOf(oneActivation('Softmax', [attr.int('axis', -1)]))
    try {
      const g = await vjpRows(rt, x2, seed, { ruleSet: DEEPLIFT, referenceRows: 'halves' })
      const sm = (r: number[]): number[] => {
        const e = r.map(Math.exp)
        const s = e.reduce((p, q) => p + q, 0)
        return e.map((v) => v / s)
      }
      const hx = matMul(X.map((r) => r.map(f32)), W1)
      const hb = matMul(B.map((r) => r.map(f32)), W1)
      const [sx, sb] = [hx.map(sm), hb.map(sm)]
      const da = matMul(S, transpose(W2))
      // ordinary softmax gradient per row, for the Δin = 0 fallback
      const ord = (s: Mat): Mat => s.map((r, i) => {
        const dot = r.reduce((p, v, j) => p + v * da[i]![j]!, 0)
        return r.map((v, j) => v * (da[i]![j]! - dot))
      })
      const half = (own: Mat): Mat => hx.map((r, i) => r.map((u, j) => {
        const din = u - hb[i]![j]!
        return Math.abs(din) < 1e-10 ? own[i]![j]! : (da[i]![j]! * (sx[i]![j]! - sb[i]![j]!)) / din
      }))
      const unnorm = [...half(ord(sx)), ...half(ord(sb))]
      const mean = unnorm.flat().reduce((p, q) => p + q, 0) / unnorm.flat().length
      const dh = unnorm.map((r) => r.map((v) => v - mean))
      const want = matMul(dh, transpose(W1))
      expectClose(g.data as Float32Array, want.flat(), 2e-5, 'softmax')
    } finally {
      await rt.dispose()
    }
  })

  it('Captum\'s hook order: a Relu feeding a MaxPool directly scales the MaxPool\'s ordinary gradient (its fallback sees the rule\'s)', async () => {
    // x: [1, 3, 2, −1], reference [4, 0, −1, 0]; relu → [1, 3, 2, 0] and [4, 0, 0, 0]; y = 2·maxpool
    const g = graphOf([
      node('r', 'Relu', ['x']),
      node('p', 'MaxPool', ['r'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
      node('f', 'Flatten', ['p']),
      node('y', 'MatMul', ['f', 'W']),
    ], ['batch', 1, 2, 2], ['batch', 1], [weight('W', [[2]])])
    const rt = await runtimeOf(g)
    try {
      const x = float32([2, 1, 2, 2], [1, 3, 2, -1, 4, 0, -1, 0])
      const grad = await vjpRows(rt, x, float32([2, 1], [1, 1]), { ruleSet: DEEPLIFT, referenceRows: 'halves' })
      // Captum: the Relu records the ordinary MaxPool gradient, 2 at each half's own argmax ([0, 2, 0, 0]
      // and [2, 0, 0, 0]), times its multiplier Δout/Δin = [−3, 3, 2, 0]/[−3, 3, 3, −1] = [1, 1, 2/3, 0]
      expectClose(grad.data as Float32Array, [0, 2, 0, 0, 2, 0, 0, 0], 1e-6, 'relu → maxpool')
    } finally {
      await rt.dispose()
    }
  })

  it('MaxPool: each half routed through its own argmax, summed per pair, divided by Δin (Captum), hand example', async () => {
    // x: [1, 3, 2, 0] (max 3 at 1), reference: [4, 0, 0, 0] (max 4 at 0); y = 2·maxpool
    const g = graphOf([
      node('p', 'MaxPool', ['x'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
      node('f', 'Flatten', ['p']),
      node('y', 'MatMul', ['f', 'W']),
    ], ['batch', 1, 2, 2], ['batch', 1], [weight('W', [[2]])])
    const rt = await runtimeOf(g)
    try {
      const x = float32([2, 1, 2, 2], [1, 3, 2, 0, 4, 0, 0, 0])
      const grad = await vjpRows(rt, x, float32([2, 1], [1, 1]), { ruleSet: DEEPLIFT, referenceRows: 'halves' })
      // m = max(3, 4) = 4: input half routes (4 − 4)·2 = 0 to index 1; reference half routes (3 − 4)·2 = −2
      // to index 0; Δin = [−3, 3, 2, 0] → [−2/−3, 0, 0, first row of the ordinary gradient at index 3 = 0]
      expectClose(grad.data as Float32Array, [2 / 3, 0, 0, 0, 2 / 3, 0, 0, 0], 1e-6, 'maxpool')
      // completeness: Σ Δin·m = 2·(3 − 4)
      expect((1 - 4) * (2 / 3)).toBeCloseTo(2 * (3 - 4), 6)
    } finally {
      await rt.dispose()
    }
  })
})

// ------------------------------------------------------------------------------------------------
// Captum's known failures: each node instance gets its rule
// ------------------------------------------------------------------------------------------------

/** Σ_j (x − b)_ij · m_ij per pair i, and F(x) − F(b) per pair from the forward pass. */
const completeness = async (rt: OnnxRuntime, input: string, output: string, x: HostTensor, b: HostTensor, seedOne: HostTensor): Promise<{ sum: number[]; delta: number[] }> => {
  const n = x.shape[0]!
  const xs = stack(x, b)
  const r = right(await rt.vjp({ [input]: xs }, { seeds: { [output]: stack(seedOne, seedOne) }, wrt: [input], ruleSet: DEEPLIFT, referenceRows: 'halves' }))
  const m = r.grads[input]!
  const per = m.data.length / (2 * n)
  const sum = Array.from({ length: n }, (_, i) => {
    let s = 0
    for (let k = 0; k < per; k++) s += ((x.data[i * per + k] as number) - (b.data[i * per + k] as number)) * (m.data[i * per + k] as number)
    return s
  })
  const y = right(await rt.forward({ [input]: xs }, { outputs: [output] }))[output]!
  const c = y.data.length / (2 * n)
  const delta = Array.from({ length: n }, (_, i) => {
    let s = 0
    for (let k = 0; k < c; k++) s += ((y.data[i * c + k] as number) - (y.data[(n + i) * c + k] as number)) * (seedOne.data[i * c + k] as number)
    return s
  })
  return { sum, delta }
}

describe('DeepLift on graphs Captum rejects or gets wrong (every node instance gets its rule)', () => {
  it('a residual block reusing one Relu output twice, and one activation applied twice: completeness holds', async () => {
    // a1 = relu(x·W1); h2 = a1·W3 + a1 (a1 used twice); a2 = relu(h2) (the same function again); y = tanh(a2·W3)·W2
    const g = graphOf([
      node('h1', 'MatMul', ['x', 'W1']),
      node('a1', 'Relu', ['h1']),
      node('m', 'MatMul', ['a1', 'W3']),
      node('h2', 'Add', ['m', 'a1']),
      node('a2', 'Relu', ['h2']),
      node('m2', 'MatMul', ['a2', 'W3']),
      node('t', 'Tanh', ['m2']),
      node('y', 'MatMul', ['t', 'W2']),
    ], ['batch', 3], ['batch', 2], [weight('W1', W1), weight('W2', W2), weight('W3', W3)])
    const rt = await runtimeOf(g)
    try {
      const x = randomTensor([4, 3], 11, 2)
      const b = randomTensor([4, 3], 12, 1)
      for (const t of [0, 1]) {
        const c = await completeness(rt, 'x', 'y', x, b, oneHot(4, 2, [t, t, t, t]))
        expectClose(c.sum, c.delta, 1e-5, `target ${t}`)
        // negative control: gradient × (x − b) does not sum to the difference on this nonlinear net
        const plain = right(await rt.vjp({ x }, { seeds: { y: oneHot(4, 2, [t, t, t, t]) }, wrt: ['x'] })).grads['x']!
        const gxi = Array.from({ length: 4 }, (_, i) => [0, 1, 2].reduce((s, k) => s + ((x.data[i * 3 + k] as number) - (b.data[i * 3 + k] as number)) * (plain.data[i * 3 + k] as number), 0))
        expect(Math.max(...gxi.map((v, i) => Math.abs(v - c.delta[i]!)))).toBeGreaterThan(1e-3)
      }
    } finally {
      await rt.dispose()
    }
  })

  it('two activations in a row (Tanh → Sigmoid → Relu): completeness holds, as on tfjs (Captum\'s hook-order quirk is kept to MaxPool)', async () => {
    const g = graphOf([
      node('h1', 'MatMul', ['x', 'W1']),
      node('a', 'Tanh', ['h1']),
      node('s', 'Sigmoid', ['a']),
      node('r', 'Relu', ['s']),
      node('y', 'MatMul', ['r', 'W2']),
    ], ['batch', 3], ['batch', 2], [weight('W1', W1), weight('W2', W2)])
    const rt = await runtimeOf(g)
    try {
      const x = randomTensor([4, 3], 21, 2)
      const b = randomTensor([4, 3], 22, 1)
      const c = await completeness(rt, 'x', 'y', x, b, oneHot(4, 2, [1, 1, 1, 1]))
      expectClose(c.sum, c.delta, 1e-5, 'Tanh → Sigmoid → Relu')
    } finally {
      await rt.dispose()
    }
  })

  it('stock torchvision resnet18 (one ReLU module reused per block) builds and runs under DEEPLIFT; completeness delta small', async () => {
    const rt = await runtimeOf(modelPath('resnet18'))
    try {
      const input = rt.signature.inputs[0]!.name
      const output = rt.signature.outputs[0]!.name
      const x = randomTensor([1, 3, 224, 224], 5, 1)
      const b = float32([1, 3, 224, 224], new Float32Array(3 * 224 * 224))
      const classes = Number(rt.signature.outputs[0]!.shape?.[1])
      const c = await completeness(rt, input, output, x, b, oneHot(1, classes, [3]))
      expect(Math.abs(c.delta[0]!)).toBeGreaterThan(1e-3)
      expect(Math.abs(c.sum[0]! - c.delta[0]!)).toBeLessThanOrEqual(1e-3 * Math.abs(c.delta[0]!) + 1e-4)
    } finally {
      await rt.dispose()
    }
  }, 120_000)
})

// ------------------------------------------------------------------------------------------------
// guided backprop and deconvolution
// ------------------------------------------------------------------------------------------------

describe('guided backprop and deconvolution on ONNX', () => {
  it('deconvolution through two ReLUs in a row: each ReLU passes the positive part of the gradient it receives (as on tfjs; Captum\'s hook-order quirk is kept to MaxPool)', async () => {
    const g = graphOf([node('r1', 'Relu', ['x']), node('r2', 'Relu', ['r1']), node('y', 'MatMul', ['r2', 'W'])], ['batch', 3], ['batch', 1], [weight('W', [[1], [-1], [2]])])
    const rt = await runtimeOf(g)
    try {
      // dy at r2 = [1, −1, 2]; r2 gives relu(dy) = [1, 0, 2]; r1 gives relu of that, whatever its input
      expectClose((await vjpRows(rt, float32([1, 3], [1, 2, -1]), float32([1, 1], [1]), { ruleSet: DECONVOLUTION })).data as Float32Array, [1, 0, 2], 1e-7, 'deconv ∘ deconv')
      // guided reads the replaced gradient (grad_input): x = [1, 2, 3] gives relu(relu([1, −1, 2])·[x > 0]) = [1, 0, 2]
      expectClose((await vjpRows(rt, float32([1, 3], [1, 2, 3]), float32([1, 1], [1]), { ruleSet: GUIDED_BACKPROP })).data as Float32Array, [1, 0, 2], 1e-7, 'guided ∘ guided')
    } finally {
      await rt.dispose()
    }
  })

  it('guided backprop on a graph without ReLUs equals the gradient; on a ReLU net it is relu(relu-masked gradient) at each ReLU', async () => {
    const tanhNet = await runtimeOf(oneActivation('Tanh'))
    const reluNet = await runtimeOf(oneActivation('Relu'))
    try {
      const x = host(X)
      const seed = host(S)
      expectClose((await vjpRows(tanhNet, x, seed, { ruleSet: GUIDED_BACKPROP })).data as Float32Array, (await vjpRows(tanhNet, x, seed)).data as Float32Array, 1e-6, 'guided = gradient')
      const h = matMul(X.map((r) => r.map(f32)), W1)
      const da = matMul(S, transpose(W2))
      const guided = matMul(zip(da, h, (d, v) => (v > 0 ? Math.max(d, 0) : 0)), transpose(W1))
      const deconv = matMul(da.map((r) => r.map((d) => Math.max(d, 0))), transpose(W1))
      expectClose((await vjpRows(reluNet, x, seed, { ruleSet: GUIDED_BACKPROP })).data as Float32Array, guided.flat(), 1e-5, 'guided')
      expectClose((await vjpRows(reluNet, x, seed, { ruleSet: DECONVOLUTION })).data as Float32Array, deconv.flat(), 1e-5, 'deconv')
    } finally {
      await tanhNet.dispose()
      await reluNet.dispose()
    }
  })
})

// ------------------------------------------------------------------------------------------------
// the Captum fixtures, at the vjp level
// ------------------------------------------------------------------------------------------------

interface JsonTensor { readonly shape: readonly number[]; readonly data?: unknown; readonly file?: string; readonly byte_offset?: number; readonly length?: number }
const tensorOf = (dir: string, t: JsonTensor): HostTensor => {
  if (t.file !== undefined) {
    const buf = readFileSync(join(dir, t.file))
    const off = buf.byteOffset + (t.byte_offset ?? 0)
    return float32(t.shape, new Float32Array(buf.buffer.slice(off, off + 4 * (t.length ?? 0))))
  }
  return float32(t.shape, ((t.data as unknown[]).flat(Infinity as 1) as number[]))
}
interface Fixture {
  readonly input: HostTensor
  readonly baseline: HostTensor
  readonly target: readonly number[] | null
  readonly multiply: boolean
  readonly expected: Float32Array
  readonly tolerance: { readonly abs: number; readonly rel: number }
}
const fixture = (model: string, id: string): Fixture => {
  const dir = join(REF, 'cases', model)
  const c = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as {
    inputs: JsonTensor[]; args: { target?: number | number[] | null; baselines?: JsonTensor | null }; constructor: { multiply_by_inputs?: boolean }
    expected: { attribution: JsonTensor }; tolerance: { abs: number; rel: number }
  }
  const input = tensorOf(dir, c.inputs[0]!)
  const n = input.shape[0]!
  const per = input.data.length / n
  const b0 = c.args.baselines ? tensorOf(dir, c.args.baselines) : float32([1, ...input.shape.slice(1)], new Float32Array(per))
  const baseline = b0.shape[0] === n ? b0 : float32(input.shape, Array.from({ length: n * per }, (_, k) => b0.data[k % per] as number))
  const t = c.args.target
  return {
    input, baseline,
    target: t === undefined || t === null ? null : Array.isArray(t) ? t : new Array<number>(n).fill(t),
    multiply: c.constructor.multiply_by_inputs !== false,
    expected: tensorOf(dir, c.expected.attribution).data as Float32Array,
    tolerance: c.tolerance,
  }
}

describe('the Captum fixtures through vjp with rule sets (ONNX)', () => {
  const rts = new Map<string, OnnxRuntime>()
  beforeAll(async () => {
    for (const m of ['mlp', 'cnn', 'sigmoidnet']) rts.set(m, await runtimeOf(modelPath(m)))
  })
  afterAll(async () => {
    for (const rt of rts.values()) await rt.dispose()
  })
  const seedFor = (rt: OnnxRuntime, f: Fixture, n: number): HostTensor => {
    const classes = Number(rt.signature.outputs[0]!.shape?.[1] ?? 1)
    return f.target === null ? float32([n, classes], new Array<number>(n * classes).fill(1)) : oneHot(n, classes, f.target)
  }

  const deepLiftCases: [string, string][] = [
    ['mlp', 'mlp.deeplift.zeros.t0'],
    ['mlp', 'mlp.deeplift.baseline_full.tlist'],
    ['mlp', 'mlp.deeplift.not_multiplied.t2'],
    ['cnn', 'cnn.deeplift.zeros.t0'],
    ['sigmoidnet', 'sigmoidnet.deeplift.baseline_full.tnone'],
  ]
  it.each(deepLiftCases)('%s: %s (DeepLift)', async (m, id) => {
    const rt = rts.get(m)!
    const f = fixture(m, id)
    const n = f.input.shape[0]!
    const seed = seedFor(rt, f, n)
    const name = rt.signature.inputs[0]!.name
    const r = right(await rt.vjp({ [name]: stack(f.input, f.baseline) }, { seeds: { [rt.signature.outputs[0]!.name]: stack(seed, seed) }, wrt: [name], ruleSet: DEEPLIFT, referenceRows: 'halves' }))
    const mult = firstRows(r.grads[name]!, n)
    const attr = f.multiply ? mult.map((v, k) => v * ((f.input.data[k] as number) - (f.baseline.data[k] as number))) : mult
    expect(worstExcess(attr, f.expected, f.tolerance)).toBeLessThanOrEqual(0)
  })

  const plainCases: [string, string, RuleSet][] = [
    ['mlp', 'mlp.guidedbackprop.tlist', GUIDED_BACKPROP],
    ['mlp', 'mlp.deconvolution.t2', DECONVOLUTION],
    ['cnn', 'cnn.deconvolution.tlist', DECONVOLUTION],
  ]
  it.each(plainCases)('%s: %s', async (m, id, rs) => {
    const rt = rts.get(m)!
    const f = fixture(m, id)
    const name = rt.signature.inputs[0]!.name
    const r = right(await rt.vjp({ [name]: f.input }, { seeds: { [rt.signature.outputs[0]!.name]: seedFor(rt, f, f.input.shape[0]!) }, wrt: [name], ruleSet: rs }))
    expect(worstExcess(r.grads[name]!.data as Float32Array, f.expected, f.tolerance)).toBeLessThanOrEqual(0)
  })
})
