// compareFields: the field-by-field comparison of wave-2 reference cases.
import * as E from 'fp-ts/lib/Either.js'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { compareFields, expectedFields, fieldTolerance } from '../../../src/conformance/areas.js'
import { type ReferenceCase } from '../../../src/conformance/load.js'
import { loadReferenceDir } from '../../../src/conformance/files.js'

const REF = path.resolve(__dirname, '../../../../shared/reference')

const load = (id: string): ReferenceCase => {
  const dir = loadReferenceDir(REF)
  if (E.isLeft(dir)) throw new Error(dir.left.message)
  const lazy = dir.right.cases.find((c) => c.entry.id === id)
  if (lazy === undefined) throw new Error(`no case ${id}`)
  const c = lazy.load()
  if (E.isLeft(c)) throw new Error(c.left.message)
  return c.right
}

describe('wave-2 cases', () => {
  const c = load('mlp.minparamperturbation.fgsm_epsilon.binary')

  it('carry their area, expected fields (tensors converted) and tolerances', () => {
    expect(c.area).toBe('robust')
    const e = expectedFields(c)
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['perturbed', 'min_param', 'search_trace']))
    expect(fieldTolerance(c, 'perturbed')).toEqual({ abs: expect.any(Number), rel: 0.001 })
    expect(fieldTolerance(c, 'search_trace')).toBeUndefined()
  })

  it('pass the expected values against themselves and fail a perturbed copy, naming the field', () => {
    const e = expectedFields(c)
    expect(compareFields(c, e, ['perturbed', 'min_param', 'search_trace']).ok).toBe(true)
    const p = e['perturbed'] as { dtype: 'float32'; shape: number[]; data: Float32Array }
    const moved = { ...p, data: p.data.map((v, i) => (i === 0 ? v + 0.01 : v)) }
    const r = compareFields(c, { perturbed: moved })
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(/^perturbed FAILED/)
    const trace = e['search_trace'] as { param: number; correct: boolean }[]
    const flipped = trace.map((s, i) => (i === 0 ? { ...s, correct: !s.correct } : s))
    expect(compareFields(c, { search_trace: flipped }).ok).toBe(false)
    expect(compareFields(c, { nonsense: 1 }).detail).toMatch(/not in the case's expected fields/)
  })
})

describe('wave-1 cases', () => {
  it('have no area and no wave-2 fields', () => {
    const dir = loadReferenceDir(REF)
    if (E.isLeft(dir)) throw new Error(dir.left.message)
    const c = load(dir.right.cases[0]!.entry.id)
    expect(c.area).toBeUndefined()
    expect(c.wave2).toEqual({})
  })
})
