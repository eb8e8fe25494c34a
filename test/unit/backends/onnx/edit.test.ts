import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { addOutputs, cutAt, prune, setOutputs } from '../../../../src/backends/onnx/graph/edit.js'
import { fromProto, type Graph } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel } from '../../../../src/backends/onnx/graph/proto.js'
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
  it('addOutputs appends intermediate tensors with their elem type, once', () => {
    const g = load('mlp')
    const h = right(addOutputs(g, ['/relu1/Relu_output_0', 'logits', '/relu1/Relu_output_0']))
    expect(h.outputs.map((o) => o.name)).toEqual(['logits', '/relu1/Relu_output_0'])
    expect(h.outputs[1]).toEqual({ name: '/relu1/Relu_output_0', elemType: 1, shape: null })
    expect(g.outputs.length).toBe(1) // input graph untouched
    const bad = addOutputs(g, ['nope'])
    expect(E.isLeft(bad) && bad.left._tag).toBe('UnknownTensor')
  })

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
})
