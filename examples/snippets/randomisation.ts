import * as E from 'fp-ts/lib/Either.js'
import { inputXGradient, modelParameterRandomisation, randomLogit, saliency } from 'clarus'
import { fromTfjs, tfjsModelVariants } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

const model = fromTfjs(layersModel)
const variants = await tfjsModelVariants(layersModel)              // Either<AttributionError, ModelVariants>; on ONNX: onnxModelVariants(file)
if (E.isLeft(variants)) throw new Error(variants.left.message)
for (const method of [saliency(), inputXGradient()]) {
  // randomise 'logits', then 'hidden' too (top layer first), explaining each flower's class
  const r = await modelParameterRandomisation(method, model, variants.right, flowers, { seed: 0 }, { target: [0, 2] })()
  if (E.isRight(r)) console.log(method.name, r.right.randomised, 'mean similarity', r.right.meanSimilarity, 'passed:', r.right.passed)
}
const rl = await randomLogit(saliency(), model, flowers, { seed: 0 })()   // { scores: [N], predicted, other }
if (E.isRight(rl)) console.log('predicted vs another class:', rl.right.scores.data, rl.right.predicted, rl.right.other)
