/**
 * Runs the backend conformance suite on every backend clarus ships: the host backend and the tfjs
 * backend on the cpu and wasm tfjs backends. Each tfjs suite switches the active tfjs backend in
 * its `beforeAll` and restores the previous one afterwards.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { hostBackend } from '../../src/backends/host/hostBackend.js'
import { tfjsBackend } from '../../src/backends/tfjs/tfjsBackend.js'
import { describeBackend, type BackendHarness } from './backend.conformance.js'

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
