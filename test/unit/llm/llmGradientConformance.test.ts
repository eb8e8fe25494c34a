// Captum's two LLMGradientAttribution fixtures through the conformance runner (llmGradCases.ts) on
// both backends: every field within the case tolerances, the forward check on log-probs, no tfjs leak.
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
  const r = await runConformance(REFERENCE_DIR, target, { filter: /\.llmgrad\./ })
  if (E.isLeft(r)) throw new Error(r.left.message)
  expect(r.right.cases.map((c) => [c.id, c.status])).toEqual([
    ['tinylm.llmgrad.layerig.token.skip_bos', 'pass'],
    ['tinylm.llmgrad.layerig.token.pad_baseline.trapezoid.bos_in_target', 'pass'],
  ])
  for (const c of r.right.cases) expect(c.detail).toMatch(/token_attr max\|Δ\|.*target_log_probs max\|Δ\|.*2 forward \+ 1 vjp call/)
  expect(tf.memory().numTensors).toBe(before)
}

describe('LLMGradientAttribution reference cases: both pass', () => {
  it('onnx', () => bothPass(onnxTarget))
  it('tfjs (tinylm rebuilt from its weights, tok_emb tapped)', () => bothPass(tfjsTarget))
})
