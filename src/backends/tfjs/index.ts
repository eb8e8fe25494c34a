/**
 * `clarus/tfjs`: explain TensorFlow.js models. {@link fromTfjs} wraps a function (optionally tapping named layers), a tfjs-layers
 * `LayersModel` or a tfjs-converter `GraphModel`; {@link tfjsBackend} is the tensor-op backend;
 * {@link useWebGpu} moves TensorFlow.js onto the GPU through WebGPU (Node and browsers).
 *
 * TensorFlow.js is an optional peer dependency: this entry point loads it when it is imported and,
 * when `@tensorflow/tfjs` is not installed, throws a `ClarusError` saying what to install. Add a new
 * value export to `engine.ts` and to the list below (`test/package/entryPoints.test.ts` checks both agree).
 *
 * @category backends
 * @since 0.1.0
 */
import { importPeer } from '../../core/peers.js'

export type { FromTfjsOptions, GraphModelLike, Tap, TappedFunction, TfjsFunction, TfjsModel } from './model.js'
export type { UseWebGpuOptions, WebGpuError, WebGpuInfo } from './webgpu.js'

const engine = await importPeer('clarus/tfjs', ['@tensorflow/tfjs'], () => import('./engine.js'))

export const { fromTfjs, tfjsBackend, useWebGpu, withRandomizedWeights, withRandomizedGraphWeights, parameterisedLayerNames, parameterisedNodeNames, tfjsModelVariants } = engine
