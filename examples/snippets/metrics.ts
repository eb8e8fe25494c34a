import * as E from 'fp-ts/lib/Either.js'
import { METRICS, attribute, describe, evaluate, float32, integratedGradients, saliency, sensitivityMax, toFloat64, type PerturbationFn } from 'clarus'
import { model, x } from './ocr-model.js'

// the method is part of the metric: sensitivityMax re-runs it at every perturbed input
const sens = sensitivityMax(integratedGradients({ nSteps: 8 }), { perturbRadius: 0.02, nPerturbSamples: 4 })
console.log(describe(sens))   // explain(IG) ∘ sensitivityPerturb[+sample] ∘ apply(IG) ∘ sensitivityScore[−sample]
const r = await evaluate(sens, model, x, { target: 0, seed: 0 })()        // Either<AttributionError, { scores: [N], meta }>
if (E.isRight(r)) console.log('sensitivityMax of IG:', r.right.scores.data[0])

// attributions computed anywhere, and Captum's perturb_func as a named call-time plug-in:
// here I = x · 5 % · (sample + 1), a deterministic dimming of the whole line
const dim: PerturbationFn = ({ inputs, samples }) => {
  const rows = toFloat64(inputs[0]!), per = rows.length / samples.length
  const I = rows.map((v, i) => v * 0.05 * (samples[Math.floor(i / per)]! + 1))
  return { perturbation: [float32(inputs[0]!.shape, I)], perturbed: [float32(inputs[0]!.shape, rows.map((v, i) => v - I[i]!))] }
}
const sal = await attribute(saliency({ abs: false }), model, x, { target: 0 })()
if (E.isLeft(sal)) throw new Error(sal.left.message)
const infd = METRICS.infidelity.build('given', { perturbation: { _tag: 'custom', name: 'dim' }, nPerturbSamples: 4, normalize: true })
const i = await evaluate(infd, model, x, { target: 0, attributions: sal.right.attributions, plugins: { perturbations: { dim } } })()
if (E.isRight(i)) console.log('infidelity of Saliency:', i.right.scores.data[0])
