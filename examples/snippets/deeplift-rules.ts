import * as E from 'fp-ts/lib/Either.js'
import { DEEPLIFT, DeepLift, attribute, deepLift, describeRuleSet, type RuleSet } from 'clarus'
import { model, x } from './ocr-model.js'

// DEEPLIFT has rules for ReLU-like activations, Softmax and MaxPool; this MobileNetV3 also has hard-swish
// and squeeze-excitation gates (Clip, HardSigmoid, x · gate), so the default rule set refuses it up front
const plain = await attribute(deepLift(), model, x, { target: 0 })()
if (E.isLeft(plain)) console.log(plain.left._tag, plain.left.message.slice(0, 160), '…')   // UnsupportedOps: … 54 node(s) …
// keep those ops on their ordinary gradient, DeepLift's Rescale rule everywhere else
const mine: RuleSet = { ...DEEPLIFT, name: 'DeepLift, gates on the gradient', entries: [...DEEPLIFT.entries, { match: { opType: ['Clip', 'HardSigmoid', 'Mul'] }, rule: { rule: 'gradient' } }] }
console.log(describeRuleSet(mine))
const [attr, delta] = await new DeepLift(model, { ruleSet: mine }).attribute(x, { baselines: 0, target: 0, returnConvergenceDelta: true })
console.log(attr.shape, delta.data)   // Σ attr − (F(x) − F(0)): far from 0, as the gates are not rescaled
