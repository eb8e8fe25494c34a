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
import { gapKeys, gapsFor, KNOWN_GAPS_FILE, parseKnownGaps } from '../../src/conformance/knownGaps.js'
import { type ConformanceReport } from '../../src/conformance/runner.js'
import { runConformance } from '../../src/conformance/files.js'
import { onnxTarget, tfjsTarget } from '../../src/conformance/targets.js'

const REF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/reference')

/**
 * Known gaps, per backend: case id → why, from the file `npm run conformance` reads
 * (conformance-known-gaps.json at the repository root). The list is explicit and must only shrink.
 */
const KNOWN_GAPS = parseKnownGaps(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../conformance-known-gaps.json'), 'utf8'), KNOWN_GAPS_FILE)

const check = (r: ConformanceReport, minPassed: number): void => {
  if (E.isLeft(KNOWN_GAPS)) throw new Error(KNOWN_GAPS.left.message)
  // the reports name their backend 'onnx', 'tfjs' (cpu) or 'tfjs-wasm'
  const keys = r.backend === 'onnx' ? gapKeys('onnx') : gapKeys('tfjs', r.backend === 'tfjs' ? 'cpu' : r.backend.replace(/^tfjs-/, ''))
  const gaps = gapsFor(KNOWN_GAPS.right, keys)
  for (const c of r.cases) {
    if (c.status === 'fail') expect(gaps[c.id], `${c.id}: ${c.detail}`).toBeDefined()
    if (c.id in gaps) expect(c.status, `${c.id} is listed as a known gap but now passes: remove it from ${KNOWN_GAPS_FILE}`).toBe('fail')
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
    if (E.isRight(r)) check(r.right, 113)
  })

  it('tfjs-cpu: every supported case matches Captum (networks rebuilt from their weights, layers tapped)', async () => {
    const before = tf.memory().numTensors
    const r = await runConformance(REF, tfjsTarget)
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) check(r.right, 112)
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
      if (E.isRight(r)) check(r.right, 111)
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
    // a wave-2 case of an algorithm this version does not have: the FGSM case, renamed
    const fgsm = index.cases.find((c) => c.id === keep[1])!
    const renamed = { ...(JSON.parse(readFileSync(path.join(dir, fgsm.file), 'utf8')) as Record<string, unknown>), id: 'mlp.nosuchattack', algorithm: 'NoSuchAttack' }
    writeFileSync(path.join(dir, 'flat/nosuchattack.json'), JSON.stringify(renamed))
    index.cases.push({ ...fgsm, id: 'mlp.nosuchattack', file: 'flat/nosuchattack.json', ...('algorithm' in fgsm ? { algorithm: 'NoSuchAttack' } : {}) })
    index.models = { mlp: { ...index.models['mlp']!, onnx: 'mlp-copy.onnx' } }
    cpSync(path.join(REF, 'models/mlp.onnx'), path.join(dir, 'mlp-copy.onnx'))
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index))
    const lines: string[] = []
    const r = await runConformance(dir, onnxTarget, { log: (l) => lines.push(l) })
    expect(E.isRight(r) && [r.right.passed, r.right.failed, r.right.unsupported]).toEqual([2, 0, 1])
    expect(lines[0]).toMatch(/^PASS +mlp\.ig\.right10\.t1/)
    expect(lines[1]).toMatch(/^PASS +mlp\.fgsm\.untargeted\.eps0\.1/)
    expect(lines[2]).toMatch(/^UNSUPPORTED +mlp\.nosuchattack +NoSuchAttack \(robust\) is not implemented/)
  })

  it('a bad directory is a typed error, not a crash', async () => {
    const r = await runConformance(path.join(tmpdir(), 'does-not-exist-clarus'), onnxTarget)
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })
})
