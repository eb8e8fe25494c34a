// Perturbation methods are many forward passes: on tfjs, the backend decides their speed.
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'                  // registers 'wasm' (npm install @tensorflow/tfjs-backend-wasm)
import { Occlusion } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'

await tf.setBackend('cpu')
// a CNN the size of a 64 × 64 grey face classifier (weights seeded, not trained: only the time matters here)
const seeded = (seed: number) => tf.initializers.glorotNormal({ seed })
const cnn = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [64, 64, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1) }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2) }),
    tf.layers.globalAveragePooling2d({}),
    tf.layers.dense({ units: 7, kernelInitializer: seeded(3) }),
  ],
})
const face = tf.randomUniform([1, 64, 64, 1], -1, 1, 'float32', 7)

for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend)
  const t0 = performance.now()
  await new Occlusion(fromTfjs(cnn)).attribute(face, { target: 3, slidingWindowShapes: [16, 16, 1], strides: [8, 8, 1] })
  console.log(`${backend}: Occlusion over 49 windows in ${(performance.now() - t0).toFixed(0)} ms`)
}
