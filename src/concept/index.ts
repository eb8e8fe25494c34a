/**
 * Concepts (TCAV): concepts as values, CAVs learned by a classifier on layer activations, TCAV
 * scores, the random-concept significance test, and CAVs as JSON.
 *
 * @category concept
 * @since 0.6.0
 */
export { concept, setKey, batchesOf } from './concept.js'
export type { Concept, ConceptData, ExperimentalSet } from './concept.js'
export { CavCodec, CavsCodec, cavsToJson, cavsFromJson } from './cav.js'
export type { Cav, Cavs, CavJson } from './cav.js'
export { ClassifierSpec, classifierOf, meanDifference, linearClassifier, linearClassifierDefaults, DEFAULT_CLASSIFIER } from './classifier.js'
export type { ClassifierFn, ConceptActivations, TrainedClassifier } from './classifier.js'
export { tcav, computeCavs, cavKey, TcavOptions, tcavDefaults } from './tcav.js'
export type { TcavCall, TcavResult, TcavScores } from './tcav.js'
export { tcavSignificance, SignificanceOptions, significanceDefaults } from './significance.js'
export type { SignificanceCall, SignificanceResult, LayerSignificance } from './significance.js'
export { tTest, studentTwoSidedP, incompleteBeta, logGamma } from './tTest.js'
export type { TTestResult } from './tTest.js'
export { TCAV } from './facade.js'
export type { TcavConstructorOptions } from './facade.js'
