import * as E from 'fp-ts/lib/Either.js'
import { attribute, saliency, toFloat64 } from 'clarus'
import { fromOnnx, type GradRule } from 'clarus/onnx'
import { model, modelFile, x } from './ocr-model.js'

/** HardSigmoid with a straight-through gradient: dx = α·dy everywhere, where the gate saturates too. */
const StraightThroughHardSigmoid: GradRule = {
  opType: 'HardSigmoid',
  domain: '',
  opsets: [6],
  build: (g) => ({ 0: g.node('Mul', [g.gradOfOutput(0), g.constant(g.attrFloat('alpha', 0.2), g.input(0))]) }),
}

// the same model with the rule replacing the built-in one
const straight = await fromOnnx(modelFile, { output: 'p2o.Add.87', session: { extraGradRules: [StraightThroughHardSigmoid] } })
if (E.isLeft(straight)) throw new Error(straight.left.message)
const gradients = []
for (const m of [model, straight.right]) {
  const r = await attribute(saliency({ abs: false }), m, x, { target: 0 })()
  if (E.isLeft(r)) throw new Error(r.left.message)
  gradients.push(toFloat64(r.right.attributions[0]!))
}
const [built, mine] = gradients as [Float64Array, Float64Array]
console.log('gradients changed by the rule:', built.filter((v, i) => Math.abs(v - mine[i]!) > 1e-6 * (1 + Math.abs(v))).length, 'of', built.length)
await straight.right.dispose()
