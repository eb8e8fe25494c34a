import { LayerFeatureAblation, NeuronFeatureAblation, int32 } from 'clarus'
import { model, x } from './ocr-model.js'

const lfa = new LayerFeatureAblation(model, 'reshape2_0.tmp_0')              // the pooled features the classifier reads: [200]
const perNeuron = await lfa.attribute(x, { target: 0 })                       // one group per neuron, ablated to 0
const groups = Array.from({ length: 200 }, (_, i) => Math.floor(i / 10))    // 20 groups of 10 neurons
const perGroup = await lfa.attribute(x, { target: 0, layerMask: int32([1, 200], groups), layerBaselines: 0.5, perturbationsPerEval: 8 })
// a neuron's value explained by the input: 16 × 16 patches of the image, the same in every channel
const patches = int32([1, 1, 48, 192], Array.from({ length: 48 * 192 }, (_, i) => Math.floor(i / 192 / 16) * 12 + Math.floor((i % 192) / 16)))
const byPatch = await new NeuronFeatureAblation(model, 'reshape2_0.tmp_0').attribute(x, { neuronSelector: 3, featureMask: patches })
console.log(perNeuron.shape, perGroup.shape, byPatch.shape)                   // [1, 200] [1, 200] [1, 3, 48, 192]
