// Every reference case this version supports, on every backend, against real Captum 0.8.0
// (../shared/reference). Adding a method to METHODS (and conformance/methods.ts) adds its cases here.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { runConformance, type ConformanceReport } from '../../src/conformance/runner.js'
import { onnxTarget, tfjsTarget } from '../../src/conformance/targets.js'

const REF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/reference')

/**
 * Known gaps, per backend: case id → why. The list is explicit and must only shrink.
 * resnet18 Saliency on ONNX: 127 of 150 528 elements (one 7×7×3 receptive field of conv1) differ
 * because one MaxPool window of channel 62 holds two values 6e-8 apart; ONNX Runtime's and torch's
 * float32 convolutions round differently by more than that, so the argmax — and with it where the
 * gradient goes — flips. The integrated version of the same gradient (IG) matches.
 */
const KNOWN_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  onnx: { 'resnet18.saliency.abs_true.t3': 'MaxPool near-tie (gap 6e-8) flips the argmax between ORT and torch' },
  tfjs: {},
  'tfjs-wasm': { 'cnn.ig.left16.t1': "riemann_left evaluates the all-zero baseline, where every MaxPool window ties; wasm's MaxPool gradient breaks ties unlike torch" },
}

const check = (r: ConformanceReport, minPassed: number): void => {
  const gaps = KNOWN_GAPS[r.backend] ?? {}
  for (const c of r.cases) {
    if (c.status === 'fail') expect(gaps[c.id], `${c.id}: ${c.detail}`).toBeDefined()
    if (c.id in gaps) expect(c.status, `${c.id} is listed as a known gap but now passes: remove it from KNOWN_GAPS`).toBe('fail')
  }
  expect(r.passed).toBeGreaterThanOrEqual(minPassed)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('Captum reference fixtures', () => {
  it('onnx: every supported case matches Captum', async () => {
    const r = await runConformance(REF, onnxTarget)
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) check(r.right, 84)
  })

  it('tfjs-cpu: every supported case matches Captum (networks rebuilt from their weights, layers tapped)', async () => {
    const before = tf.memory().numTensors
    const r = await runConformance(REF, tfjsTarget)
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) check(r.right, 83)
    // every attribute call, every model built and disposed: no tensor outlives the run
    expect(tf.memory().numTensors).toBe(before)
  })

  it('tfjs-wasm: the same cases, with wasm kernels', async () => {
    await import('@tensorflow/tfjs-backend-wasm')
    const previous = tf.getBackend()
    await tf.setBackend('wasm')
    try {
      const r = await runConformance(REF, { ...tfjsTarget, name: 'tfjs-wasm' })
      expect(E.isRight(r)).toBe(true)
      if (E.isRight(r)) check(r.right, 82)
    } finally {
      await tf.setBackend(previous)
    }
  })

  it('the runner works on any directory in the fixture format, and reports unsupported cases', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clarus-ref-'))
    const index = JSON.parse(readFileSync(path.join(REF, 'index.json'), 'utf8')) as { cases: { id: string; file: string }[]; models: Record<string, { onnx: string }> }
    const keep = ['mlp.ig.right10.t1', 'mlp.fgsm.untargeted.eps0.1']
    index.cases = index.cases.filter((c) => keep.includes(c.id)).map((c) => ({ ...c, file: `flat/${path.basename(c.file)}` }))
    for (const c of index.cases) cpSync(path.join(REF, 'cases/mlp', path.basename(c.file)), path.join(dir, c.file))
    index.models = { mlp: { ...index.models['mlp']!, onnx: 'mlp-copy.onnx' } }
    cpSync(path.join(REF, 'models/mlp.onnx'), path.join(dir, 'mlp-copy.onnx'))
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index))
    const lines: string[] = []
    const r = await runConformance(dir, onnxTarget, { log: (l) => lines.push(l) })
    expect(E.isRight(r) && [r.right.passed, r.right.failed, r.right.unsupported]).toEqual([1, 0, 1])
    expect(lines[0]).toMatch(/^PASS +mlp\.ig\.right10\.t1/)
    expect(lines[1]).toMatch(/^UNSUPPORTED +mlp\.fgsm\.untargeted\.eps0\.1 +FGSM is not implemented/)
  })

  it('a bad directory is a typed error, not a crash', async () => {
    const r = await runConformance(path.join(tmpdir(), 'does-not-exist-clarus'), onnxTarget)
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })
})
