/**
 * `clarus/tfjs`: explain TensorFlow.js models. {@link fromTfjs} wraps a function (optionally tapping named layers), a tfjs-layers
 * `LayersModel` or a tfjs-converter `GraphModel`; {@link tfjsBackend} is the tensor-op backend.
 *
 * @category backends
 * @since 0.1.0
 */
// Side-effect import: the @tensorflow/tfjs union registers every gradient config (tfjs-core alone registers none).
import '@tensorflow/tfjs'

export { fromTfjs } from './model.js'
export type { FromTfjsOptions, GraphModelLike, Tap, TappedFunction, TfjsFunction, TfjsModel } from './model.js'
export { tfjsBackend } from './tfjsBackend.js'
export { withRandomizedWeights, withRandomizedGraphWeights, parameterisedLayerNames, parameterisedNodeNames, tfjsModelVariants } from './randomize.js'
