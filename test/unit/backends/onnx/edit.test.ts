import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cutAt, prune, setOutputs } from '../../../../src/backends/onnx/graph/edit.js'
import { capturedNames, ElemType, fromProto, type Graph, type Node } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel, type GraphProto, type TensorProto } from '../../../../src/backends/onnx/graph/proto.js'
import { inferTypes } from '../../../../src/backends/onnx/graph/shapeInference.js'
import { modelPath } from './fixtures.js'

const load = (m: string): Graph => {
  const d = decodeModel(new Uint8Array(readFileSync(modelPath(m))))
  if (E.isLeft(d)) throw new Error(d.left.message)
  const g = fromProto(d.right)
  if (E.isLeft(g)) throw new Error(g.left.message)
  return g.right
}

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

describe('graph edits', () => {
  it('cutAt turns an intermediate into an input and prunes what fed it', () => {
    const g = load('mlp')
    const c = right(cutAt(g, ['/relu2/Relu_output_0']))
    expect(c.inputs.map((i) => i.name)).toEqual(['/relu2/Relu_output_0'])
    expect(c.inputs[0]!.shape).toEqual(['batch', 16])
    expect(c.nodes.map((n) => n.name)).toEqual(['/fc3/Gemm'])
    expect([...c.initializers.keys()].sort()).toEqual(['fc3.bias', 'fc3.weight'])
  })

  it('prune keeps only what the outputs need', () => {
    const g = load('mlp')
    const p = prune(right(setOutputs(g, ['/fc1/Gemm_output_0'])))
    expect(p.nodes.map((n) => n.opType)).toEqual(['Gemm'])
    expect(p.inputs.map((i) => i.name)).toEqual(['input'])
  })

  it('shape inference carries the symbolic batch dim through the cnn', () => {
    const t = inferTypes(load('cnn'))
    expect(t.get('/pool1/MaxPool_output_0')?.shape).toEqual(['batch', 8, 16, 16])
    expect(t.get('/Flatten_output_0')?.shape).toEqual([null, 16])
    expect(t.get('logits')?.shape).toEqual([null, 5])
  })

  it('prune keeps what If/Loop subgraphs read from the enclosing graph, nested subgraphs included', () => {
    // Loop body: an If whose then-branch reads 'w' (outer initializer) and 'h' (outer node output);
    // the body itself defines 'i', 'c', 'v' and 'u', which are not captures
    const thenG: GraphProto = { name: 'then', node: [{ opType: 'Mul', input: ['v', 'w'], output: ['t'] }, { opType: 'Add', input: ['t', 'h'], output: ['t2'] }], output: [{ name: 't2' }] }
    const elseG: GraphProto = { name: 'else', node: [{ opType: 'Identity', input: ['v'], output: ['e'] }], output: [{ name: 'e' }] }
    const body: GraphProto = {
      name: 'body',
      input: [{ name: 'i' }, { name: 'c' }, { name: 'v' }],
      node: [{ opType: 'If', input: ['c'], output: ['u'], attribute: [{ name: 'then_branch', type: 5, g: thenG }, { name: 'else_branch', type: 5, g: elseG }] }],
      output: [{ name: 'c' }, { name: 'u' }],
    }
    const loop: Node = { name: 'loop', opType: 'Loop', domain: '', inputs: ['n', 'cond', 'x'], outputs: ['y'], attributes: [{ name: 'body', type: 'raw', value: { name: 'body', type: 5, g: body } }] }
    expect(capturedNames(loop)).toEqual(['h', 'w'])
    const f = (name: string) => ({ name, elemType: ElemType.FLOAT, shape: [2] })
    const scalar = (name: string, dataType: number) => ({ name, dims: [], dataType, int64Data: ['1'] })
    const g: Graph = {
      name: 'g',
      nodes: [
        { name: 'h', opType: 'Neg', domain: '', inputs: ['x'], outputs: ['h'], attributes: [] },
        { name: 'unused', opType: 'Neg', domain: '', inputs: ['x'], outputs: ['z'], attributes: [] },
        loop,
      ],
      inputs: [f('x')],
      outputs: [f('y')],
      initializers: new Map<string, TensorProto>([['w', { name: 'w', dims: [2], dataType: ElemType.FLOAT, floatData: [1, 2] }], ['n', scalar('n', ElemType.INT64)], ['cond', { name: 'cond', dims: [], dataType: ElemType.BOOL, int32Data: [1] }], ['spare', scalar('spare', ElemType.INT64)]]),
      valueInfo: [],
      opsetImports: [{ domain: '', version: 17 }],
      irVersion: 8,
      modelExtras: {},
    }
    const p = prune(g)
    expect(p.nodes.map((n) => n.name)).toEqual(['h', 'loop'])
    expect([...p.initializers.keys()].sort()).toEqual(['cond', 'n', 'w'])
  })
})
