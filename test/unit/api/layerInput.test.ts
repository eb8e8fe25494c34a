// attributeToLayerInput / attributeToNeuronInput through the classes: each equals the same class
// given the layer's input tensor by name (resolved through LayerInfo.inputs), and bad uses are
// typed errors. ONNX models of the Captum fixtures (cnn, mlp).
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import {
  float32, InternalInfluence, LayerActivation, LayerConductance, LayerGradientShap, LayerGradCam, LayerGradientXActivation, LayerIntegratedGradients,
  NeuronConductance, NeuronGradient, NeuronIntegratedGradients, type HostTensor, type Model,
} from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { REFERENCE_DIR, right } from '../../helpers/reference.js'

let cnn: Model<HostTensor>
let mlp: Model<HostTensor>
beforeAll(async () => {
  cnn = right(await fromOnnx(path.join(REFERENCE_DIR, 'models/cnn.onnx'), { session: { intraOpNumThreads: 1 } }))
  mlp = right(await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'), { session: { intraOpNumThreads: 1 } }))
})
afterAll(async () => {
  await Promise.all([cnn.dispose(), mlp.dispose()])
})

const image = float32([2, 3, 32, 32], Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5))
const rows = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.cos(i + 0.5)))
const CONV2 = '/conv2/Conv_output_0'
const POOL1 = '/pool1/MaxPool_output_0'

const same = (a: HostTensor, b: HostTensor): void => {
  expect(a.shape).toEqual(b.shape)
  expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array))
}

describe('attributeToLayerInput', () => {
  it('LayerGradCam, LayerGradientXActivation, LayerActivation on conv2 = the same on pool1 (its input), not on conv2', async () => {
    const opts = { target: 1 }
    const toInput = await new LayerGradCam(cnn, CONV2).attribute(image, { ...opts, attributeToLayerInput: true })
    same(toInput, await new LayerGradCam(cnn, POOL1).attribute(image, opts))
    expect(toInput.shape).toEqual([2, 1, 16, 16])
    const onOutput = await new LayerGradCam(cnn, CONV2).attribute(image, { ...opts, attributeToLayerInput: false })
    expect(Array.from(onOutput.data as Float32Array)).not.toEqual(Array.from(toInput.data as Float32Array))
    same(await new LayerGradientXActivation(cnn, CONV2).attribute(image, { ...opts, attributeToLayerInput: true }), await new LayerGradientXActivation(cnn, POOL1).attribute(image, opts))
    const act = await new LayerActivation(cnn, CONV2).attribute(image, { attributeToLayerInput: true })
    expect(act.shape).toEqual([2, 8, 16, 16])
    same(act, await new LayerActivation(cnn, POOL1).attribute(image))
  })

  it('LayerIntegratedGradients and InternalInfluence on fc2 of the mlp = the same on relu1', async () => {
    const opts = { target: 0, nSteps: 5 }
    const [a, delta] = await new LayerIntegratedGradients(mlp, '/fc2/Gemm_output_0').attribute(rows, { ...opts, attributeToLayerInput: true, returnConvergenceDelta: true })
    const [b, deltaB] = await new LayerIntegratedGradients(mlp, '/relu1/Relu_output_0').attribute(rows, { ...opts, returnConvergenceDelta: true })
    same(a, b)
    same(delta, deltaB)
    same(await new InternalInfluence(mlp, '/fc2/Gemm_output_0').attribute(rows, { ...opts, attributeToLayerInput: true }), await new InternalInfluence(mlp, '/relu1/Relu_output_0').attribute(rows, opts))
    const [c, deltaC] = await new LayerConductance(mlp, '/fc2/Gemm_output_0').attribute(rows, { ...opts, attributeToLayerInput: true, returnConvergenceDelta: true })
    const [d, deltaD] = await new LayerConductance(mlp, '/relu1/Relu_output_0').attribute(rows, { ...opts, returnConvergenceDelta: true })
    same(c, d)
    same(deltaC, deltaD)
    const background = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.sin(i)))
    same(
      await new LayerGradientShap(mlp, '/fc2/Gemm_output_0').attribute(rows, { target: 0, baselines: background, nSamples: 4, seed: 3, attributeToLayerInput: true }),
      await new LayerGradientShap(mlp, '/relu1/Relu_output_0').attribute(rows, { target: 0, baselines: background, nSamples: 4, seed: 3 }),
    )
  })

  it('errors: a layer fed by the model input, an unknown layer (closest names listed), a non-boolean flag', async () => {
    const first = await errorOf(new LayerGradCam(cnn, '/conv1/Conv_output_0').attribute(image, { target: 0, attributeToLayerInput: true }))
    expect(first).toMatchObject({ _tag: 'Unsupported', path: ['attributeToLayerInput', 'layer'] })
    expect(first.message).toMatch(/model input "input"/)
    const unknown = await errorOf(new LayerGradientXActivation(cnn, '/conv2/conv_output_0').attribute(image, { target: 0, attributeToLayerInput: true }))
    expect(unknown._tag).toBe('UnknownTensor')
    expect(unknown.message).toMatch(/"\/conv2\/Conv_output_0"/)
    const bad = await errorOf(new LayerActivation(cnn, CONV2).attribute(image, { attributeToLayerInput: 'yes' as unknown as boolean }))
    expect(bad).toMatchObject({ _tag: 'InvalidSpec', path: ['attributeToLayerInput'] })
  })
})

describe('attributeToNeuronInput', () => {
  it('NeuronGradient, NeuronIntegratedGradients and NeuronConductance on fc2 = the same on relu1', async () => {
    const on = { neuronSelector: 3, attributeToNeuronInput: true }
    same(await new NeuronGradient(mlp, '/fc2/Gemm_output_0').attribute(rows, on), await new NeuronGradient(mlp, '/relu1/Relu_output_0').attribute(rows, { neuronSelector: 3 }))
    const g = await new NeuronGradient(mlp, '/fc2/Gemm_output_0').attribute(rows, { neuronSelector: 3 })
    expect(Array.from(g.data as Float32Array)).not.toEqual(Array.from((await new NeuronGradient(mlp, '/fc2/Gemm_output_0').attribute(rows, on)).data as Float32Array))
    same(await new NeuronIntegratedGradients(mlp, '/fc2/Gemm_output_0').attribute(rows, { ...on, nSteps: 4 }), await new NeuronIntegratedGradients(mlp, '/relu1/Relu_output_0').attribute(rows, { neuronSelector: 3, nSteps: 4 }))
    same(
      await new NeuronConductance(mlp, '/fc2/Gemm_output_0').attribute(rows, { ...on, target: 1, nSteps: 4 }),
      await new NeuronConductance(mlp, '/relu1/Relu_output_0').attribute(rows, { neuronSelector: 3, target: 1, nSteps: 4 }),
    )
  })

  it('a neuron layer fed by the model input is a typed error', async () => {
    const e = await errorOf(new NeuronGradient(mlp, '/fc1/Gemm_output_0').attribute(rows, { neuronSelector: 0, attributeToNeuronInput: true }))
    expect(e).toMatchObject({ _tag: 'Unsupported', path: ['attributeToNeuronInput', 'layer'] })
  })
})
