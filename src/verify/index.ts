/**
 * Public axiom checks: `verify` and the model combinators it is built on.
 *
 * @category verify
 * @since 0.3.0
 */
export { verify } from './verify.js'
export type { VerifyMethod, VerifyOptions, VerifyReport, AxiomCheck, AxiomStatus, Counterexample, ExplainFn } from './verify.js'
export { formatVerifyReport, verifyReportSection } from './report.js'
export { combineModels, withConstantFeature, withConstantNeuron, withSwappedFeatures, symmetrized, reimplemented } from './models.js'
export type { ModelTerm } from './models.js'
export { AXIOMS } from './axioms.js'
export type { AxiomDef, AxiomContext, Measurement, Runner } from './axioms.js'
