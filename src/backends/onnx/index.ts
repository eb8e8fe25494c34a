/**
 * `clarus/onnx`: explain ONNX models with ONNX Runtime (onnxruntime-node by default, or any
 * runtime module passed as `fromOnnx(model, { ort })`). Gradients come from a backward graph built
 * in standard ONNX ops; unsupported ops are all reported up front.
 *
 * @since 0.1.0
 */
export { fromOnnx } from './model.js'
export type { FromOnnxOptions } from './model.js'
export type { ModelSource } from './source.js'
// a causal LM loaded with transformers.js (forward through it, gradients through its ONNX file)
export { fromTransformers } from './transformers.js'
export type { FromTransformersOptions, TransformersLM, TransformersCausalLM, TransformersTensor, TransformersTensorConstructor, TransformersSession } from './transformers.js'
export type { OnnxSessionOptions } from './session.js'
export type { OnnxDevice } from './device.js'
export { DEVICE_MEMORY_BUDGET, ONNX_DEVICES } from './device.js'
export { SessionCacheOptionsCodec, DEFAULT_SESSION_CACHE_BYTES, DEFAULT_MAX_CACHED_SESSIONS } from './session.js'
export type { OrtModule, OrtSession, OrtSessionOptions, OrtTensor, OrtDType } from './ort.js'
export { hostBackend } from '../host/hostBackend.js'
export { withRandomizedInitializers, parameterisedLayers, onnxModelVariants } from './randomize.js'
export type { ParameterisedLayer, RandomizeOptions } from './randomize.js'
// packaging: gradient rules users pass as fromOnnx(model, { session: { extraGradRules } })
export type { GradRule } from './gradients/rule.js'
export { noGradient } from './gradients/rule.js'
export type { GradContext } from './gradients/context.js'
export { attr as onnxAttr } from './graph/ir.js'
export type { Node as OnnxNode, Attribute as OnnxAttribute, AttributeValue as OnnxAttributeValue, Dim as OnnxDim } from './graph/ir.js'
