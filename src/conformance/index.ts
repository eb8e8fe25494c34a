/**
 * `clarus/conformance`: run a directory of Captum reference fixtures against clarus.
 *
 * It runs both backends, so it needs both optional peers: `@tensorflow/tfjs` when it is imported
 * (a `ClarusError` says what to install when it is missing) and `onnxruntime-node` when an ONNX case
 * runs. Add a new value export to `engine.ts` and to the list below
 * (`test/package/entryPoints.test.ts` checks both agree).
 *
 * @since 0.1.0
 */
import { importPeer } from '../core/peers.js'

export type { ConformanceTarget, ConformanceReport, CaseReport, CaseStatus, RunConformanceOptions } from './runner.js'
export type { ReferenceCase, ReferenceDir, ReferenceFiles, LazyCase } from './load.js'
export type { TensorComparison } from './compare.js'
export type { AreaCaseRunner, AreaContext, AreaOutcome } from './areas.js'

const engine = await importPeer('clarus/conformance', ['@tensorflow/tfjs'], () => import('./engine.js'))

export const {
  runConformance, runReference, modelPath, modelFile, directoryFiles, memoryFiles, onnxTarget, onnxWebGpuTarget, onnxTargetWith, tfjsTarget,
  loadReferenceDir, loadReference, loadCase, loadCaseFrom, loadModelWeights, readReferenceFile, readReferenceJson, compareTensors, callForCase,
  buildTfjsReferenceModel, AREA_CASES, compareFields, expectedFields, fieldTolerance,
} = engine
