// The conformance exit code means "something new broke": failures listed in the known-gaps file
// print as KNOWN-GAP and do not set it, a listed case that passes is reported, anything else that
// fails exits 1, and a bad gaps file exits 2. The verdict is tested as a function, then the CLI end
// to end on a two-case reference directory (one real case, one whose expected values were altered).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gapKeys, gapsFor, parseKnownGaps, statusLabel, summaryLines, verdict } from '../../../src/conformance/knownGaps.js'
import type { CaseReport, ConformanceReport } from '../../../src/conformance/runner.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const report = (cases: readonly Omit<CaseReport, 'ms' | 'detail'>[]): ConformanceReport => {
  const full = cases.map((c) => ({ ...c, detail: '', ms: 1 }))
  const n = (s: string): number => full.filter((c) => c.status === s).length
  return { backend: 'onnx', cases: full, passed: n('pass'), failed: n('fail'), unsupported: n('unsupported') }
}

describe('verdict', () => {
  const gaps = { 'a.known': 'near-tie', 'c.fixed': 'was a near-tie' }
  it('a listed failure is a known gap and leaves the exit code at 0', () => {
    const v = verdict(report([{ id: 'a.known', status: 'fail' }, { id: 'b', status: 'pass' }]), gaps)
    expect(v.exitCode).toBe(0)
    expect(v.knownGaps.map((k) => [k.id, k.reason])).toEqual([['a.known', 'near-tie']])
    expect(v.newFailures).toEqual([])
  })
  it('an unlisted failure exits 1, next to known gaps', () => {
    const v = verdict(report([{ id: 'a.known', status: 'fail' }, { id: 'b', status: 'fail' }]), gaps)
    expect(v.exitCode).toBe(1)
    expect(v.newFailures.map((c) => c.id)).toEqual(['b'])
  })
  it('a listed case that passes is reported for pruning; unsupported and unrun ones are not', () => {
    const r = report([{ id: 'c.fixed', status: 'pass' }, { id: 'a.known', status: 'unsupported' }])
    const v = verdict(r, gaps)
    expect(v).toMatchObject({ exitCode: 0, nowPassing: ['c.fixed'], knownGaps: [] })
    expect(summaryLines(r, v, 'gaps.json')).toEqual(['1 passed, 0 failed, 0 known gaps, 1 unsupported', 'known gap c.fixed now passes: remove it from gaps.json'])
  })
  it('with no gaps every failure counts (negative control), and inherited keys are not gaps', () => {
    expect(verdict(report([{ id: 'a.known', status: 'fail' }]), {}).exitCode).toBe(1)
    expect(verdict(report([{ id: 'toString', status: 'fail' }]), {}).exitCode).toBe(1)
  })
  it('labels listed failures KNOWN-GAP and nothing else', () => {
    expect(statusLabel({ id: 'a.known', status: 'fail' }, gaps)).toBe('KNOWN-GAP')
    expect(statusLabel({ id: 'a.known', status: 'pass' }, gaps)).toBe('PASS')
    expect(statusLabel({ id: 'b', status: 'fail' }, gaps)).toBe('FAIL')
  })
  it('reads the keys of the run: onnx, or tfjs and tfjs-<backend>', () => {
    const file = { onnx: { x: 'o' }, tfjs: { y: 'any tfjs' }, 'tfjs-wasm': { z: 'wasm' } }
    expect(gapsFor(file, gapKeys('onnx'))).toEqual({ x: 'o' })
    expect(gapsFor(file, gapKeys('tfjs', 'wasm'))).toEqual({ y: 'any tfjs', z: 'wasm' })
    expect(gapsFor(file, gapKeys('tfjs', 'cpu'))).toEqual({ y: 'any tfjs' })
  })
  it('parses the file with typed errors for bad JSON and bad shapes', () => {
    expect(E.isRight(parseKnownGaps('{"onnx": {"a": "why"}}', 'f'))).toBe(true)
    const bad = parseKnownGaps('{"onnx": {"a": 3}}', 'f')
    expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidSpec')
    const notJson = parseKnownGaps('{onnx', 'gaps.json')
    expect(E.isLeft(notJson) && notJson.left.message).toMatch(/gaps\.json is not valid JSON/)
  })
  it('the repository file lists the two known near-ties, each with its reason', () => {
    const file = parseKnownGaps(readFileSync(path.join(ROOT, 'conformance-known-gaps.json'), 'utf8'), 'conformance-known-gaps.json')
    if (E.isLeft(file)) throw new Error(file.left.message)
    expect(Object.keys(gapsFor(file.right, gapKeys('onnx')))).toEqual(['resnet18.saliency.abs_true.t3'])
    // WebGPU keeps the ONNX gaps and gives the same case its own reason
    expect(gapsFor(file.right, gapKeys('onnx-webgpu'))['resnet18.saliency.abs_true.t3']).toMatch(/WebGPU/)
    expect(Object.keys(gapsFor(file.right, gapKeys('tfjs', 'wasm')))).toEqual(['cnn.ig.left16.t1'])
    expect(Object.keys(gapsFor(file.right, gapKeys('tfjs', 'cpu')))).toEqual([])
  })
})

