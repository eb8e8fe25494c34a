/**
 * `clarus/conformance`: run a directory of Captum reference fixtures against clarus.
 *
 * @since 0.1.0
 */
export { runConformance, modelPath } from './runner.js'
export type { ConformanceTarget, ConformanceReport, CaseReport, CaseStatus } from './runner.js'
export { onnxTarget, tfjsTarget } from './targets.js'
export { loadReferenceDir, loadCase, loadModelWeights } from './load.js'
export type { ReferenceCase, ReferenceDir, LazyCase } from './load.js'
export { compareTensors } from './compare.js'
export type { TensorComparison } from './compare.js'
export { callForCase } from './methods.js'
export { buildTfjsReferenceModel } from './tfjsModels.js'
export { AREA_CASES, compareFields, expectedFields, fieldTolerance } from './areas.js'
export type { AreaCaseRunner, AreaContext, AreaOutcome } from './areas.js'
