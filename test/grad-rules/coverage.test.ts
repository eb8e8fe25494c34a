import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { buildBackward } from '../../src/backends/onnx/gradients/builder.js'
import { noGradient } from '../../src/backends/onnx/gradients/rule.js'
import { ALL_GRAD_RULES, makeGradRegistry } from '../../src/backends/onnx/gradients/rules/index.js'
import { Relu } from '../../src/backends/onnx/gradients/rules/Relu.js'
import { attr, ElemType, type Graph } from '../../src/backends/onnx/graph/ir.js'
import { GRAD_RULE_CASES } from './gradRuleCases.js'
import { caseGraph } from './ruleCheck.js'

const nonStandard = (g: Graph): string[] => g.nodes.filter((n) => n.domain !== '' && n.domain !== 'ai.onnx').map((n) => `${n.domain}.${n.opType}`)

describe('gradient rule coverage', () => {
  it('every rule in ALL_GRAD_RULES has a GRAD_RULE_CASES row, and every row names a rule', () => {
    const rows = new Set(GRAD_RULE_CASES.map((r) => r.op))
    const rules = new Set(ALL_GRAD_RULES.map((r) => r.opType))
    expect([...rules].filter((r) => !rows.has(r))).toEqual([])
    expect([...rows].filter((r) => !rules.has(r))).toEqual([])
  })

  it('every rule emits standard-domain ops only', () => {
    const offenders: string[] = []
    for (const row of GRAD_RULE_CASES) {
      const { graph, floats, seeds } = caseGraph(row, 2)
      const bw = buildBackward(graph, { seeds, wrt: floats.map((f) => f.name) })
      expect(E.isRight(bw), `${row.op}: ${E.isLeft(bw) ? bw.left.message : ''}`).toBe(true)
      if (E.isRight(bw)) offenders.push(...nonStandard(bw.right.graph).map((o) => `${row.op}: ${o}`))
    }
    expect(offenders).toEqual([])
    // the scan itself can fail
    const { graph } = caseGraph(GRAD_RULE_CASES[0]!, 1)
    const tampered = { ...graph, nodes: [...graph.nodes, { name: 'g', opType: 'ReluGrad', domain: 'com.microsoft', inputs: [], outputs: ['z'], attributes: [] }] }
    expect(nonStandard(tampered)).toEqual(['com.microsoft.ReluGrad'])
  })

  it('a rule that returns no gradient for a required input is an error, not a silent zero', () => {
    const row = GRAD_RULE_CASES.find((r) => r.op === 'Sigmoid')!
    const bad = ALL_GRAD_RULES.map((r) => (r.opType === 'Sigmoid' ? { ...r, build: () => ({}) } : r))
    const { graph, floats, seeds } = caseGraph(row, 1)
    const r = buildBackward(graph, { seeds, wrt: floats.map((f) => f.name) }, bad)
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedOps')
    if (E.isLeft(r) && r.left._tag === 'UnsupportedOps') {
      expect(r.left.nodes.map((n) => n.name)).toEqual(['op'])
      expect(r.left.message).toMatch(/no gradient for input 0 \('x0'\)/)
    }
    expect(E.isRight(buildBackward(graph, { seeds, wrt: floats.map((f) => f.name) }))).toBe(true)
  })

  it('duplicate registration is an error naming the op', () => {
    const r = makeGradRegistry([...ALL_GRAD_RULES, Relu])
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) {
      expect(r.left._tag).toBe('InvalidSpec')
      expect(r.left.message).toContain('Relu')
    }
    expect(E.isRight(makeGradRegistry(ALL_GRAD_RULES))).toBe(true)
    expect(E.isLeft(makeGradRegistry([noGradient('Foo', 'my.domain'), noGradient('Foo', 'my.domain')]))).toBe(true)
  })

  it('lists every unsupported node at once (Resize and a custom-domain op)', () => {
    const f = (name: string) => ({ name, elemType: ElemType.FLOAT, shape: [1, 1, 2, 2] })
    const graph: Graph = {
      name: 'g',
      nodes: [
        { name: 'r1', opType: 'Resize', domain: '', inputs: ['x', '', 'scales'], outputs: ['a'], attributes: [] },
        { name: 'c1', opType: 'MyOp', domain: 'com.example', inputs: ['a'], outputs: ['b'], attributes: [] },
        { name: 'relu', opType: 'Relu', domain: '', inputs: ['b'], outputs: ['c'], attributes: [] },
        { name: 'c2', opType: 'MyOp', domain: 'com.example', inputs: ['c'], outputs: ['y'], attributes: [] },
      ],
      inputs: [f('x')],
      outputs: [f('y')],
      initializers: new Map([['scales', { name: 'scales', dims: [4], dataType: ElemType.FLOAT, floatData: [1, 1, 2, 2] }]]),
      valueInfo: [],
      opsetImports: [{ domain: '', version: 17 }, { domain: 'com.example', version: 1 }],
      irVersion: 8,
      modelExtras: {},
    }
    const r = buildBackward(graph, { seeds: ['y'], wrt: ['x'] })
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r) && r.left._tag === 'UnsupportedOps') {
      expect(r.left.nodes.map((n) => `${n.domain}:${n.opType}:${n.name}:${n.opset}`)).toEqual([
        ':Resize:r1:17',
        'com.example:MyOp:c1:1',
        'com.example:MyOp:c2:1',
      ])
    } else {
      expect.fail(`expected UnsupportedOps, got ${E.isLeft(r) ? r.left._tag : 'Right'}`)
    }
  })

  describe('edges a rule does not differentiate are reported when they lie on the gradient path', () => {
    const f = (name: string) => ({ name, elemType: ElemType.FLOAT, shape: [2, 3] })
    const graph = (nodes: Graph['nodes'], outputs = ['y']): Graph => ({
      name: 'g', nodes, inputs: [f('x')], outputs: outputs.map(f),
      initializers: new Map([['c', { name: 'c', dims: [3], dataType: ElemType.FLOAT, floatData: [1, 2, 3] }]]),
      valueInfo: [], opsetImports: [{ domain: '', version: 17 }], irVersion: 8, modelExtras: {},
    })
    const unsupported = (r: ReturnType<typeof buildBackward>): string => {
      if (E.isLeft(r) && r.left._tag === 'UnsupportedOps') return `${r.left.nodes.map((n) => n.name).join(',')}: ${r.left.message}`
      return E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : 'Right'
    }
    // a Mul rule that only differentiates its first input
    const firstOnly = ALL_GRAD_RULES.map((r) => (r.opType === 'Mul' ? { ...r, gradInputs: [0] } : r))

    it('an input the rule does not differentiate (reported), unless it does not depend on wrt (control)', () => {
      const mul = { name: 'm', opType: 'Mul', domain: '', inputs: ['x', 'x'], outputs: ['y'], attributes: [] }
      expect(unsupported(buildBackward(graph([mul]), { seeds: ['y'], wrt: ['x'] }, firstOnly))).toMatch(/^m: .*input 1 \('x'\)/)
      const byConst = { ...mul, inputs: ['x', 'c'] }
      expect(E.isRight(buildBackward(graph([byConst]), { seeds: ['y'], wrt: ['x'] }, firstOnly))).toBe(true)
      // the same edge as the only path: reported, not NotReachable
      const second = { ...mul, inputs: ['c', 'x'] }
      expect(unsupported(buildBackward(graph([second]), { seeds: ['y'], wrt: ['x'] }, firstOnly))).toMatch(/^m: .*input 1/)
    })

    it('an output whose cotangent the rule ignores (reported), unless nothing downstream uses it (control)', () => {
      const split = { name: 's', opType: 'Split', domain: '', inputs: ['x'], outputs: ['a', 'b'], attributes: [attr.int('axis', 0)] }
      const firstOut = ALL_GRAD_RULES.map((r) => (r.opType === 'Split' ? { ...r, gradOutputs: [0] } : r))
      const add = { name: 'add', opType: 'Add', domain: '', inputs: ['a', 'b'], outputs: ['y'], attributes: [] }
      expect(unsupported(buildBackward(graph([split, add]), { seeds: ['y'], wrt: ['x'] }, firstOut))).toMatch(/^s: .*output 1 \('b'\)/)
      const onlyA = { ...add, inputs: ['a', 'a'] }
      expect(E.isRight(buildBackward(graph([split, onlyA]), { seeds: ['y'], wrt: ['x'] }, firstOut))).toBe(true)
    })

    it('a subgraph capture is reported even when a rule for the op type is registered', () => {
      const branch = (name: string, op: string) => ({ name, type: 'raw' as const, value: { name, type: 5, g: { name, node: [{ opType: op, input: ['x'], output: ['o'] }], output: [{ name: 'o' }] } } })
      const ifNode = { name: 'if', opType: 'If', domain: '', inputs: ['cond'], outputs: ['y'], attributes: [branch('then_branch', 'Neg'), branch('else_branch', 'Relu')] }
      const g0 = graph([ifNode])
      const g = { ...g0, initializers: new Map([...g0.initializers, ['cond', { name: 'cond', dims: [], dataType: ElemType.BOOL, int32Data: [1] }]]) }
      expect(unsupported(buildBackward(g, { seeds: ['y'], wrt: ['x'] }))).toMatch(/^if: /)
      const ifRule = { opType: 'If', domain: '', stopInputs: [0], build: () => ({}) }
      expect(unsupported(buildBackward(g, { seeds: ['y'], wrt: ['x'] }, [...ALL_GRAD_RULES, ifRule]))).toMatch(/^if: .*subgraph reads 'x'/)
    })
  })
})
