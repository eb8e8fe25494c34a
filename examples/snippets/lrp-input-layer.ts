import * as tf from '@tensorflow/tfjs'
import { EPSILON_GAMMA_BOX, LRP, LRP_CAPTUM } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

// iris measurements lie in [0, 8] cm; next to the two flowers, a row of zeros
const rows = tf.concat([flowers, tf.zeros([1, 4])])
const model = fromTfjs(layersModel)
for (const ruleSet of [EPSILON_GAMMA_BOX(0, 8), LRP_CAPTUM]) {
  const relevance = await new LRP(model, { ruleSet }).attribute(rows, { target: 0 })
  console.log(ruleSet.name.padEnd(22), 'relevance of the zero row:', relevance.data.slice(8))   // z^B gives zeros relevance; x ⊙ g cannot
}
