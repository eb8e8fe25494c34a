// Issue 8, defect 15: the viz functions on arguments their types do not allow (as they arrive from
// untyped JavaScript) or on values out of range.
import { describe, expect, it } from 'vitest'
import { float32 } from '../../../src/index.js'
import { decodePng, encodePng, htmlReport, pixelMap, type ReportSection } from '../../../src/viz/index.js'

describe('htmlReport with non-string text', () => {
  it('shows numbers, null and objects as text instead of throwing, and still escapes them', () => {
    const evil = { toString: () => '<script>alert(1)</script>' }
    // untyped JavaScript callers: the casts stand for what a .js file may pass
    const sections = [
      {
        heading: 42,
        facts: [[7, null], ['steps', 50], [evil, true]],
        tokens: { words: ['ok', 3.5, evil, undefined], scores: [1, -1, 0.5, 0] },
        pre: 12345,
        images: [{ caption: 9, png: new Uint8Array([1]) }],
      },
    ] as unknown as readonly ReportSection[]
    const html = htmlReport(2026 as unknown as string, sections)
    expect(html).toContain('<title>2026</title>')
    expect(html).toContain('<h2>42</h2>')
    expect(html).toContain('<td>7</td><td>null</td>')
    expect(html).toContain('<td>steps</td><td>50</td>')
    expect(html).toContain('>3.5</span>')
    expect(html).toContain('>undefined</span>')
    expect(html).toContain('<pre>12345</pre>')
    expect(html).toContain('<figcaption>9</figcaption>')
    expect(html).not.toContain('<script>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })
  it('gives a non-numeric score the neutral colour, not rgb(NaN, …)', () => {
    const html = htmlReport('t', [{ heading: 'h', tokens: { words: ['a', 'b'], scores: ['oops', 1] as unknown as number[] } }])
    expect(html).not.toContain('NaN')
    expect(html).toContain('rgb(255,255,255)')
  })
})

describe('pixelMap index', () => {
  const a = float32([2, 1, 1, 2], [1, 2, 3, 4])
  it('throws a RangeError for an example index outside [0, N) or not an integer', () => {
    expect(() => pixelMap(a, 2)).toThrow(RangeError)
    expect(() => pixelMap(a, 2)).toThrow(/index 2 is out of range.*2 examples/)
    expect(() => pixelMap(a, -1)).toThrow(RangeError)
    expect(() => pixelMap(a, 0.5)).toThrow(RangeError)
    expect(() => pixelMap(a, Number.NaN)).toThrow(RangeError)
  })
  it('still maps every valid index (negative control)', () => {
    expect(Array.from(pixelMap(a, 1).values)).toEqual([3, 4])
    expect(Array.from(pixelMap(float32([2, 1, 1, 2], [1, 2, 3, 4]), 1, true).values)).toEqual([7])
  })
})

describe('encodePng sizes', () => {
  it('throws a RangeError when data is shorter or longer than width × height × 4', () => {
    expect(() => encodePng({ width: 4, height: 4, data: new Uint8ClampedArray(8) })).toThrow(RangeError)
    expect(() => encodePng({ width: 4, height: 4, data: new Uint8ClampedArray(8) })).toThrow(/needs 64 bytes.*got 8/)
    expect(() => encodePng({ width: 1, height: 1, data: new Uint8ClampedArray(8) })).toThrow(RangeError)
  })
  it('throws a RangeError for a size that is not a pair of positive integers', () => {
    expect(() => encodePng({ width: 0, height: 1, data: new Uint8ClampedArray(0) })).toThrow(RangeError)
    expect(() => encodePng({ width: 1.5, height: 2, data: new Uint8ClampedArray(12) })).toThrow(RangeError)
  })
  it('encodes an image whose data has the right length (negative control), also from a view into a larger buffer', () => {
    const buf = new Uint8ClampedArray(4 + 16)
    buf.fill(9, 0, 4)
    buf.fill(200, 4)
    const img = { width: 2, height: 2, data: buf.subarray(4) }
    expect(Array.from(decodePng(encodePng(img)).data)).toEqual(new Array(16).fill(200))
  })
})
