// Captum's five TracIn fixtures (real Captum 0.8.0 runs: TracInCP ×3, TracInCPFast ×2) on both
// backends: every result field (influence, proponents, opponents, self-influence) within the case tolerances.
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

const allPass = async <T>(target: ConformanceTarget<T>): Promise<void> => {
  const before = tf.memory().numTensors
  const r = await runConformance(REFERENCE_DIR, target, { filter: /\.tracincp/ })
  if (E.isLeft(r)) throw new Error(r.left.message)
  expect(r.right.cases.map((c) => [c.id, c.status]).sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([
    ['mlp.tracincp.aggregate.ce_sum.sample_wise', 'pass'],
    ['mlp.tracincp.all_params.ce_none.bs4', 'pass'],
    ['mlp.tracincp.sample_wise.ce_mean.bs5', 'pass'],
    ['mlp.tracincpfast.fc3.ce_mean.bs5.test_loss_sum', 'pass'],
    ['mlp.tracincpfast.fc3.ce_sum.bs4', 'pass'],
  ])
  expect(r.right.cases.find((c) => c.id.includes('test_loss_sum'))!.detail).toMatch(/self_influence_inputs max\|Δ\|/)
  expect(tf.memory().numTensors).toBe(before)
}

describe('TracIn reference cases: all pass within the case tolerances', () => {
  it('onnx', () => allPass(onnxTarget))
  it('tfjs (mlp checkpoints rebuilt from their weights, parameters declared)', () => allPass(tfjsTarget))
})
