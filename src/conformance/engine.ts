/**
 * The values of `clarus/conformance`. The runner drives both backends, so it imports TensorFlow.js
 * statically; `index.ts` loads this module dynamically so that a missing `@tensorflow/tfjs` is
 * reported as a package to install.
 *
 * @internal
 * @since 0.1.0
 */
export { runConformance, modelPath } from './runner.js'
export { onnxTarget, onnxWebGpuTarget, tfjsTarget } from './targets.js'
export { loadReferenceDir, loadCase, loadModelWeights } from './load.js'
export { compareTensors } from './compare.js'
export { callForCase } from './methods.js'
export { buildTfjsReferenceModel } from './tfjsModels.js'
export { AREA_CASES, compareFields, expectedFields, fieldTolerance } from './areas.js'
