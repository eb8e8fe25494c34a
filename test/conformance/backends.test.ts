/**
 * Runs the backend conformance suite on every backend clarus ships: the host backend and the tfjs
 * backend on the cpu and wasm tfjs backends. Each tfjs suite switches the active tfjs backend in
 * its `beforeAll` and restores the previous one afterwards. The model conformance suite (vjp
 * options) runs on the two-head model as a tfjs GraphModel (cpu and wasm) and as an ONNX model.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { hostBackend } from '../../src/backends/host/hostBackend.js'
import { tfjsBackend } from '../../src/backends/tfjs/tfjsBackend.js'
import { describeBackend, type BackendHarness } from './backend.conformance.js'
import { describeModels, type ModelHarness } from './model.conformance.js'
import { twoHeadOnnx, twoHeadTfjs } from './twoHead.js'

const onTfjs = (tfBackend: string) => async (): Promise<BackendHarness<tf.Tensor>> => {
  // undefined when no tfjs backend has been initialised yet: then there is nothing to restore.
  const previous = tf.getBackend() as string | undefined
  if (!(await tf.setBackend(tfBackend))) throw new Error(`tfjs backend ${tfBackend} failed to initialise`)
  await tf.ready()
  return {
    backend: tfjsBackend,
    liveTensors: () => tf.memory().numTensors,
    teardown: async () => {
      if (previous !== undefined) await tf.setBackend(previous)
    },
  }
}

describeBackend('host', () => Promise.resolve({ backend: hostBackend }))
describeBackend('tfjs-cpu', onTfjs('cpu'), { int64Limit: 2n ** 31n - 1n })
describeBackend('tfjs-wasm', onTfjs('wasm'), { int64Limit: 2n ** 31n - 1n })

const modelsOnTfjs = (tfBackend: string) => async (): Promise<ModelHarness<tf.Tensor>> => {
  const h = await onTfjs(tfBackend)()
  const m = twoHeadTfjs()
  return {
    ...h,
    model: m.model,
    teardown: async () => {
      m.dispose()
      await h.teardown?.()
    },
  }
}

describeModels('tfjs-cpu', modelsOnTfjs('cpu'))
describeModels('tfjs-wasm', modelsOnTfjs('wasm'))
describeModels('onnx', async () => {
  const m = await twoHeadOnnx()
  return { backend: hostBackend, model: m.model, teardown: m.dispose }
})