describe('npm run conformance with --known-gaps', () => {
  let dir: string
  const GOOD = 'mlp.saliency.abs_true.t0'
  const BROKEN = 'mlp.saliency.altered.t0'
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'clarus-gaps-'))
    const index = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'index.json'), 'utf8')) as { cases: { id: string; file: string }[] }
    const entry = index.cases.find((c) => c.id === GOOD)!
    const altered = JSON.parse(readFileSync(path.join(REFERENCE_DIR, entry.file), 'utf8')) as { id: string; expected: { attribution: { data: number[][] } } }
    altered.id = BROKEN
    altered.expected.attribution.data[0]![0] = 5
    mkdirSync(path.join(dir, 'cases', 'mlp'), { recursive: true })
    writeFileSync(path.join(dir, 'cases', 'mlp', `${BROKEN}.json`), JSON.stringify(altered))
    writeFileSync(path.join(dir, entry.file), readFileSync(path.join(REFERENCE_DIR, entry.file)))
    symlinkSync(path.join(REFERENCE_DIR, 'models'), path.join(dir, 'models'))
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ ...index, cases: [entry, { ...entry, id: BROKEN, file: `cases/mlp/${BROKEN}.json` }] }))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const cli = (gaps: unknown): { code: number | null; out: string } => {
    const file = path.join(dir, 'gaps.json')
    writeFileSync(file, typeof gaps === 'string' ? gaps : JSON.stringify(gaps))
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/conformance.ts'), dir, '--backend', 'onnx', '--known-gaps', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    return { code: r.status, out: `${r.stdout}${r.stderr}` }
  }

  it('exits 0 when the only failure is a known gap, and reports a listed case that passes', () => {
    const r = cli({ onnx: { [BROKEN]: 'expected values altered by this test', [GOOD]: 'listed, but passes' } })
    expect(r.out).toMatch(new RegExp(`KNOWN-GAP +${BROKEN.replace(/\./g, '\\.')}`))
    expect(r.out).toMatch(/1 passed, 0 failed, 1 known gap, 0 unsupported/)
    expect(r.out).toMatch(new RegExp(`known gap ${GOOD.replace(/\./g, '\\.')} now passes: remove it from`))
    expect(r.code).toBe(0)
  }, 150_000)

  it('exits 1 on a failure the file does not list (a gap for another backend does not count), 2 on a bad file', () => {
    const r = cli({ 'tfjs-wasm': { [BROKEN]: 'only on wasm' } })
    expect(r.out).toMatch(new RegExp(`FAIL +${BROKEN.replace(/\./g, '\\.')}`))
    expect(r.out).toMatch(/1 passed, 1 failed, 0 known gaps, 0 unsupported/)
    expect(r.code).toBe(1)
    const bad = cli('{"onnx": []}')
    expect(bad.code).toBe(2)
    expect(bad.out).toMatch(/knownGaps/)
  }, 300_000)
})
