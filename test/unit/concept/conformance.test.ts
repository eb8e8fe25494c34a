// Captum's two TCAV fixtures (real Captum 0.8.0 runs) on both backends: the mean-difference case
// compares CAVs and scores, the DefaultClassifier case scores with the CAVs Captum trained.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { type ConformanceTarget } from '../../../src/conformance/runner.js'
import { runConformance } from '../../../src/conformance/files.js'
import { onnxTarget, tfjsTarget } from '../../../src/conformance/targets.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const bothPass = async <T>(target: ConformanceTarget<T>): Promise<void> => {
  const before = tf.memory().numTensors
  const r = await runConformance(REFERENCE_DIR, target, { filter: /\.tcav\./ })
  if (E.isLeft(r)) throw new Error(r.left.message)
  expect(r.right.cases.map((c) => [c.id, c.status, c.detail.includes('FAILED')])).toEqual([
    ['cnn.tcav.default_classifier.pool1_pool2.t2', 'pass', false],
    ['cnn.tcav.meandiff.pool1_pool2.t2', 'pass', false],
  ])
  expect(r.right.cases[1]!.detail).toMatch(/cavs max\|Δ\|/)
  expect(tf.memory().numTensors).toBe(before)
}

describe('TCAV reference cases: both pass, CAVs and scores within the case tolerances', () => {
  it('onnx', () => bothPass(onnxTarget))
  it('tfjs (cnn rebuilt from its weights, pool1/pool2 tapped)', () => bothPass(tfjsTarget))
})
