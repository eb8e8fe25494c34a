import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { attr } from '../../../src/backends/onnx/graph/ir.js'
import type { GradRule } from '../../../src/backends/onnx/gradients/rule.js'
import { BatchNormalization } from '../../../src/backends/onnx/gradients/rules/BatchNormalization.js'
import { Conv } from '../../../src/backends/onnx/gradients/rules/Conv.js'
import { ALL_GRAD_RULES } from '../../../src/backends/onnx/gradients/rules/index.js'
import { GRAD_RULE_CASES } from '../../grad-rules/gradRuleCases.js'
import { checkRow } from '../../grad-rules/ruleCheck.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import type { Model } from '../../../src/core/backend.js'
import { float32, hostGatherRows, int64, toFloat64, type HostTensor } from '../../../src/core/tensor.js'
import { tracInCP, tracInCPFast } from '../../../src/influence/tracIn.js'
import { floatInit, graphOf, onnxModelOf, onnxNode } from '../../helpers/onnxGraphs.js'
import { left, REFERENCE_DIR, right } from '../../helpers/reference.js'

const wave = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => 0.4 * Math.sin(1.3 * i + k))

/** x [B,2,5,5] → Conv(3×3, pads 1) → BatchNormalization → Relu → Flatten → Gemm(75 → 4, transB) → y. */
const PARAMS: Record<string, { dims: number[]; values: number[] }> = {
  convW: { dims: [3, 2, 3, 3], values: wave(54, 1) },
  convB: { dims: [3], values: [0.1, -0.2, 0.05] },
  bnScale: { dims: [3], values: [1.2, 0.8, -0.5] },
  bnBias: { dims: [3], values: [0.1, 0.3, -0.1] },
  bnMean: { dims: [3], values: [0.05, -0.1, 0.2] },
  bnVar: { dims: [3], values: [0.5, 1.5, 0.9] },
  fcW: { dims: [4, 75], values: wave(300, 2).map((v) => v * 0.5) },
  fcB: { dims: [4], values: [0.2, -0.1, 0, 0.1] },
}

