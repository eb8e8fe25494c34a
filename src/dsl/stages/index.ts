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

/** Every stage, as a typed tuple (`as const`): `StageSpec` is derived from its element types. */
export const ALL_STAGES = [
  interpolate,
  grad,
  quadratureStage,
  scaleByDelta,
  multiplyByInputs,
  abs,
  completenessDelta,
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
] as const satisfies readonly AnyStageDef[]
