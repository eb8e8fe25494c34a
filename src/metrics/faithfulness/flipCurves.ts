/**
 * Deletion and insertion curves (region / pixel flipping: Samek, Binder, Montavon, Lapuschkin &
 * Müller 2017, "Evaluating the visualization of what a deep neural network has learned",
 * arXiv:1509.06321; deletion and insertion: Petsiuk, Das & Saenko 2018, RISE, arXiv:1806.07421;
 * Quantus's `PixelFlipping` and `RegionPerturbation`). The features of an example (every element
 * of every input) are ordered by attribution, most relevant first (`order: 'morf'`, the default)
 * or least relevant first (`'lerf'`), and changed `stepSize` at a time (default 1):
 *
 * - `deletion`: from x, set to the baseline x′; the curve F(x), …, F(x′);
 * - `insertion`: from x′, set to x; the curve F(x′), …, F(x).
 *
 * The score is the trapezoid area under the curve on a normalised axis [0, 1] (S = ⌈n / stepSize⌉ + 1
 * points): AUC = Σ (F_{s−1} + F_s) / (2 (S − 1)). With MoRF a faithful explanation makes the
 * deletion AUC low and the insertion AUC high; with LeRF the reverse.
 *
 * Pipeline: `reference ∘ (explain(method) | givenAttributions) ∘ flipPerturb[+sample] ∘ forward ∘
 * curveScore[−sample]`: S model rows per example, chunked under the memory budget; nothing random.
 * The baselines are the call's (zeros by default).
 *
 * `deletionCurve` / `insertionCurve` build the same pipeline but return the curves too: run with
 * `attribute`, its `attributions` are `[curves [N, S], auc [N]]` (F before any change first).
 *
 * Captum: none (Quantus's `PixelFlipping` returns the curve; its AUC is `np.trapz` with unit
 * spacing, S − 1 times this one).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { FlipOrder, type FlipMode } from '../../dsl/stages/flipPerturb.js'
import { explainedName } from '../complexity/sparseness.js'
import { explanationStage, type Explained } from './infidelity.js'

export const FlipCurveOptions = t.readonly(t.partial({ order: FlipOrder, stepSize: PositiveInt }), 'FlipCurveOptions')
export type FlipCurveOptions = t.TypeOf<typeof FlipCurveOptions>

export const flipCurveDefaults = { order: 'morf', stepSize: 1 } as const

const curve = (mode: FlipMode, score: 'auc' | 'curve') => (explained: Explained, o: FlipCurveOptions = {}): Pipeline => {
  const opts = { ...flipCurveDefaults, ...o }
  return pipeline(
    `${mode}${score === 'curve' ? 'Curve' : ''}(${explainedName(explained)}, ${opts.order})`,
    stage.reference(),
    explanationStage(explained),
    stage.flipPerturb({ mode, order: opts.order, stepSize: opts.stepSize }),
    stage.forward(),
    stage.curveScore({ score }),
  )
}

/** The deletion-curve AUC pipeline of `explained`. */
export const deletion = curve('deletion', 'auc')
/** The insertion-curve AUC pipeline of `explained`. */
export const insertion = curve('insertion', 'auc')
/** The deletion curves and their AUC: `attribute` returns `[curves [N, S], auc [N]]`. */
export const deletionCurve = curve('deletion', 'curve')
/** The insertion curves and their AUC: `attribute` returns `[curves [N, S], auc [N]]`. */
export const insertionCurve = curve('insertion', 'curve')
