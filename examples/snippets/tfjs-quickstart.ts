import { Saliency } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

const model = fromTfjs(layersModel)                      // a LayersModel, a GraphModel, or (...xs) => y
const grads = await new Saliency(model).attribute(flowers, { target: 2 })   // |∂ logit(virginica) / ∂ flower|
console.log(grads.shape, grads.data)                     // a host tensor [2, 4]: no tfjs tensor outlives the call
