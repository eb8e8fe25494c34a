import * as E from 'fp-ts/lib/Either.js'
import { attribute, deletion, deletionCurve, evaluate, faithfulnessCorrelation, saliency, toFloat64 } from 'clarus'
import { model, x } from './ocr-model.js'

// MoRF deletion curve of Saliency, 1 152 of the 27 648 values a step, towards zero baselines: lower AUC is better
const auc = await evaluate(deletion(saliency(), { order: 'morf', stepSize: 1152 }), model, x, { target: 0 })()
// the same with attributions computed beforehand; Pearson correlation over 50 random subsets of 256 values
const sal = await attribute(saliency(), model, x, { target: 0 })()
if (E.isLeft(sal)) throw new Error(sal.left.message)
const corr = await evaluate(faithfulnessCorrelation('given', { nSamples: 50, subsetSize: 256 }), model, x, { target: 0, attributions: sal.right.attributions, seed: 0 })()
// the curves themselves, for a plot: attributions = [curves [N, S], auc [N]]
const curves = await attribute(deletionCurve(saliency(), { stepSize: 1152 }), model, x, { target: 0 })()
if (E.isRight(auc) && E.isRight(corr) && E.isRight(curves)) {
  console.log('deletion AUC', auc.right.scores.data[0], 'faithfulness correlation', corr.right.scores.data[0])
  console.log('upright logit as values are removed:', Array.from(toFloat64(curves.right.attributions[0]!), (v) => v.toFixed(2)).join(' '))
}
