/**
 * The stage vocabulary: one explicit list, no side-effect registration. Adding a stage means one
 * file in this folder and one line here: the `StageSpec` union (`spec.ts`), the pipeline codec and
 * the `stage` builders (`build.ts`) are derived from this list, at the type level too.
 *
 * @category stages
 * @since 0.1.0
 */
import type { AnyStageDef } from '../stage.js'
import { abs } from './abs.js'
import { activation } from './activation.js'
import { completenessDelta } from './completenessDelta.js'
import { relevanceDelta } from './relevanceDelta.js'
import { grad } from './grad.js'
import { interpolate } from './interpolate.js'
import { layerEndpoints } from './layerEndpoints.js'
import { multiplyByInputs } from './multiplyByInputs.js'
import { quadratureStage } from './quadrature.js'
import { scaleByDelta } from './scaleByDelta.js'
import { reference } from './reference.js'
import { perturb } from './perturb.js'
import { forward } from './forward.js'
import { diff } from './diff.js'
import { marginals } from './marginals.js'
import { linearFit } from './linearFit.js'
import { noise } from './noise.js'
import { sampleMean } from './sampleMean.js'
import { apply } from './apply.js'
import { randomPoint } from './randomPoint.js'
import { scaleByLayerDelta } from './scaleByLayerDelta.js'
import { clip } from './clip.js'
import { gradCam } from './gradCam.js'
import { conductanceGrad } from './conductanceGrad.js'
import { upsample } from './upsample.js'
import { layerPoints } from './layerPoints.js'
import { conductanceSum } from './conductanceSum.js'
import { eachBaseline } from './eachBaseline.js'
import { weightBy } from './weightBy.js'
import { customAttribution } from './customAttribution.js'
import { explain } from './explain.js'
import { givenAttributions } from './givenAttributions.js'
import { infidelityPerturb } from './infidelityPerturb.js'
import { infidelityScore } from './infidelityScore.js'
import { sensitivityPerturb } from './sensitivityPerturb.js'
import { sensitivityScore } from './sensitivityScore.js'
import { explanationScore } from './explanationScore.js'
import { flipPerturb } from './flipPerturb.js'
import { curveScore } from './curveScore.js'
import { subsetPerturb } from './subsetPerturb.js'
import { correlationScore } from './correlationScore.js'
import { sensitivityStat } from './sensitivityStat.js'

/** Every stage, as a typed tuple (`as const`): `StageSpec` is derived from its element types. */
export const ALL_STAGES = [
  interpolate,
  grad,
  quadratureStage,
  scaleByDelta,
  multiplyByInputs,
  abs,
  completenessDelta,
  relevanceDelta,
  layerEndpoints,
  activation,
  reference,
  perturb,
  forward,
  diff,
  marginals,
  linearFit,
  noise,
  sampleMean,
  apply,
  randomPoint,
  scaleByLayerDelta,
  clip,
  gradCam,
  conductanceGrad,
  upsample,
  conductanceSum,
  layerPoints,
  eachBaseline,
  weightBy,
  customAttribution,
  explain,
  givenAttributions,
  infidelityPerturb,
  infidelityScore,
  sensitivityPerturb,
  sensitivityScore,
  explanationScore,
  flipPerturb,
  curveScore,
  subsetPerturb,
  correlationScore,
  sensitivityStat,
] as const satisfies readonly AnyStageDef[]
