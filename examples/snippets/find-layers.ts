import { findLayers, layerInputOf } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { model } from './ocr-model.js'
import { layersModel } from './iris-model.js'

const conv = findLayers(model, { opType: 'Conv', last: true })[0]!.name        // 'conv2d_94.tmp_0'
const relus = findLayers(model, { name: /relu/, layout: 'NCHW' })              // LayerInfo[] in graph order (15 here)
const dense = findLayers(fromTfjs(layersModel), { opType: 'Dense' })           // tfjs class names: hidden, logits
const input = layerInputOf(model, conv)                                        // Right('p2o.Add.83'), or a typed error
console.log(conv, relus[0], dense.map((l) => l.name), input)                  // relus[0]: { name: 'relu_0.tmp_0', opType: 'Relu', shape: [8, null, null], … }
