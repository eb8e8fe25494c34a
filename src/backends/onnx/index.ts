/**
 * `clarus/onnx`: explain ONNX models with onnxruntime-node. Gradients come from a backward graph
 * built in standard ONNX ops; unsupported ops are all reported up front.
 *
 * @since 0.1.0
 */
export { fromOnnx } from './model.js'
export type { FromOnnxOptions } from './model.js'
export type { OnnxSessionOptions } from './session.js'
export { hostBackend } from '../host/hostBackend.js'