const modelWith = (override: Partial<Record<string, number[]>> = {}): Promise<Model<HostTensor>> =>
  onnxModelOf(graphOf(
    [
      onnxNode('conv', 'Conv', ['x', 'convW', 'convB'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
      onnxNode('bn', 'BatchNormalization', ['c', 'bnScale', 'bnBias', 'bnMean', 'bnVar'], ['n']),
      onnxNode('relu', 'Relu', ['n'], ['r']),
      onnxNode('flat', 'Flatten', ['r'], ['f']),
      onnxNode('fc', 'Gemm', ['f', 'fcW', 'fcB'], ['y'], [attr.int('transB', 1)]),
    ],
    ['B', 2, 5, 5],
    ['B', 4],
    Object.entries(PARAMS).map(([name, p]) => floatInit(name, p.dims, override[name] ?? p.values)),
  ))

const x = float32([3, 2, 5, 5], wave(150, 3).map((v) => v * 2))
const labels = int64([3], [0, 3, 1])
const seed = float32([3, 4], wave(12, 5))

const value = async (m: Model<HostTensor>): Promise<number> => {
  const r = await m.forward([x])()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return toFloat64(r.right.output).reduce((s, v, k) => s + v * seed.data[k]!, 0)
}

describe("gradients w.r.t. ONNX parameters ({ kind: 'param' })", () => {
  it('lists trainable initializers only (not the running statistics), with factorisations for the Gemm', async () => {
    const m = await modelWith()
    const ps = m.signature.parameters ?? []
    expect(ps.map((p) => p.name)).toEqual(['convW', 'convB', 'bnScale', 'bnBias', 'fcW', 'fcB'])
    expect(ps.map((p) => p.perExample?.kind)).toEqual([undefined, undefined, undefined, undefined, 'outer', 'rows'])
    await m.dispose()
  })

  it('match central finite differences along a random direction, for every parameter (Conv, BatchNormalization, Gemm)', async () => {
    const m = await modelWith()
    const names = (m.signature.parameters ?? []).map((p) => p.name)
    const r = await m.vjp([x], { kind: 'linear', seed: () => E.right(seed) }, { wrt: names.map((name) => ({ kind: 'param' as const, name })) })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    const eps = 1e-2
    for (const [k, name] of names.entries()) {
      const p = PARAMS[name]!
      const dir = wave(p.values.length, 7 + k)
      const ad = toFloat64(r.right.grads[k]!).reduce((s, g, e) => s + g * dir[e]!, 0)
      const plus = await modelWith({ [name]: p.values.map((v, e) => v + eps * dir[e]!) })
      const minus = await modelWith({ [name]: p.values.map((v, e) => v - eps * dir[e]!) })
      const fd = ((await value(plus)) - (await value(minus))) / (2 * eps)
      await Promise.all([plus.dispose(), minus.dispose()])
      expect(Math.abs(ad - fd), `${name}: ad ${ad} fd ${fd}`).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(fd)))
    }
    await m.dispose()
  })

  it('negative control: the finite-difference rows catch a Conv weight gradient that drops the leading pads, and a BatchNormalization scale gradient without x̂', async () => {
    const conv = GRAD_RULE_CASES.find((r) => r.label === 'weight gradient, strides, pads, dilations')!
    const bn = GRAD_RULE_CASES.find((r) => r.label === 'scale and bias gradients')!
    const wrongConv: GradRule = {
      ...Conv,
      build: (g) => {
        const good = Conv.build(g)
        const swap = [1, 0, 2, 3]
        const full = g.node('Conv', [g.node('Transpose', [g.input(0)], [attr.ints('perm', swap)]), g.node('Transpose', [g.gradOfOutput(0)], [attr.ints('perm', swap)])], [
          attr.ints('pads', [0, 0, 2, 1]), attr.ints('strides', [2, 1]), attr.ints('dilations', [2, 1]),
        ])
        const cropped = g.node('Slice', [full, g.int64([0, 0]), g.int64([3, 2]), g.int64([2, 3])])
        return { ...good, 1: g.node('Transpose', [cropped], [attr.ints('perm', swap)]) }
      },
    }
    const wrongBn: GradRule = { ...BatchNormalization, build: (g) => ({ ...BatchNormalization.build(g), 1: g.reduceSum(g.gradOfOutput(0), [0, 2, 3], false) }) }
    const swapped = (rule: GradRule): readonly GradRule[] => ALL_GRAD_RULES.map((r) => (r.opType === rule.opType ? rule : r))
    expect((await checkRow(conv, 3, 2)).ok).toBe(true)
    expect((await checkRow(conv, 3, 2, swapped(wrongConv))).ok).toBe(false)
    expect((await checkRow(bn, 3, 2)).ok).toBe(true)
    expect((await checkRow(bn, 3, 2, swapped(wrongBn))).ok).toBe(false)
  })

  it('an unknown parameter is an UnknownTensor at its wrt entry', async () => {
    const m = await modelWith()
    const r = await m.vjp([x], { kind: 'linear', seed: () => E.right(seed) }, { wrt: [{ kind: 'param', name: 'bnMean' }] })()
    expect(left(r)).toMatchObject({ _tag: 'UnknownTensor', path: ['wrt', '0'] })
    await m.dispose()
  })
})

describe('TracInCP where only some parameters factorise', () => {
  it('self-influence (per-example backward passes for Conv/BN, factorised Gemm) equals Σ_c lr_c ‖∇θ L‖², and the all-per-example path agrees', async () => {
    const m1 = await modelWith()
    const m2 = await modelWith({ fcW: PARAMS['fcW']!.values.map((v) => -0.7 * v), convW: PARAMS['convW']!.values.map((v) => v * 1.5) })
    const cks = [{ model: m1, learningRate: 0.3 }, { model: m2, learningRate: 0.1 }]
    const data = { inputs: x, labels }
    const self = toFloat64(right(await right(tracInCP(cks, data, { batchSize: 2 })).selfInfluence()()))
    const perRow = toFloat64(right(await right(tracInCP(cks, data, { sampleWiseGradsPerBatch: false })).selfInfluence()()))
    const want = new Float64Array(3)
    for (const c of cks) {
      const names = (c.model.signature.parameters ?? []).map((p) => ({ kind: 'param' as const, name: p.name }))
      for (let i = 0; i < 3; i++) {
        const xi = hostGatherRows(x, Int32Array.of(i))
        const z = toFloat64(right(await c.model.forward([xi])()).output)
        const ez = Array.from(z, Math.exp)
        const s = ez.reduce((a, b) => a + b, 0)
        const y = Number(labels.data[i])
        const si = float32([1, 4], ez.map((e, k) => e / s - (k === y ? 1 : 0)))
        const g = right(await c.model.vjp([xi], { kind: 'linear', seed: () => E.right(si) }, { wrt: names })())
        want[i]! += c.learningRate * g.grads.reduce((a, t) => a + toFloat64(t).reduce((q, v) => q + v * v, 0), 0)
      }
    }
    for (let i = 0; i < 3; i++) {
      expect(self[i]).toBeCloseTo(want[i]!, 4)
      expect(perRow[i]).toBeCloseTo(want[i]!, 4)
    }
    await Promise.all([m1.dispose(), m2.dispose()])
  })
})

