import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { METHODS } from 'clarus'
import { decodeSpec, SPEC_FORMAT } from '../../../examples/explorer/src/spec.js'
import { sharedScale, viewOf } from '../../../examples/explorer/src/render.js'

const json = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

describe('explorer spec files', () => {
  const good = {
    format: SPEC_FORMAT,
    method: 'integratedGradients',
    options: { nSteps: 16 },
    pipeline: json(METHODS['integratedGradients']!.build({ nSteps: 16 })),
    target: 2,
    preprocessing: { kind: 'image', image: { size: [32, 32], layout: 'NCHW' } },
  }
  it('reads back what the page writes', () => {
    const d = decodeSpec(json(good))
    expect(E.isRight(d)).toBe(true)
    if (E.isRight(d)) expect(json(d.right)).toEqual(good)
  })
  it('lists every bad field at once, each with its path', () => {
    const d = decodeSpec({ ...good, options: { nSteps: 0 }, pipeline: { _tag: 'Pipeline' }, preprocessing: { kind: 'image', image: { layout: 'CHW' } } })
    expect(E.isLeft(d)).toBe(true)
    const lines = E.isLeft(d) ? d.left : []
    expect(lines.some((l) => l.startsWith('options.nSteps: expected an integer ≥ 1'))).toBe(true)
    expect(lines.some((l) => l.startsWith('pipeline.'))).toBe(true)
    expect(lines.some((l) => l.startsWith('preprocessing.image.layout:'))).toBe(true)
  })
  it('names an unknown method and a wrong format', () => {
    expect(decodeSpec({ ...good, method: 'integratedGradient' })).toEqual(E.left([expect.stringMatching(/^method: "integratedGradient" is not a clarus method/)]))
    const d = decodeSpec({ ...good, format: 'other', target: -1 })
    expect(E.isLeft(d) && d.left.map((l) => l.split(':')[0])).toEqual(['format', 'target'])
  })
})

describe('explorer views and the shared scale', () => {
  it('reduces an NCHW attribution to one value per pixel and shares one scale across panels', () => {
    const a = { dtype: 'float32' as const, shape: [1, 2, 1, 2], data: Float32Array.from([1, -2, 3, 0]) }
    const v = viewOf(a, { kind: 'image', layout: 'NCHW' })
    expect(v.kind === 'image' && Array.from(v.values)).toEqual([4, -2])
    const bars = viewOf({ dtype: 'float32', shape: [1, 3], data: Float32Array.from([0.5, -7, 1]) }, { kind: 'csv', featureNames: ['a', 'b', 'c'] })
    expect(bars).toEqual({ kind: 'bars', names: ['a', 'b', 'c'], values: [0.5, -7, 1] })
    // The bar chart's largest |value| is larger than the image's: the shared scale takes it.
    expect(sharedScale([v, bars]).max).toBe(7)
    expect(sharedScale([v]).max).toBe(2)
    expect(sharedScale([]).max).toBe(1)
  })
  it('sums a text attribution over the embedding per token', () => {
    const a = { dtype: 'float32' as const, shape: [1, 3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }
    expect(viewOf(a, { kind: 'text', tokens: ['hi', 'there'] })).toEqual({ kind: 'tokens', tokens: ['hi', 'there'], values: [3, 7] })
  })
})
