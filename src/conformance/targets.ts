/**
 * The backends the conformance runner knows: `onnx` (onnxruntime-node, any ONNX file in the
 * directory; `onnx-webgpu` runs the same on ONNX Runtime's WebGPU execution provider) and `tfjs` (the network rebuilt in TensorFlow.js from its weight JSON, on the
 * registered tfjs backend, with each torch module's output tapped under its ONNX tensor name).
 *
 * @category conformance
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as tf from '@tensorflow/tfjs-core'
import { fromOnnx } from '../backends/onnx/model.js'
import type { OnnxDevice } from '../backends/onnx/device.js'
import { hostBackend } from '../backends/host/hostBackend.js'
import { fromTfjs } from '../backends/tfjs/model.js'
import { tfjsBackend } from '../backends/tfjs/tfjsBackend.js'
import type { Model } from '../core/backend.js'
import type { HostTensor } from '../core/tensor.js'
import type { OrtModule } from '../backends/onnx/ort.js'
import { loadModelWeights, readReferenceFile } from './load.js'
import { modelFile, type ConformanceTarget } from './runner.js'
import { buildTfjsReferenceModel } from './tfjsModels.js'

/**
 * The ONNX models of the fixture directory on `device`, run by `ort` (default: onnxruntime-node, or
 * onnxruntime-web in browser builds). A browser page passes onnxruntime-web explicitly.
 */
export const onnxTargetWith = (name: string, device: OnnxDevice, ort?: OrtModule): ConformanceTarget<HostTensor> => ({
  name,
  backend: hostBackend,
  load: async (ref, model) => {
    const file = modelFile(ref, model)
    if (file === undefined) return E.left(`model ${model} has no ONNX file in the index`)
    const bytes = readReferenceFile(ref, file)
    if (E.isLeft(bytes)) return E.left(`cannot load ${model}: ${bytes.left.issues.map((i) => i.message).join('; ')}`)
    const m = await fromOnnx(bytes.right, { ...(device === 'cpu' ? {} : { device }), ...(ort !== undefined ? { ort } : {}) })
    return E.mapLeft((e: { message: string }) => `cannot load ${model}: ${e.message}`)(m)
  },
})

export const onnxTarget: ConformanceTarget<HostTensor> = onnxTargetWith('onnx', 'cpu')

/** The ONNX models on ONNX Runtime's WebGPU execution provider (`fromOnnx(file, { device: 'webgpu' })`). */
export const onnxWebGpuTarget: ConformanceTarget<HostTensor> = onnxTargetWith('onnx-webgpu', 'webgpu')

export const tfjsTarget: ConformanceTarget<tf.Tensor> = {
  name: 'tfjs',
  backend: tfjsBackend,
  load: async (ref, model) => {
    const weights = loadModelWeights(ref, model)
    if (E.isLeft(weights)) return E.left(`tfjs rebuilds networks from their weight JSON; ${model} has none`)
    const built = buildTfjsReferenceModel(weights.right)
    if (E.isLeft(built)) return E.left(`cannot rebuild ${model} in tfjs: ${built.left.message}`)
    // Layers are named by the ONNX tensors the fixtures use (torch module → tensor, from the index).
    const layers = ref.index.models[model]?.layers ?? {}
    const names = Object.fromEntries(Object.entries(layers).map(([module, l]) => [module, l.onnx_output]))
    const m: Model<tf.Tensor> = fromTfjs(built.right.tapped(names), { parameters: built.right.parameters(names) })
    return E.right({ ...m, dispose: async () => { await m.dispose(); built.right.dispose() } })
  },
}
