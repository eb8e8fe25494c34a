import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { GradRule } from '../../src/backends/onnx/gradients/rule.js'
import { ALL_GRAD_RULES } from '../../src/backends/onnx/gradients/rules/index.js'
import { GRAD_RULE_CASES, type GradRuleCase } from './gradRuleCases.js'
import { checkRow } from './ruleCheck.js'

const SEED = 20240611
const NUM_RUNS = 3

const rowName = (r: GradRuleCase): string => `${r.op}${r.label ? ` (${r.label})` : ''}${r.opset ? ` @opset ${r.opset}` : ''}`

describe('ONNX gradient rules vs central finite differences (ORT float32 forward, float64 quotient)', () => {
  for (const row of GRAD_RULE_CASES.filter((r) => r.noGradient === undefined)) {
    it(rowName(row), async () => {
      const failures: string[] = []
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 3 }), async (seed, batch) => {
          const r = await checkRow(row, seed, batch)
          if (!r.ok) failures.push(`seed ${seed} batch ${batch}: ad ${r.ad} fd ${r.fd} bound ${r.bound} ${r.detail ?? ''}`)
          return r.ok
        }),
        { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${failures.join('\n')}`)
      })
    })
  }
})

describe('noGradient markers: nothing flows through the op', () => {
  for (const row of GRAD_RULE_CASES.filter((r) => r.noGradient !== undefined)) {
    it(rowName(row), async () => {
      const r = await checkRow(row, 7, 1)
      expect(r.detail).toBeUndefined()
      expect(r.ok).toBe(true)
    })
  }
})

describe('negative controls: a wrong rule fails the same check', () => {
  const replace = (rule: GradRule): readonly GradRule[] => ALL_GRAD_RULES.map((r) => (r.opType === rule.opType ? rule : r))
  const wrongSigmoid: GradRule = {
    opType: 'Sigmoid', domain: '',
    build: (g) => ({ 0: g.node('Mul', [g.gradOfOutput(0), g.output(0)]) }),
  }
  const wrongRelu: GradRule = { opType: 'Relu', domain: '', build: (g) => ({ 0: g.gradOfOutput(0) }) }
  const wrongSoftmax: GradRule = {
    opType: 'Softmax', domain: '',
    build: (g) => ({ 0: g.node('Mul', [g.output(0), g.gradOfOutput(0)]) }),
  }
  const wrongMatMul: GradRule = {
    opType: 'MatMul', domain: '',
    build: (g) => ({ 0: g.reduceBroadcast(g.node('MatMul', [g.gradOfOutput(0), g.node('Transpose', [g.input(1)])]), g.input(0)), 1: g.zerosLike(g.input(1)) }),
  }
  const cases: [string, GradRule][] = [['Sigmoid', wrongSigmoid], ['Relu', wrongRelu], ['Softmax', wrongSoftmax], ['MatMul', wrongMatMul]]
  for (const [op, rule] of cases) {
    it(`wrong ${op} rule is caught`, async () => {
      const row = GRAD_RULE_CASES.find((r) => r.op === op)!
      const good = await checkRow(row, 11, 2)
      const bad = await checkRow(row, 11, 2, replace(rule))
      expect(good.ok).toBe(true)
      expect(bad.ok).toBe(false)
    })
  }
})
