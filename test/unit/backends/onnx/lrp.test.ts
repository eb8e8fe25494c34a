// LRP on the ONNX backend (issue 10): the rules epsilon, gamma, alphaBeta, zPlus, uniform and identity
// against Captum 0.8's written-out values for SimpleLRPModel and its other small LRP models
// (captum-semantics §10.4 Fixture H, §11), the delta's sign, and the coverage errors.
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { attr } from '../../../../src/backends/onnx/graph/ir.js'
import type { Model } from '../../../../src/core/backend.js'
import { LRP_CAPTUM, type RuleSet } from '../../../../src/core/ruleSet.js'
import { float32, type HostTensor } from '../../../../src/core/tensor.js'
import { attribute, inputXGradient, layerLrp, LayerLRP, lrp, LRP } from '../../../../src/index.js'
import { floatInit, graphOf, onnxModelOf, onnxNode } from '../../../helpers/onnxGraphs.js'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { modelPath } from './fixtures.js'

const models: Model<HostTensor>[] = []
const load = async (...a: Parameters<typeof graphOf>): Promise<Model<HostTensor>> => {
  const m = await onnxModelOf(graphOf(...a))
  models.push(m)
  return m
}
afterAll(async () => {
  for (const m of models) await m.dispose()
})

/** Captum's SimpleLRPModel: linear(3→3, no bias, weights 2) → ReLU → linear2(3→1, weights 3) → Dropout (eval). `w00` replaces linear.weight[0][0]. */
const simpleLrp = (w00 = 2): Promise<Model<HostTensor>> =>
  load([
    onnxNode('linear', 'MatMul', ['x', 'W1'], ['h']),
    onnxNode('relu', 'Relu', ['h'], ['a']),
    onnxNode('linear2', 'MatMul', ['a', 'W2'], ['z']),
    onnxNode('dropout', 'Identity', ['z'], ['y']),
  ], ['N', 3], ['N', 1], [floatInit('W1', [3, 3], [w00, 2, 2, 2, 2, 2, 2, 2, 2]), floatInit('W2', [3, 1], [3, 3, 3])])

