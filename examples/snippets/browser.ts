// In a page or a Web Worker, bundled by esbuild, Vite or webpack (the package's "browser" field swaps in
// fetch for file reading and onnxruntime-web for onnxruntime-node). It runs under Node as well.
import * as ort from 'onnxruntime-web'
import { attribute, float32, integratedGradients, occlusion } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { picked } from './picked-file.js'

ort.env.wasm.numThreads = 1                                 // a page that is not cross-origin isolated has no wasm threads
const loaded = await fromOnnx(picked, { ort })              // a File/Blob, a URL, an ArrayBuffer or a Uint8Array
if (loaded._tag === 'Left') throw new Error(loaded.left.message)
const model = loaded.right
const penguin = float32([1, 9], [0.9, -1.1, 0.4, -0.2, 0, 1, 0, 1, 0])
// gradients of an ONNX model in the browser: clarus builds the backward graph in the page
const ig = await attribute(integratedGradients({ nSteps: 32 }), model, [penguin], { target: 1 })()
const occ = await attribute(occlusion({ slidingWindowShapes: [[1]] }), model, [penguin], { target: 1 })()
if (ig._tag === 'Left' || occ._tag === 'Left') throw new Error('attribution failed')
console.log(ig.right.attributions[0]!.shape, occ.right.attributions[0]!.shape)   // [1, 9] [1, 9]
await model.dispose()
