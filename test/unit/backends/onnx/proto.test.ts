import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { attr, fromProto, getAttr, hostToTensor, tensorToHost, toProto, type Node } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel, encodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { signatureOf } from '../../../../src/backends/onnx/graph/signature.js'
import { createOnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { float32, int64 } from '../../../../src/core/tensor.js'
import { modelPath, randomTensor } from './fixtures.js'

const bytes = (m: string): Uint8Array => new Uint8Array(readFileSync(modelPath(m)))

describe('proto + IR round trip', () => {
  for (const m of ['mlp', 'cnn', 'sigmoidnet', 'textcls']) {
    it(`${m}: decode → IR → encode → decode is stable and runs identically in ORT`, async () => {
      const d = decodeModel(bytes(m))
      if (E.isLeft(d)) throw new Error(d.left.message)
      const g = fromProto(d.right)
      if (E.isLeft(g)) throw new Error(g.left.message)
      const once = encodeModel(toProto(g.right))
      const d2 = decodeModel(once)
      if (E.isLeft(d2)) throw new Error(d2.left.message)
      const g2 = fromProto(d2.right)
      if (E.isLeft(g2)) throw new Error(g2.left.message)
      expect(g2.right.nodes).toEqual(g.right.nodes)
      expect(g2.right.inputs).toEqual(g.right.inputs)
      expect(g2.right.outputs).toEqual(g.right.outputs)
      expect([...g2.right.initializers.keys()]).toEqual([...g.right.initializers.keys()])
      expect(encodeModel(toProto(g2.right))).toEqual(once)
      if (m === 'textcls') return
      const x = randomTensor(m === 'cnn' ? [2, 3, 32, 32] : m === 'mlp' ? [2, 12] : [2, 6], 1)
      const a = await createOnnxRuntime(bytes(m))
      const b = await createOnnxRuntime(once)
      if (E.isLeft(a) || E.isLeft(b)) throw new Error('load')
      const ya = await a.right.forward({ input: x })
      const yb = await b.right.forward({ input: x })
      expect(yb).toEqual(ya)
      await a.right.dispose()
      await b.right.dispose()
    })
  }

  it('signature keeps symbolic dims and the opset', () => {
    const d = decodeModel(bytes('textcls'))
    if (E.isLeft(d)) throw new Error(d.left.message)
    const g = fromProto(d.right)
    if (E.isLeft(g)) throw new Error(g.left.message)
    expect(signatureOf(g.right)).toEqual({
      inputs: [{ name: 'input_ids', dtype: 'int64', elemType: 7, shape: ['batch', 16] }],
      outputs: [{ name: 'logits', dtype: 'float32', elemType: 1, shape: ['batch', 2] }],
      opset: 14,
    })
  })

  it('garbage bytes are a BadModel error, not an exception', () => {
    const r = decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]))
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
  })

  it('attributes: typed accessors, defaults, and exact int64 extremes through encode/decode', () => {
    const n: Node = {
      name: 'n', opType: 'Slice', domain: '', inputs: ['x'], outputs: ['y'],
      attributes: [attr.int('axis', -2), attr.float('alpha', 0.25), attr.ints('ends', [9223372036854775807]), attr.string('mode', 'edge')],
    }
    expect(getAttr.int(n, 'axis', 0)).toBe(-2)
    expect(getAttr.int(n, 'missing', 7)).toBe(7)
    expect(getAttr.float(n, 'alpha', 0)).toBe(0.25)
    expect(getAttr.string(n, 'mode', '')).toBe('edge')
    expect(getAttr.int(n, 'alpha', 3)).toBe(3)
    const model = toProto({ name: 'g', nodes: [n], inputs: [], outputs: [], initializers: new Map(), valueInfo: [], opsetImports: [{ domain: '', version: 9 }], irVersion: 8, modelExtras: {} })
    const back = decodeModel(encodeModel(model))
    if (E.isLeft(back)) throw new Error(back.left.message)
    expect(back.right.graph?.node?.[0]?.attribute?.[2]?.ints).toEqual(['9223372036854775807'])
  })

  it('tensors: host ↔ TensorProto round trip for float32 and int64 (exact)', () => {
    const f = float32([2, 2], [1.5, -2, 3.25, 0])
    expect(tensorToHost(hostToTensor('f', f))).toEqual(f)
    const i = int64([3], [1n, -1n, 9223372036854775807n])
    expect(tensorToHost(hostToTensor('i', i))).toEqual(i)
  })
})
