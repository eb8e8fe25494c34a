import * as tf from '@tensorflow/tfjs-core'
import { attribute, integratedGradients } from 'clarus'
import { fromTfjs, useWebGpu } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

// Node: installs navigator.gpu from Dawn (the `webgpu` package); a browser: uses its own
const gpu = await useWebGpu()
if (gpu._tag === 'Left') console.warn(gpu.left.message)   // says what to install; tf.setBackend('cpu') still works
else console.log(tf.getBackend(), gpu.right)               // webgpu, and the adapter (vendor, architecture, description)
const r = await attribute(integratedGradients(), fromTfjs(layersModel), flowers, { target: 2 })()
if (r._tag === 'Left') throw new Error(r.left.message)
console.log(r.right.attributions[0]!.shape)                 // [2, 4], as on the CPU
await tf.setBackend('cpu')