const values = (t: HostTensor | undefined): number[] => Array.from(t?.data ?? [], Number)
const close = (a: readonly number[], e: readonly number[], tol = 1e-4): void => {
  expect(a.length).toBe(e.length)
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `element ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))))
}
const byNode = (name: string, rules: Record<string, RuleSet['entries'][number]['rule']>): RuleSet => ({
  name,
  entries: [...Object.entries(rules).map(([node, rule]) => ({ match: { node }, rule })), { match: { opType: 'Relu' }, rule: { rule: 'identity' } }],
})
const x123 = float32([1, 3], [1, 2, 3])

describe('LRP on SimpleLRPModel (Captum fixture H)', () => {
  it('default rules: [[18, 36, 54]], delta 0 (= F(x) − Σ relevance); batched', async () => {
    const m = await simpleLrp()
    const [rel, delta] = await new LRP(m).attribute(x123, { target: 0, returnConvergenceDelta: true })
    close(values(rel), [18, 36, 54])
    close(values(delta), [0])
    const batch = await new LRP(m).attribute(float32([2, 3], [1, 2, 3, 3, 6, 9]), { target: 0 })
    close(values(batch), [18, 36, 54, 54, 108, 162])
  })

  it('equals InputXGradient on a network without biases (ε → 0)', async () => {
    const m = await simpleLrp()
    const x = float32([2, 3], [0.5, -1, 2, 3, 0.25, -0.75])
    const a = await attribute(lrp(), m, x, { target: 0 })()
    const b = await attribute(inputXGradient(), m, x, { target: 0 })()
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('failed')
    close(values(a.right.attributions[0]), values(b.right.attributions[0]), 1e-6)
  })

  it('GammaRule(γ=1) on linear, GammaRule() on linear2, with linear.weight[0][0] = −2: [[28/3, 104/3, 52]]', async () => {
    const m = await simpleLrp(-2)
    const rs = byNode('gamma', { linear: { rule: 'gamma', gamma: 1 }, linear2: { rule: 'gamma' } })
    close(values(await new LRP(m, { ruleSet: rs }).attribute(x123, { target: 0 })), [28 / 3, 104 / 3, 52])
  })

  it('Alpha1_Beta0 on both, same weight change: [[12, 33.6, 50.4]]', async () => {
    const m = await simpleLrp(-2)
    const rs = byNode('a1b0', { linear: { rule: 'alphaBeta' }, linear2: { rule: 'alphaBeta', alpha: 1, beta: 0 } })
    close(values(await new LRP(m, { ruleSet: rs }).attribute(x123, { target: 0 })), [12, 33.6, 50.4])
  })

  it('LayerLRP(linear) with Gamma(1)/Gamma() or AlphaBeta/AlphaBeta, same weight change: [24, 36, 36]', async () => {
    const m = await simpleLrp(-2)
    const g = byNode('gamma', { linear: { rule: 'gamma', gamma: 1 }, linear2: { rule: 'gamma' } })
    const ab = byNode('ab', { linear: { rule: 'alphaBeta' }, linear2: { rule: 'alphaBeta' } })
    close(values(await new LayerLRP(m, 'h', { ruleSet: g }).attribute(x123, { target: 0 })), [24, 36, 36])
    close(values(await new LayerLRP(m, 'h', { ruleSet: ab }).attribute(x123, { target: 0 })), [24, 36, 36])
  })

  it('an unsupported activation (Sigmoid) is reported under Captum\'s defaults, as Captum refuses it', async () => {
    const m = await load([
      onnxNode('linear', 'MatMul', ['x', 'W1'], ['h']),
      onnxNode('act', 'Sigmoid', ['h'], ['a']),
      onnxNode('linear2', 'MatMul', ['a', 'W2'], ['y']),
    ], ['N', 3], ['N', 1], [floatInit('W1', [3, 3], Array(9).fill(0.1)), floatInit('W2', [3, 1], [0.1, 0.1, 0.1])])
    const r = await attribute(lrp(), m, x123, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedOps')
    expect(E.isLeft(r) && r.left._tag === 'UnsupportedOps' && r.left.nodes.map((n) => n.name)).toEqual(['act'])
  })

  it('a rule with no ONNX formulation for the op is reported, naming rule and node (never a silent fallback)', async () => {
    const m = await simpleLrp()
    const rs: RuleSet = { name: 'flat', entries: [{ match: { node: 'relu' }, rule: { rule: 'flat' } }, ...LRP_CAPTUM.entries] }
    const r = await attribute(lrp({ ruleSet: rs }), m, x123, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedOps')
    expect(E.isLeft(r) && r.left.message).toMatch(/flat/)
  })
})

describe('LRP on Captum\'s other small models (fixture H)', () => {
  it('linear(3→3, w 0.1) → Tanh → linear(3→1, w 0.1): [[0.0269, 0.0537, 0.0806]]; LayerLRP(linear) → [0.0537 ×3]', async () => {
    const m = await load([
      onnxNode('linear', 'MatMul', ['x', 'W1'], ['h']),
      onnxNode('tanh', 'Tanh', ['h'], ['a']),
      onnxNode('linear2', 'MatMul', ['a', 'W2'], ['y']),
    ], ['N', 3], ['N', 1], [floatInit('W1', [3, 3], Array(9).fill(0.1)), floatInit('W2', [3, 1], [0.1, 0.1, 0.1])])
    close(values(await new LRP(m).attribute(x123, { target: 0 })), [0.0269, 0.0537, 0.0806], 2e-3)
    close(values(await new LayerLRP(m, 'h').attribute(x123, { target: 0 })), [0.0537, 0.0537, 0.0537], 2e-3)
  })

  it('skip connection y = linear(x) + x (weights 5, ε on the addition), x = [[2, 3]], target 1: [[10, 18]]', async () => {
    const m = await load([
      onnxNode('linear', 'MatMul', ['x', 'W'], ['h']),
      onnxNode('add', 'Add', ['h', 'x'], ['y']),
    ], ['N', 2], ['N', 2], [floatInit('W', [2, 2], [5, 5, 5, 5])])
    const rs: RuleSet = { name: 'skip', entries: [{ match: { opType: ['MatMul', 'Add'] }, rule: { rule: 'epsilon' } }] }
    const [rel, delta] = await new LRP(m, { ruleSet: rs }).attribute(float32([1, 2], [2, 3]), { target: 1, returnConvergenceDelta: true })
    close(values(rel), [10, 18])
    close(values(delta), [0])
  })

  it('linear(2→2, w 2) → MaxPool1d(2), x = [[[1, 2], [5, 6]]], target 1: [[[0, 0], [10, 12]]]', async () => {
    const m = await load([
      onnxNode('linear', 'MatMul', ['x', 'W'], ['h']),
      onnxNode('pool', 'MaxPool', ['h'], ['p'], [attr.ints('kernel_shape', [2])]),
      onnxNode('flat', 'Flatten', ['p'], ['y']),
    ], ['N', 2, 2], ['N', 2], [floatInit('W', [2, 2], [2, 2, 2, 2])])
    close(values(await new LRP(m).attribute(float32([1, 2, 2], [1, 2, 5, 6]), { target: 1 })), [0, 0, 10, 12])
  })

  it('MaxPool2d(2) on [[[[1, 2], [5, 6]]]]: [[[[0, 0], [0, 6]]]]', async () => {
    const m = await load([
      onnxNode('pool', 'MaxPool', ['x'], ['p'], [attr.ints('kernel_shape', [2, 2])]),
      onnxNode('flat', 'Flatten', ['p'], ['y']),
    ], ['N', 1, 2, 2], ['N', 1], [])
    close(values(await new LRP(m).attribute(float32([1, 1, 2, 2], [1, 2, 5, 6]), { target: 0 })), [0, 0, 0, 6])
  })

  it('BasicModel_MultiLayer (linear1 with bias → ReLU → linear2 with bias): [[80,200,120],[8,40,12]], delta [−8, −8]; LayerLRP(linear1) → [[90,101,101,101],[5,16,16,16]], delta [−1, −1] (§11)', async () => {
    // linear1: W = ones(4,3), b = [−10, 1, 1, 1]; linear2: W = ones(2,4), b = [−1, 1]
    const m = await load([
      onnxNode('linear1', 'Gemm', ['x', 'W1', 'b1'], ['h'], [attr.int('transB', 1)]),
      onnxNode('relu', 'Relu', ['h'], ['a']),
      onnxNode('linear2', 'Gemm', ['a', 'W2', 'b2'], ['y'], [attr.int('transB', 1)]),
    ], ['N', 3], ['N', 2], [floatInit('W1', [4, 3], Array(12).fill(1)), floatInit('b1', [4], [-10, 1, 1, 1]), floatInit('W2', [2, 4], Array(8).fill(1)), floatInit('b2', [2], [-1, 1])])
    const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
    const [rel, delta] = await new LRP(m).attribute(x, { target: 0, returnConvergenceDelta: true })
    close(values(rel), [80, 200, 120, 8, 40, 12])
    close(values(delta), [-8, -8])
    const r = await attribute(layerLrp({ layer: 'h', returnConvergenceDelta: true }), m, x, { target: 0 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    close(values(r.right.attributions[0]), [90, 101, 101, 101, 5, 16, 16, 16])
    close(values(r.right.delta), [-1, -1])
  })
})

describe('LRP beyond Captum: torchvision\'s stock resnet18 (one ReLU module reused per block, residual additions)', () => {
  it('runs with Captum\'s default rules and, the network being piecewise linear, equals InputXGradient up to ε', async () => {
    const m = await fromOnnx(modelPath('resnet18'))
    if (E.isLeft(m)) throw new Error(m.left.message)
    models.push(m.right)
    const x = float32([1, 3, 224, 224], Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37) * 1.5))
    const a = await attribute(lrp({ returnConvergenceDelta: true }), m.right, x, { target: 7 })()
    const b = await attribute(inputXGradient(), m.right, x, { target: 7 })()
    if (E.isLeft(a) || E.isLeft(b)) throw new Error(E.isLeft(a) ? a.left.message : 'InputXGradient failed')
    const rel = values(a.right.attributions[0])
    const ixg = values(b.right.attributions[0])
    const scale = ixg.reduce((w, v) => Math.max(w, Math.abs(v)), 0)
    expect(scale).toBeGreaterThan(0)
    expect(rel.reduce((w, v, i) => Math.max(w, Math.abs(v - ixg[i]!)), 0)).toBeLessThan(1e-3 * scale)
    expect(Number.isFinite(values(a.right.delta)[0])).toBe(true)
  })
})
