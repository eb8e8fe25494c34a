// Rule sets as values: matching order, pass-through ops, the unmatched policy, JSON round trip, printing.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { DECONVOLUTION, DEEPLIFT, describeRuleSet, GUIDED_BACKPROP, ruleFor, RuleSetCodec, type RuleSet } from '../../../src/index.js'

const node = (opType: string, name = 'n', outputs: readonly string[] = ['t']) => ({ opType, name, outputs })

describe('rule sets', () => {
  const rs: RuleSet = {
    name: 'mine',
    entries: [
      { match: { node: 'head' }, rule: { rule: 'epsilon', epsilon: 0.1 } },
      { match: { layer: '/fc1/Gemm_output_0' }, rule: { rule: 'zPlus' } },
      { match: { opClass: 'linear' }, rule: { rule: 'gamma', gamma: 0.25 } },
      { match: { opType: ['Relu', 'Tanh'] }, rule: { rule: 'identity' } },
    ],
  }
  it('the first matching entry wins: node name, then tensor, then class, then op type', () => {
    expect(ruleFor(rs, node('Gemm', 'head'))).toEqual({ rule: 'epsilon', epsilon: 0.1 })
    expect(ruleFor(rs, node('Gemm', 'fc1', ['/fc1/Gemm_output_0']))).toEqual({ rule: 'zPlus' })
    expect(ruleFor(rs, node('Conv'))).toEqual({ rule: 'gamma', gamma: 0.25 })
    expect(ruleFor(rs, node('_FusedMatMul'))).toEqual({ rule: 'gamma', gamma: 0.25 })
    expect(ruleFor(rs, node('Tanh'))).toEqual({ rule: 'identity' })
  })
  it('unmatched affine and structural ops pass through; other unmatched ops are reported unless the set says gradient', () => {
    expect(ruleFor(rs, node('Reshape'))).toBe('passThrough')
    expect(ruleFor(rs, node('Add'))).toBe('passThrough')
    expect(ruleFor(rs, node('Sigmoid'))).toBe('unmatched')
    expect(ruleFor(rs, node('Softmax'))).toBe('unmatched')
    expect(ruleFor({ ...rs, unmatched: 'gradient' }, node('Sigmoid'))).toBe('passThrough')
    expect(ruleFor(DEEPLIFT, node('Sigmoid'))).toEqual({ rule: 'rescale' })
    expect(ruleFor(DEEPLIFT, node('Erf'))).toBe('unmatched')
    expect(ruleFor(GUIDED_BACKPROP, node('Sigmoid'))).toBe('passThrough')
    expect(ruleFor(DECONVOLUTION, node('Relu'))).toEqual({ rule: 'deconv' })
  })
  it('survive a JSON round trip and reject rules outside the vocabulary', () => {
    for (const r of [rs, DEEPLIFT, GUIDED_BACKPROP, DECONVOLUTION]) {
      const back = RuleSetCodec.decode(JSON.parse(JSON.stringify(r)))
      expect(E.isRight(back) && back.right).toEqual(r)
    }
    expect(E.isLeft(RuleSetCodec.decode({ name: 'x', entries: [{ match: { opType: 'Relu' }, rule: { rule: 'magic' } }] }))).toBe(true)
    expect(E.isLeft(RuleSetCodec.decode({ name: 'x', entries: [{ match: { opClass: 'everything' }, rule: { rule: 'gradient' } }] }))).toBe(true)
    expect(E.isLeft(RuleSetCodec.decode({ name: 'x', entries: [{ match: { opType: 'Gemm' }, rule: { rule: 'epsilon', epsilon: -1 } }] }))).toBe(true)
  })
  it('print one line per entry', () => {
    expect(describeRuleSet(rs)).toBe([
      'rule set "mine"',
      '  1. node "head" → epsilon(epsilon 0.1)',
      '  2. layer "/fc1/Gemm_output_0" → zPlus',
      '  3. <linear> → gamma(gamma 0.25)',
      '  4. Relu | Tanh → identity',
      '  otherwise: ordinary gradient for affine and structural ops, an error for any other op',
    ].join('\n'))
  })
})
