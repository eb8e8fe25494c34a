/**
 * Wave-2 reference cases (the fixture README's "Wave 2": LLM attribution, robustness, concepts,
 * influence) are not one `attribute` call with one attribution tensor: each algorithm has its own
 * call and a result made of several named fields. The runner hands such a case to the
 * {@link AreaCaseRunner} registered for its algorithm in {@link AREA_CASES}; the runner computes
 * clarus's result and compares it field by field with {@link compareFields}.
 *
 * @category conformance
 * @since 0.5.0
 */
import { runTcavCase } from './conceptCases.js'
import { runTracInCP, runTracInCPFast } from './influenceCases.js'
import { runLlmCase } from './llmCases.js'
import { runLlmGradCase } from './llmGradCases.js'
import { robustCaseRunners } from './robustCases.js'
import type { AreaCaseRunner } from './fields.js'

export { compareFields, expectedFields, fieldTolerance } from './fields.js'
export type { AreaCaseRunner, AreaContext, AreaOutcome } from './fields.js'

/** Wave-2 case runners by the case's `algorithm` (Captum's class name). */
export const AREA_CASES: Readonly<Record<string, AreaCaseRunner>> = {
  TCAV: runTcavCase,
  LLMAttribution: runLlmCase,
  LLMGradientAttribution: runLlmGradCase,
  FGSM: robustCaseRunners.FGSM,
  PGD: robustCaseRunners.PGD,
  MinParamPerturbation: robustCaseRunners.MinParamPerturbation,
  AttackComparator: robustCaseRunners.AttackComparator,
  TracInCP: runTracInCP,
  TracInCPFast: runTracInCPFast,
}
