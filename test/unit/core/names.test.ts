// Unknown-name errors suggest the closest names, on every backend: the ranking itself (names that
// contain the given one first, then by edit distance), and the messages of ONNX and tfjs models.
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-cpu'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { closestNames, nearbyNames } from '../../../src/core/names.js'
import { float32, LayerGradCam, type HostTensor, type Model } from '../../../src/index.js'
import { left, REFERENCE_DIR, right } from '../../helpers/reference.js'

describe('nearbyNames', () => {
  const names = ['/fc1/Gemm_output_0', '/relu1/Relu_output_0', '/fc2/Gemm_output_0', 'logits', 'conv1']
  it('puts names containing the query first, then the rest by edit distance', () => {
    expect(nearbyNames('relu1', names, 1)).toEqual(['/relu1/Relu_output_0'])
    expect(nearbyNames('logit', names, 1)).toEqual(['logits'])
    expect(nearbyNames('conv2', names, 1)).toEqual(['conv1'])
    expect(nearbyNames('/fc3/Gemm_output_0', names, 2)).toEqual(['/fc1/Gemm_output_0', '/fc2/Gemm_output_0'])
  })
  it('an empty query matches nothing by containment (no arbitrary "contains \'\'" hits)', () => {
    expect(nearbyNames('', ['abc', 'a'], 1)).toEqual(['a'])
  })
  it('closestNames says how many names there are, or that there are none', () => {
    expect(closestNames('a', ['a1', 'b', 'c', 'd', 'e', 'f'])).toBe('closest: "a1", "b", "c", "d", "e" (6 in all)')
    expect(closestNames('a', ['b'])).toBe('closest: "b"')
    expect(closestNames('a', [], 'the model has no layers')).toBe('the model has no layers')
  })
})

describe('unknown names on ONNX models', () => {
  let mlp: Model<HostTensor>
  beforeAll(async () => {
    mlp = right(await fromOnnx(`${REFERENCE_DIR}/models/mlp.onnx`))
  })
  afterAll(async () => {
    await mlp.dispose()
  })
  const x = float32([1, 12], new Array(12).fill(0.5))

  it('capture and inject name the closest tensors', async () => {
    const e = left(await mlp.forward([x], { capture: ['/relu1/Relu_output'] })())
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toMatch(/'\/relu1\/Relu_output' \(closest: "\/relu1\/Relu_output_0"/)
  })
  it('a bad explained output names the closest outputs and activations', async () => {
    const e = left(await fromOnnx(`${REFERENCE_DIR}/models/mlp.onnx`, { output: '/fc2/Gemm_output' }))
    expect(e.message).toMatch(/closest: "\/fc2\/Gemm_output_0"/)
  })
  it('a layer method on a misspelt layer names the closest layers', async () => {
    await expect(new LayerGradCam(mlp, '/relu/Relu_output_0').attribute(x, { target: 0 })).rejects.toThrow(/closest names: "\/relu1\/Relu_output_0"/)
  })
})

describe('unknown names on tfjs models', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })
  const x = tf.tensor2d([[1, 2, 3]])
  afterAll(() => x.dispose())

  it('LayersModel: a misspelt layer or output names the closest ones', async () => {
    const seq = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'dense_in' }), tf.layers.activation({ activation: 'tanh', name: 'act' })] })
    const m = fromTfjs(seq)
    const e = left(await m.forward([x], { capture: ['dense_i'] })())
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toMatch(/"dense_i" \(closest: "dense_in"/)
    const o = left(await fromTfjs(seq, { outputName: 'act/Tanh:1' }).forward([x])())
    expect(o.path).toEqual(['outputName'])
    expect(o.message).toMatch(/closest: "act\//)
    seq.dispose()
  })

  it('GraphModel: a misspelt node or output names the closest nodes', async () => {
    const g = loadGraphModelSync({
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
          { name: 'hidden', op: 'Tanh', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } },
          { name: 'y', op: 'Mul', input: ['hidden', 'x'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        versions: { producer: 1 },
      },
      weightSpecs: [],
      weightData: new ArrayBuffer(0),
    })
    const e = left(await fromTfjs(g).forward([x], { capture: ['hiden'] })())
    expect(e.message).toMatch(/"hiden" \(closest: "hidden"/)
    const o = left(await fromTfjs(g, { outputName: 'yy' }).forward([x])())
    expect(o.message).toMatch(/output "yy" is not a node of this GraphModel; closest: "y"/)
    g.dispose()
  })
})