describe('TracIn with an MSE loss', () => {
  it("self-influence of a linear layer is lr·‖g‖²(‖x‖² + 1) with g = 2(z − y) ('sum'), divided by the row size for 'mean'", async () => {
    const W = [0.5, -1, 0.25, 2, 0, -0.5]
    const m = await onnxModelOf(graphOf(
      [onnxNode('fc', 'Gemm', ['x', 'W', 'b'], ['y'], [attr.int('transB', 1)])],
      ['B', 3], ['B', 2], [floatInit('W', [2, 3], W), floatInit('b', [2], [0.1, -0.2])],
    ))
    const xs = float32([2, 3], [1, 2, -1, 0.5, 0, 3])
    const ys = float32([2, 2], [0.3, -1, 2, 0.5])
    const z = toFloat64(right(await m.forward([xs])()).output)
    const want = [0, 1].map((i) => {
      const g2 = [0, 1].reduce((s, o) => s + (2 * (z[i * 2 + o]! - ys.data[i * 2 + o]!)) ** 2, 0)
      const x2 = [0, 1, 2].reduce((s, k) => s + xs.data[i * 3 + k]! ** 2, 0)
      return 0.5 * g2 * (x2 + 1)
    })
    const data = { inputs: xs, labels: ys }
    const sum = toFloat64(right(await right(tracInCP([{ model: m, learningRate: 0.5 }], data, { loss: { _tag: 'mse', reduction: 'sum' } })).selfInfluence()()))
    const mean = toFloat64(right(await right(tracInCP([{ model: m, learningRate: 0.5 }], data, { loss: { _tag: 'mse', reduction: 'mean' } })).selfInfluence()()))
    for (let i = 0; i < 2; i++) {
      expect(sum[i]).toBeCloseTo(want[i]!, 4)
      expect(mean[i]).toBeCloseTo(want[i]! / 4, 4)
    }
    expect(left(await right(tracInCP([{ model: m, learningRate: 1 }], { inputs: xs, labels: int64([2], [0, 1]) }, { loss: { _tag: 'mse', reduction: 'sum' } })).selfInfluence()())._tag).toBe('ShapeMismatch')
    await m.dispose()
  })
})

