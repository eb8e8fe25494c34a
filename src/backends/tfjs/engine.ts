/**
 * The values of `clarus/tfjs`, with their static imports of TensorFlow.js. `index.ts` loads this
 * module dynamically so that a missing `@tensorflow/tfjs` is reported as a package to install.
 *
 * @internal
 * @category backends
 * @since 0.1.0
 */
// Side-effect import: the @tensorflow/tfjs union registers every gradient config (tfjs-core alone registers none).
import '@tensorflow/tfjs'

export { fromTfjs } from './model.js'
export { tfjsBackend } from './tfjsBackend.js'
export { useWebGpu } from './webgpu.js'
export { withRandomizedWeights, withRandomizedGraphWeights, parameterisedLayerNames, parameterisedNodeNames, tfjsModelVariants } from './randomize.js'
