import * as tf from '@tensorflow/tfjs'
import { NeuronGradient, float32 } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { model, x } from './ocr-model.js'
import { flowers, layersModel } from './iris-model.js'

const ng = new NeuronGradient(model, 'relu_0.tmp_0')                  // layer per example: [C, H, W] = [8, 24, 96]
await ng.attribute(x, { neuronSelector: [3, 4, 4] })                  // one neuron
await ng.attribute(x, { neuronSelector: [{ start: 0, stop: 2 }, 4, 4] }) // (slice(0, 2), 4, 4): the sum of 2 neurons
await ng.attribute(x, { neuronSelector: [5] }).catch((e: Error) => console.log(e.message))   // error: [5] picks a whole channel…
await ng.attribute(x, { neuronSelector: [5, {}] })                    // …[5, :] sums it (a slice sums every dim after it too)
const mask = float32([1, 8, 24, 96], Array.from({ length: 8 * 24 * 96 }, (_, i) => (i < 24 * 96 ? 1 / (24 * 96) : 0)))
await ng.attribute(x, { neuronSelector: { mask } })                   // Σ mask ⊙ layer (here channel 0's mean): any backend

// a function of the layer's rows needs a differentiable JavaScript model: tfjs (here the iris MLP)
const tfjsNg = new NeuronGradient(fromTfjs(layersModel), 'hidden')   // layer per example: [16]
const grads = await tfjsNg.attribute(flowers, { neuronSelector: (y) => tf.max(y, 1) })   // each row's strongest unit
console.log(grads.shape)                                              // [2, 4]: its gradient for each flower