describe('tfjs models', () => {
  it('without declared parameters answer Unsupported for parameter gradients and TracIn, without leaking tensors', async () => {
    const w = tf.tensor2d([[1, 2], [3, 4]])
    const model = fromTfjs((xx: tf.Tensor) => tf.matMul(xx as tf.Tensor2D, w))
    const before = tf.memory().numTensors
    const xs = tf.tensor2d([[1, 0]])
    const r = await model.vjp([xs], { kind: 'linear', seed: () => E.right(float32([1, 2], [1, 0])) }, { wrt: [{ kind: 'param', name: 'w' }] })()
    expect(left(r)).toMatchObject({ _tag: 'Unsupported', path: ['wrt', '0'] })
    xs.dispose()
    const t = tracInCP([{ model, learningRate: 1 }], { inputs: float32([1, 2], [1, 0]), labels: int64([1], [0]) })
    expect(left(t)._tag).toBe('Unsupported')
    expect(tf.memory().numTensors).toBe(before)
    w.dispose()
  })

  it('with declared parameters give dW = xᵀ·seed and db = Σ seed, with the input gradient, leak-free', async () => {
    const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]])
    const b = tf.tensor1d([0.5, -0.5])
    const model = fromTfjs((xx: tf.Tensor) => tf.add(tf.matMul(xx as tf.Tensor2D, w), b), { parameters: { w, b: { tensor: b, perExample: { kind: 'rows', output: 'y', scale: 1 } } } })
    expect(model.signature.parameters).toEqual([{ name: 'w', dtype: 'float32', shape: [3, 2] }, { name: 'b', dtype: 'float32', shape: [2], perExample: { kind: 'rows', output: 'y', scale: 1 } }])
    const xs = tf.tensor2d([[1, 0, 2], [0, 1, -1]])
    const before = tf.memory().numTensors
    const seed = float32([2, 2], [1, 2, -1, 3])
    const r = right(await model.vjp([xs], { kind: 'linear', seed: () => E.right(seed) }, { wrt: [{ kind: 'param', name: 'w' }, { kind: 'input', index: 0 }, { kind: 'param', name: 'b' }] })())
    // xᵀ·seed: rows of x are [1,0,2] and [0,1,-1]
    expect(Array.from(await r.grads[0]!.data())).toEqual([1, 2, -1, 3, 2 - (-1), 4 - 3])
    expect(Array.from(await r.grads[1]!.data())).toEqual([5, 11, 17, 5, 9, 13])
    expect(Array.from(await r.grads[2]!.data())).toEqual([0, 5])
    ;[r.output, r.value, ...r.grads].forEach((t) => t.dispose())
    expect(tf.memory().numTensors).toBe(before)
    expect(left(await model.vjp([xs], { kind: 'linear', seed: () => E.right(seed) }, { wrt: [{ kind: 'param', name: 'v' }] })())).toMatchObject({ _tag: 'UnknownTensor', path: ['wrt', '0'] })
    ;[xs, w, b].forEach((t) => t.dispose())
  })

  it("a LayersModel's trainable weights are its parameters: dense kernel gradient = xᵀ·seed", async () => {
    const layers = await import('@tensorflow/tfjs-layers')
    const net = layers.sequential({ layers: [layers.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'ones', biasInitializer: 'zeros', name: 'd' })] })
    const model = fromTfjs(net)
    expect((model.signature.parameters ?? []).map((p) => [p.name, p.shape])).toEqual([['d/kernel', [3, 2]], ['d/bias', [2]]])
    const xs = tf.tensor2d([[1, 0, 2], [0, 1, -1]])
    const before = tf.memory().numTensors
    const seed = float32([2, 2], [1, 2, -1, 3])
    const r = right(await model.vjp([xs], { kind: 'linear', seed: () => E.right(seed) }, { wrt: [{ kind: 'param', name: 'd/kernel' }, { kind: 'param', name: 'd/bias' }] })())
    expect(Array.from(await r.grads[0]!.data())).toEqual([1, 2, -1, 3, 3, 1])
    expect(Array.from(await r.grads[1]!.data())).toEqual([0, 5])
    ;[r.output, r.value, ...r.grads].forEach((t) => t.dispose())
    expect(tf.memory().numTensors).toBe(before)
    xs.dispose()
    net.dispose()
  })

  it('TracIn on the tfjs rebuild of the reference checkpoints equals TracIn on ONNX, leak-free', async () => {
    const { buildTfjsReferenceModel } = await import('../../../src/conformance/tfjsModels.js')
    const { loadCheckpoints, train, test: testData } = await import('./fixture.js')
    const onnx = await loadCheckpoints()
    const built = ['mlp_tracin_ckpt1', 'mlp_tracin_ckpt2', 'mlp_tracin_ckpt3'].map((n) =>
      right(buildTfjsReferenceModel(JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'models', `${n}.weights.json`), 'utf8')))))
    const names = { fc1: '/fc1/Gemm_output_0', relu1: '/relu1/Relu_output_0', fc2: '/fc2/Gemm_output_0', relu2: '/relu2/Relu_output_0', fc3: 'logits' }
    const tfjsCks = built.map((m, c) => ({ model: fromTfjs(m.tapped(names), { parameters: m.parameters(names) }), learningRate: onnx[c]!.learningRate }))
    const before = tf.memory().numTensors
    const a = toFloat64(right(await right(tracInCP(tfjsCks, train)).influence(testData)()))
    const fastT = toFloat64(right(await right(tracInCPFast(tfjsCks, train, { finalFcLayer: 'fc3.weight' })).selfInfluence()()))
    expect(tf.memory().numTensors).toBe(before)
    const b = toFloat64(right(await right(tracInCP(onnx, train)).influence(testData)()))
    const fastO = toFloat64(right(await right(tracInCPFast(onnx, train, { finalFcLayer: 'fc3.weight' })).selfInfluence()()))
    for (let k = 0; k < b.length; k++) expect(a[k]).toBeCloseTo(b[k]!, 4)
    for (let k = 0; k < fastO.length; k++) expect(fastT[k]).toBeCloseTo(fastO[k]!, 4)
    built.forEach((m) => m.dispose())
    await Promise.all(onnx.map((c) => c.model.dispose()))
  })
})
