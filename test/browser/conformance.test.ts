// Issue 14: the reference cases (Captum's outputs on real networks) run in real headless Chromium on
// onnxruntime-web, with clarus building the backward graphs in the page exactly as under Node.
// Two kinds of case are left to `npm run conformance:browser`, which runs them all: resnet18's
// (45 MB; single-threaded wasm takes minutes on them) and the Monte-Carlo one (262 144 noise samples
// of the mlp: 5–30 s of host work in the page). Both pass there.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../scripts/browserBuild.js'
import { runBrowserConformance } from '../../scripts/browserConformance.js'

describe('conformance in Chromium on onnxruntime-web', () => {
  it('passes every reference case (but resnet18\'s and the Monte-Carlo one), as under Node', async () => {
    const r = await runBrowserConformance({ dir: path.resolve(ROOT, '../shared/reference'), skipResnet18: true, exclude: '\\.montecarlo$' })
    const count = (s: string): number => r.cases.filter((c) => c.status === s).length
    const slowest = [...r.cases].sort((a, b) => b.ms - a.ms).slice(0, 3).map((c) => `${c.id} ${c.ms.toFixed(0)} ms`).join(', ')
    console.log(`Chromium ${r.chromium} onnxruntime-web: ${count('pass')} passed, ${count('fail')} failed, ${count('unsupported')} unsupported (fetch ${r.fetchMs.toFixed(0)} ms, run ${r.runMs.toFixed(0)} ms; slowest: ${slowest})`)
    expect(r.newFailures.map((c) => `${c.id}: ${c.detail}`)).toEqual([])
    expect(r.cases.filter((c) => c.status === 'unsupported').map((c) => `${c.id}: ${c.detail}`)).toEqual([])
    expect(count('pass')).toBeGreaterThanOrEqual(100)
  }, 300_000)

  it('passes them on TensorFlow.js too: the networks rebuilt from their weights, tfjs-wasm in the page', async () => {
    const r = await runBrowserConformance({ dir: path.resolve(ROOT, '../shared/reference'), target: 'tfjs-wasm', skipResnet18: true, exclude: '\\.montecarlo$' })
    const count = (s: string): number => r.cases.filter((c) => c.status === s).length
    console.log(`Chromium ${r.chromium} tfjs-wasm: ${count('pass')} passed, ${r.newFailures.length} failed, ${r.knownGaps.length} known gap(s), ${count('unsupported')} unsupported (run ${r.runMs.toFixed(0)} ms)`)
    expect(r.newFailures.map((c) => `${c.id}: ${c.detail}`)).toEqual([])
    expect(r.knownGaps.map((c) => c.id)).toEqual(['cnn.ig.left16.t1'])
    expect(r.cases.filter((c) => c.status === 'unsupported').map((c) => `${c.id}: ${c.detail}`)).toEqual([])
    expect(count('pass')).toBeGreaterThanOrEqual(100)
  }, 300_000)
})
