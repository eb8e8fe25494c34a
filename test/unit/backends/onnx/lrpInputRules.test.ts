// The input-layer LRP rules flat, wSquare and zBox on the ONNX backend (issue 10): they give
// relevance to inputs whatever their value, so the backend returns relevance itself at the input
// and the LRP pipeline does not multiply by it. Hand values on a 2-layer network with a zero input,
// conservation at the first layer (a 3×3 padded convolution of the reference cnn, bias included),
// the identity zBox(0, 0) = ε-rule, and the negative controls (the ε-rule gives a zero input no
// relevance; an input-layer rule deeper in the network is reported).
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import type { Model } from '../../../../src/core/backend.js'
import { describeRuleSet, EPSILON_GAMMA_BOX, givesRelevanceAtInputs, RuleSetCodec, type Rule, type RuleSet } from '../../../../src/core/ruleSet.js'
import { float32, type HostTensor } from '../../../../src/core/tensor.js'
import { attribute, layerLrp, lrp, type Pipeline } from '../../../../src/index.js'
import { floatInit, graphOf, onnxModelOf, onnxNode } from '../../../helpers/onnxGraphs.js'
import { modelPath } from './fixtures.js'

const models: Model<HostTensor>[] = []
afterAll(async () => {
  for (const m of models) await m.dispose()
})
const values = (t: HostTensor | undefined): number[] => Array.from(t?.data ?? [], Number)
const close = (a: readonly number[], e: readonly number[], tol = 1e-5): void => {
  expect(a.length).toBe(e.length)
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `element ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))))
}
const run = async (p: Pipeline, m: Model<HostTensor>, x: HostTensor, target = 0) => {
  const r = await attribute(p, m, x, { target })()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/** x (2) → fc1: W1 = [[1, 2], [3, −1]] → ReLU → fc2: W2 = [1, 1]ᵀ, no biases. At x = [1, 0]: h = [1, 2], y = 3. */
const twoLayer = async (): Promise<Model<HostTensor>> => {
  const m = await onnxModelOf(graphOf([
    onnxNode('fc1', 'MatMul', ['x', 'W1'], ['h']),
    onnxNode('relu', 'Relu', ['h'], ['a']),
    onnxNode('fc2', 'MatMul', ['a', 'W2'], ['y']),
  ], ['N', 2], ['N', 1], [floatInit('W1', [2, 2], [1, 2, 3, -1]), floatInit('W2', [2, 1], [1, 1])]))
  models.push(m)
  return m
}
const first = (rule: Rule): RuleSet => ({
  name: `${rule.rule} first`,
  entries: [
    { match: { node: 'fc1' }, rule },
    { match: { node: 'fc2' }, rule: { rule: 'epsilon' } },
    { match: { opType: 'Relu' }, rule: { rule: 'identity' } },
  ],
})
const x10 = float32([1, 2], [1, 0])

describe('input-layer rules on a 2-layer network (R_h = [1, 2] from the ε-rule above)', () => {
  it('the rule sets say they return relevance; the plain ones do not', () => {
    expect(givesRelevanceAtInputs(first({ rule: 'flat' }))).toBe(true)
    expect(givesRelevanceAtInputs(first({ rule: 'epsilon' }))).toBe(false)
  })
  // flat: each output spreads its relevance evenly over its 2 inputs: [(1 + 2)/2, (1 + 2)/2].
  it('flat: [1.5, 1.5], the zero input included; delta 0', async () => {
    const r = await run(lrp({ ruleSet: first({ rule: 'flat' }), returnConvergenceDelta: true }), await twoLayer(), x10)
    close(values(r.attributions[0]), [1.5, 1.5])
    close(values(r.delta), [0])
  })
  // w²: column 0 has w² = [1, 9] (Σ 10), column 1 [4, 1] (Σ 5): [1/10 + 2·4/5, 9/10 + 2/5].
  it('wSquare: [1.7, 1.3]', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'wSquare' }) }), await twoLayer(), x10)).attributions[0]), [1.7, 1.3])
  })
  // z^B with [l, h] = [−1, 1]: z = h − W⁺ᵀl − W⁻ᵀh = [5, 5], s = [0.2, 0.4];
  // R = x ⊙ Ws − l·W⁺s − h·W⁻s = [1 + 1 − 0, 0 + 0.6 + 0.4].
  it('zBox(−1, 1): [2, 1]', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'zBox', low: -1, high: 1 }) }), await twoLayer(), x10)).attributions[0]), [2, 1])
  })
  it('zBox(0, 0) equals the ε-rule (ε 1e-9) on every input', async () => {
    const m = await twoLayer()
    const x = float32([3, 2], [1, 0, 0.5, 2, -0.3, 1.7])
    const a = await run(lrp({ ruleSet: first({ rule: 'zBox', low: 0, high: 0 }) }), m, x)
    const b = await run(lrp({ ruleSet: first({ rule: 'epsilon', epsilon: 1e-9 }) }), m, x)
    close(values(a.attributions[0]), values(b.attributions[0]))
  })
  it('negative control: the ε-rule gives the zero input no relevance ([3, 0])', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'epsilon' }) }), await twoLayer(), x10)).attributions[0]), [3, 0])
  })
  it('an input-layer rule on a node that does not read the input is reported, naming the node', async () => {
    const rs: RuleSet = { name: 'flat deep', entries: [{ match: { node: 'fc2' }, rule: { rule: 'flat' } }, { match: { node: 'fc1' }, rule: { rule: 'epsilon' } }, { match: { opType: 'Relu' }, rule: { rule: 'identity' } }] }
    const r = await attribute(lrp({ ruleSet: rs }), await twoLayer(), x10, { target: 0 })()
    expect(E.isLeft(r) && r.left.message).toMatch(/fc2.*input-layer rule/)
  })
  it('LayerLRP: an input-layer rule on the node reading the layer gives relevance at that layer (flat at relu → fc2: [1.5, 1.5])', async () => {
    const rs: RuleSet = { name: 'flat at fc2', entries: [{ match: { node: 'fc2' }, rule: { rule: 'flat' } }] }
    close(values((await run(layerLrp({ layer: 'a', ruleSet: rs }), await twoLayer(), x10)).attributions[0]), [1.5, 1.5])
  })
})

describe('input-layer rules on the reference cnn (3×3 convolution, padding 1, with a bias)', () => {
  const rest: RuleSet['entries'] = [
    { match: { opType: ['Conv', 'Gemm', 'MaxPool', 'GlobalAveragePool'] }, rule: { rule: 'epsilon' } },
    { match: { opType: 'Relu' }, rule: { rule: 'identity' } },
  ]
  const CONV1 = '/conv1/Conv_output_0'
  const x = float32([2, 3, 32, 32], Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i * 0.37) + 0.3)))
  const rowSums = (t: HostTensor | undefined): number[] => {
    const v = values(t)
    const per = v.length / 2
    return [0, 1].map((r) => v.slice(r * per, (r + 1) * per).reduce((a, b) => a + b, 0))
  }
  it.each([['flat', { rule: 'flat' }], ['wSquare', { rule: 'wSquare' }]] as const)('%s conserves the relevance of conv1\'s output', async (_, rule) => {
    const m = await fromOnnx(modelPath('cnn'))
    if (E.isLeft(m)) throw new Error(m.left.message)
    models.push(m.right)
    const atInput = await run(lrp({ ruleSet: { name: 'first', entries: [{ match: { layer: CONV1 }, rule }, ...rest] } }), m.right, x, 2)
    const atConv1 = await run(layerLrp({ layer: CONV1, ruleSet: { name: 'rest', entries: rest } }), m.right, x, 2)
    close(rowSums(atInput.attributions[0]), rowSums(atConv1.attributions[0]), 1e-4)
  })

  it('EpsilonGammaBox(low, high) puts zBox on the input layer (conv1) only: equals the same rule set naming conv1; round-trips as JSON', async () => {
    const m = await fromOnnx(modelPath('cnn'))
    if (E.isLeft(m)) throw new Error(m.left.message)
    models.push(m.right)
    const box = EPSILON_GAMMA_BOX(-1, 2)
    expect(givesRelevanceAtInputs(box)).toBe(true)
    expect(describeRuleSet(box)).toMatch(/the input layer → zBox\(low -1, high 2\)/)
    expect(RuleSetCodec.decode(JSON.parse(JSON.stringify(box)))).toEqual(E.right(box))
    const named: RuleSet = { ...box, entries: [{ match: { layer: CONV1 }, rule: { rule: 'zBox', low: -1, high: 2 } }, ...box.entries.slice(1)] }
    const a = await run(lrp({ ruleSet: box }), m.right, x, 1)
    const b = await run(lrp({ ruleSet: named }), m.right, x, 1)
    close(values(a.attributions[0]), values(b.attributions[0]))
    // negative control: another box gives other relevance
    const c = await run(lrp({ ruleSet: EPSILON_GAMMA_BOX(0, 0) }), m.right, x, 1)
    expect(values(c.attributions[0]).some((v, i) => Math.abs(v - values(a.attributions[0])[i]!) > 1e-4)).toBe(true)
  })
})
