/**
 * The values of `clarus/conformance`. The runner drives both backends, so it imports TensorFlow.js
 * statically; `index.ts` loads this module dynamically so that a missing `@tensorflow/tfjs` is
 * reported as a package to install.
 *
 * @internal
 * @since 0.1.0
 */
export { runReference, modelFile } from './runner.js'
export { runConformance, modelPath, directoryFiles } from './files.js'
export { onnxTarget, onnxWebGpuTarget, onnxTargetWith, tfjsTarget } from './targets.js'
export { loadReferenceDir, loadCase } from './files.js'
export { loadReference, loadCaseFrom, loadModelWeights, memoryFiles, readReferenceFile, readReferenceJson } from './load.js'
export { compareTensors } from './compare.js'
export { callForCase } from './methods.js'
export { buildTfjsReferenceModel } from './tfjsModels.js'
export { AREA_CASES, compareFields, expectedFields, fieldTolerance } from './areas.js'
