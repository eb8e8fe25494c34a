// fromOnnx(file, { output }) explains any activation of the graph, not only a graph output: the
// OCR orientation classifier's logits (p2o.Add.87, before its final softmax) give non-empty maps
// where the saturated softmax gives none. signature.layers lists activations only (its weights
// sit in Constant nodes, listed in signature.parameters), and unknown names come with the closest ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { findLayers, IntegratedGradients, Occlusion, float32, type HostTensor, type Model } from '../../../../src/index.js'
import { seedOf } from '../../../../src/core/target.js'
import { demoImages, LOGITS, modelFile, toInput } from '../../../../examples/ocr.js'
import { left, REFERENCE_DIR, right } from '../../../helpers/reference.js'

let probs: Model<HostTensor>
let logits: Model<HostTensor>
const x = toInput(demoImages())

beforeAll(async () => {
  probs = right(await fromOnnx(modelFile, { session: { intraOpNumThreads: 1 } }))
  logits = right(await fromOnnx(modelFile, { output: LOGITS, session: { intraOpNumThreads: 1 } }))
})
afterAll(async () => {
  await probs.dispose()
  await logits.dispose()
})

const nonZero = (t: HostTensor): number => Array.from(t.data as Float32Array).filter((v) => v !== 0).length
const mass = (t: HostTensor): number => Array.from(t.data as Float32Array).reduce((a, v) => a + Math.abs(v), 0)
const softmaxRows = (t: HostTensor): number[] => {
  const d = Array.from(t.data as Float32Array)
  return [0, 1].flatMap((r) => {
    const [a, b] = [d[2 * r]!, d[2 * r + 1]!]
    const m = Math.max(a, b)
    const s = Math.exp(a - m) + Math.exp(b - m)
    return [Math.exp(a - m) / s, Math.exp(b - m) / s]
  })
}

describe('fromOnnx({ output }) with an internal tensor', () => {
  it('returns that tensor as the output: the logits whose softmax is the graph output', async () => {
    expect(logits.signature.outputs.map((o) => [o.name, o.shape.at(-1)])).toEqual([[LOGITS, 2]])
    const z = right(await logits.forward([x])()).output
    const p = right(await probs.forward([x])()).output
    expect(z.shape).toEqual([2, 2])
    softmaxRows(z).forEach((v, i) => expect(v).toBeCloseTo((p.data as Float32Array)[i]!, 5))
    // the demo line and its 180° rotation are told apart with logits of opposite signs
    expect(Math.sign(z.data[0] as number - (z.data[1] as number))).toBe(-Math.sign(z.data[2] as number - (z.data[3] as number)))
  })

  it('IntegratedGradients on the logits gives a map where the saturated softmax gives (almost) none', async () => {
    const onLogits = await new IntegratedGradients(logits).attribute(x, { target: 0, nSteps: 4 })
    expect(onLogits.shape).toEqual(x.shape)
    expect(nonZero(onLogits)).toBeGreaterThan(0.9 * onLogits.data.length)
    const onProbs = await new IntegratedGradients(probs).attribute(x, { target: 0, nSteps: 4 })
    expect(mass(onProbs)).toBeLessThan(1e-3 * mass(onLogits))
  })

  it('Occlusion on the logits changes every window; on the saturated softmax hardly any', async () => {
    const opts = { target: 0, slidingWindowShapes: [3, 16, 32], strides: [3, 16, 32] }
    const onLogits = await new Occlusion(logits).attribute(x, opts)
    expect(nonZero(onLogits)).toBe(onLogits.data.length)
    const onProbs = await new Occlusion(probs).attribute(x, opts)
    expect(mass(onProbs)).toBeLessThan(1e-3 * mass(onLogits))
  })

  it('seeds the internal output in vjp and returns it as the output', async () => {
    const r = right(await logits.vjp([x], { kind: 'linear', seed: (s) => seedOf(1, s, new Int32Array([0, 1]), 2, true) }, { wrt: { kind: 'inputs' } })())
    const z = right(await logits.forward([x])()).output
    expect(Array.from(r.output.data as Float32Array)).toEqual(Array.from(z.data as Float32Array))
    expect(Array.from(r.value.data as Float32Array)).toEqual([z.data[1], z.data[3]])
    expect(r.grads[0]!.shape).toEqual(x.shape)
  })

  it('a name that is neither an output nor an activation is an UnknownTensor listing the closest names', async () => {
    const e = left(await fromOnnx(modelFile, { output: 'p2o.Add.870' }))
    expect(e._tag).toBe('UnknownTensor')
    expect(e.path).toEqual(['output'])
    expect(e.message).toMatch(/closest: "p2o\.Add\.87"/)
    // a weight is not something to explain
    const w = left(await fromOnnx(modelFile, { output: 'fc_0.w_0' }))
    expect(w.message).toMatch(/neither an output of this model \("softmax_0\.tmp_0"\)/)
    const i = left(await fromOnnx(modelFile, { inputs: ['X'] }))
    expect(i.message).toMatch(/"X" \(closest: "x"\)/)
  })
})

describe('signature.layers and signature.parameters', () => {
  it('layers are the activations only; the weights in Constant nodes are parameters', () => {
    const { layers, layerInfo, parameters } = logits.signature
    expect(layers).toHaveLength(220)
    expect(layerInfo!.map((l) => l.name)).toEqual(layers)
    expect(layerInfo!.some((l) => l.opType === 'Constant')).toBe(false)
    expect(parameters).toHaveLength(213)
    expect(parameters!.find((p) => p.name === 'fc_0.w_0')).toEqual({ name: 'fc_0.w_0', dtype: 'float32', shape: [200, 2] })
    const params = new Set(parameters!.map((p) => p.name))
    expect(layers.filter((l) => params.has(l))).toEqual([])
    expect(findLayers(logits, { opType: 'Conv' })).toHaveLength(53)
    expect(findLayers(logits, { last: true })[0]!.name).toBe('softmax_0.tmp_0')
  })

  it('gives the gradient of a Constant weight as a parameter, and a layer name that is a weight is refused', async () => {
    const sel = { kind: 'linear' as const, seed: (s: readonly number[]) => seedOf(0, s, new Int32Array([0, 1]), 2, true) }
    const r = right(await logits.vjp([x], sel, { wrt: [{ kind: 'param', name: 'fc_0.b_0' }] })())
    // d(Σ_rows z_0)/d b = (2, 0): each row adds the bias once
    expect(Array.from(r.grads[0]!.data as Float32Array)).toEqual([2, 0])
    const e = left(await logits.vjp([x], sel, { wrt: [{ kind: 'layer', name: 'fc_0.b_0' }] })())
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toMatch(/weights are \{ kind: 'param' \} entries/)
    const of = left(await logits.vjp([x], sel, { wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'p2o.MatMul.2' } })())
    expect(of.message).toMatch(/closest: "p2o\.MatMul\.1"/)
  })

  it('a graph whose weights are initializers keeps every node output as a layer', async () => {
    const mlp = right(await fromOnnx(`${REFERENCE_DIR}/models/mlp.onnx`))
    try {
      expect(mlp.signature.layers.length).toBeGreaterThan(0)
      expect(mlp.signature.layers).toContain('/relu1/Relu_output_0')
      expect(mlp.signature.parameters!.map((p) => p.name).some((n) => mlp.signature.layers.includes(n))).toBe(false)
      const z = right(await mlp.forward([float32([1, 12], new Array(12).fill(0.5))])()).output
      expect(z.shape).toEqual([1, 3])
    } finally {
      await mlp.dispose()
    }
  })
})
