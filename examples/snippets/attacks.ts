import * as E from 'fp-ts/lib/Either.js'
import { compareAttacks, fgsm, float32, keyOf, minParamPerturbation, normals, pgd, type AttackFn, type Loss } from 'clarus'
import { model, x } from './ocr-model.js'

// the line is upright (class 0). Its softmax is saturated, so cross-entropy has no gradient left:
// lower the upright logit itself instead; pixels lie in [−1, 1] after PaddleOCR's preprocessing
const loss: Loss = { _tag: 'negOutput' }
const common = { loss, lowerBound: -1, upperBound: 1 }
const a = await fgsm(model, x, { epsilon: 16 / 255, target: 0, ...common })()
if (E.isRight(a)) console.log('FGSM logits', a.right.perturbedOutput.data)         // { perturbed: [HostTensor], perturbedOutput }
const b = await pgd(model, x, { radius: 4, stepSize: 1.5, stepNum: 3, target: 0, norm: 'L2', randomStart: true, seed: 0, ...common })()
if (E.isRight(b)) console.log('PGD logits', b.right.perturbedOutput.data, '‖x′ − x‖', b.right.perturbationNorm[0]!.data)
// the smallest FGSM ε that turns the line "upside down", by binary search over [0, 0.5]
const m = await minParamPerturbation(model, x, { attack: { _tag: 'FGSM', options: common }, argName: 'epsilon', argMin: 0, argMax: 0.5, argStep: 0.01, mode: 'binary', target: 0 })()
if (E.isRight(m)) console.log('smallest breaking ε', m.right.minParam)            // also perturbed, perturbedOutput, searchTrace
// accuracy and softmax probability of the label under FGSM and under Gaussian noise (3 draws)
const addNoise: AttackFn = (inputs, { attempt }) => inputs.map((t) => float32(t.shape, normals(keyOf(attempt), t.data.length).map((n, i) => Number(t.data[i]) + 0.1 * n)))
const c = await compareAttacks(model, [{ inputs: x, target: 0 }], {
  attacks: [{ name: 'FGSM', attack: { _tag: 'FGSM', options: { epsilon: 0.1, ...common } } },
            { name: 'Noise', attack: { _tag: 'custom', fn: addNoise }, numAttempts: 3 }],
  metric: ['accuracy', 'trueProb'],
})()
if (E.isRight(c)) c.right.summary.keys.forEach((k, i) => console.log(k.padEnd(20), c.right.summary.table.data.slice(2 * i, 2 * i + 2)))
