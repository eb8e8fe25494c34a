import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeWith } from '../../../src/core/codecs.js'
import { BinaryTensor, CaseEntry, InlineTensor, TensorJson, Tolerance, looksLikeTensor } from '../../../src/conformance/format.js'

const issuesOf = (r: E.Either<{ issues: readonly { path: readonly string[] }[] }, unknown>) =>
  E.isLeft(r) ? r.left.issues.map((i) => i.path.join('.')) : []

describe('fixture tensor codecs', () => {
  it('accepts nested data matching the shape, including scalars and empty dimensions', () => {
    expect(E.isRight(InlineTensor.decode({ dtype: 'float32', shape: [2, 2], data: [[1, 2], [3, 4]] }))).toBe(true)
    expect(E.isRight(InlineTensor.decode({ dtype: 'float32', shape: [], data: 1.5 }))).toBe(true)
    expect(E.isRight(InlineTensor.decode({ dtype: 'int64', shape: [0, 3], data: [] }))).toBe(true)
    expect(E.isRight(InlineTensor.decode({ dtype: 'bool', shape: [3], data: [true, 0, 1] }))).toBe(true)
  })

  it('rejects ragged data, wrong leaf types and bad shapes at the exact element', () => {
    expect(issuesOf(decodeWith(InlineTensor, { dtype: 'float32', shape: [2, 2], data: [[1, 2], [3]] }))).toEqual(['data.1'])
    expect(issuesOf(decodeWith(InlineTensor, { dtype: 'int64', shape: [2], data: [1, 2.5] }))).toEqual(['data.1'])
    expect(issuesOf(decodeWith(InlineTensor, { dtype: 'float32', shape: [2], data: [1, null] }))).toEqual(['data.1'])
    expect(issuesOf(decodeWith(InlineTensor, { dtype: 'float32', shape: [-1], data: [] }))).toEqual(['shape.0'])
    expect(issuesOf(decodeWith(InlineTensor, { dtype: 'float32', shape: [1] }))).toEqual([''])
  })

  it('checks a binary tensor\'s length against its shape', () => {
    const ok = { dtype: 'float32', shape: [1, 10], file: 'a.bin', byte_offset: 40, length: 10 }
    expect(E.isRight(BinaryTensor.decode(ok))).toBe(true)
    expect(issuesOf(decodeWith(BinaryTensor, { ...ok, length: 9 }))).toEqual(['length'])
    expect(issuesOf(decodeWith(BinaryTensor, { ...ok, byte_offset: -4 }))).toEqual(['byte_offset'])
  })

  it('picks the form by the presence of file, so errors name the right fields', () => {
    expect(issuesOf(decodeWith(TensorJson, { dtype: 'float32', shape: [1], file: 'a.bin' }))).toEqual(['byte_offset', 'length'])
    expect(looksLikeTensor({ dtype: 'int64', shape: [1], data: [0] })).toBe(true)
    expect(looksLikeTensor({ dtype: 'int64', shape: [1] })).toBe(false)
    expect(looksLikeTensor([1, 2])).toBe(false)
  })
})

describe('index codecs', () => {
  it('accepts a case entry with or without the binary flag, rejects an unknown kind', () => {
    const entry = { id: 'a', file: 'cases/a.json', model: 'm', algorithm: 'Saliency', family: 'primary', kind: 'exact', layer: null }
    expect(E.isRight(CaseEntry.decode(entry))).toBe(true)
    expect(E.isRight(CaseEntry.decode({ ...entry, binary: true }))).toBe(true)
    expect(issuesOf(decodeWith(CaseEntry, { ...entry, kind: 'approx' }))).toEqual(['kind'])
    expect(E.isRight(Tolerance.decode({ abs: 1e-4, rel: 0, note: 'why' }))).toBe(true)
  })
})
