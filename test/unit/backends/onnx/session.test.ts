import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { ElemType, toProto, type Graph } from '../../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { float32, int64 } from '../../../../src/core/tensor.js'
import { modelPath, oneHotSeed, randomTensor } from './fixtures.js'

const open = async (m: string): Promise<OnnxRuntime> => {
  const r = await createOnnxRuntime(modelPath(m), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

describe('onnx session layer', () => {
  it('forward returns outputs and captured intermediates; inject replaces an intermediate', async () => {
    const r = await open('mlp')
    try {
      const x = randomTensor([2, 12], 9)
      const f = await r.forward({ input: x }, { capture: ['/relu2/Relu_output_0'] })
      if (E.isLeft(f)) throw new Error(f.left.message)
      expect(Object.keys(f.right).sort()).toEqual(['/relu2/Relu_output_0', 'logits'])
      expect(f.right['/relu2/Relu_output_0']!.shape).toEqual([2, 16])
      // injecting the captured value reproduces the output; injecting zeros gives fc3's bias
      const same = await r.forward({}, { inject: { '/relu2/Relu_output_0': f.right['/relu2/Relu_output_0']! } })
      expect(E.isRight(same) && same.right['logits']).toEqual(f.right['logits'])
      const zero = await r.forward({}, { inject: { '/relu2/Relu_output_0': float32([1, 16], new Array<number>(16).fill(0)) } })
      if (E.isLeft(zero)) throw new Error(zero.left.message)
      const bias = await r.forward({}, { inject: { '/relu2/Relu_output_0': float32([1, 16], new Array<number>(16).fill(0)) } })
      expect(E.isRight(bias) && bias.right['logits']!.data).toEqual(zero.right['logits']!.data)
      expect(Array.from(zero.right['logits']!.data as Float32Array).some((v) => v !== 0)).toBe(true)
    } finally {
      await r.dispose()
    }
  })

  it('vjp w.r.t. an injected layer matches the gradient w.r.t. the same layer without injection', async () => {
    const r = await open('mlp')
    try {
      const x = randomTensor([2, 12], 4)
      const seed = oneHotSeed(2, 3, [0, 2])
      const a = await r.vjp({ input: x }, { seeds: { logits: seed }, wrt: ['/relu1/Relu_output_0'], capture: ['/relu1/Relu_output_0'] })
      if (E.isLeft(a)) throw new Error(a.left.message)
      const b = await r.vjp({}, { seeds: { logits: seed }, wrt: ['/relu1/Relu_output_0'], inject: { '/relu1/Relu_output_0': a.right.outputs['/relu1/Relu_output_0']! } })
      if (E.isLeft(b)) throw new Error(b.left.message)
      expect(b.right.grads['/relu1/Relu_output_0']).toEqual(a.right.grads['/relu1/Relu_output_0'])
      expect(b.right.outputs['logits']).toEqual(a.right.outputs['logits'])
    } finally {
      await r.dispose()
    }
  })

  it('missing feeds, wrong dtype and wrong shape are typed errors naming the input', async () => {
    const r = await open('mlp')
    try {
      const missing = await r.forward({})
      expect(E.isLeft(missing) && missing.left._tag).toBe('MissingInput')
      if (E.isLeft(missing)) expect(missing.left.path).toContain('input')
      const missingVjp = await r.vjp({}, { seeds: { logits: oneHotSeed(1, 3, [0]) }, wrt: ['input'] })
      expect(E.isLeft(missingVjp) && missingVjp.left._tag).toBe('MissingInput')
      const dtype = await r.forward({ input: int64([1, 12], new Array<number>(12).fill(1)) })
      expect(E.isLeft(dtype) && dtype.left._tag).toBe('DTypeMismatch')
      const shape = await r.forward({ input: float32([1, 11], new Array<number>(11).fill(1)) })
      expect(E.isLeft(shape) && shape.left._tag).toBe('ShapeMismatch')
      const unknown = await r.forward({ input: randomTensor([1, 12], 1) }, { capture: ['nope'] })
      expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownTensor')
      // surplus feeds are dropped
      const extra = await r.forward({ input: randomTensor([1, 12], 1), other: randomTensor([1], 2) })
      expect(E.isRight(extra)).toBe(true)
    } finally {
      await r.dispose()
    }
  })

  it('ORT failures come back as BackendFailure with the ORT message', async () => {
    const graph: Graph = {
      name: 'bad',
      nodes: [{ name: 'n', opType: 'NoSuchOp', domain: '', inputs: ['x'], outputs: ['y'], attributes: [] }],
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: [1] }],
      outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: [1] }],
      initializers: new Map(),
      valueInfo: [],
      opsetImports: [{ domain: '', version: 17 }],
      irVersion: 8,
      modelExtras: {},
    }
    const r = await createOnnxRuntime(encodeModel(toProto(graph)))
    if (E.isLeft(r)) throw new Error(r.left.message)
    const f = await r.right.forward({ x: float32([1], [1]) })
    expect(E.isLeft(f) && f.left._tag).toBe('BackendFailure')
    if (E.isLeft(f)) expect(f.left.message).toMatch(/NoSuchOp/)
    await r.right.dispose()
  })

  it('a missing model file is a BadModel error', async () => {
    const r = await createOnnxRuntime('/nonexistent/model.onnx')
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
  })

  it('sessions are cached per configuration and released by dispose', async () => {
    const r = await open('sigmoidnet')
    const x = randomTensor([2, 6], 3)
    const t0 = performance.now()
    await r.vjp({ input: x }, { seeds: { output: randomTensor([2, 1], 1) }, wrt: ['input'] })
    const first = performance.now() - t0
    const t1 = performance.now()
    for (let i = 0; i < 5; i++) await r.vjp({ input: x }, { seeds: { output: randomTensor([2, 1], i) }, wrt: ['input'] })
    const cached = (performance.now() - t1) / 5
    expect(cached).toBeLessThan(first)
    await r.dispose()
    // after dispose the runtime rebuilds sessions on demand
    const again = await r.forward({ input: x })
    expect(E.isRight(again)).toBe(true)
    await r.dispose()
  })
})
