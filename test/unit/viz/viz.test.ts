import { describe, expect, it } from 'vitest'
import { float32 } from '../../../src/index.js'
import { colourOf, decodePng, encodePng, escapeHtml, heatmap, htmlReport, pixelMap, scaleFor } from '../../../src/viz/index.js'

describe('viz', () => {
  it('escapes every piece of user text in a report (captum#1226)', () => {
    const evil = '<img src=x onerror="alert(1)">&\''
    const html = htmlReport(evil, [{ heading: evil, facts: [[evil, evil]], tokens: { words: [evil, 'ok'], scores: [1, -1] }, pre: evil, images: [{ caption: evil, png: new Uint8Array([1]) }] }])
    expect(html).not.toContain('<img src=x')
    expect(html).not.toContain('onerror="')
    expect(html).toContain(escapeHtml(evil))
    expect(escapeHtml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&#39;')
  })

  it('sums channels of an NCHW attribution per pixel, for the chosen example', () => {
    const a = float32([2, 2, 1, 2], [1, 2, 3, 4, 10, 20, 30, 40])
    expect(Array.from(pixelMap(a, 0).values)).toEqual([4, 6])
    expect(Array.from(pixelMap(a, 1).values)).toEqual([40, 60])
  })

  it('maps signs to red and blue around white, and clips at the scale', () => {
    const s = { kind: 'signed' as const, max: 2 }
    expect(colourOf(0, s)).toEqual([255, 255, 255])
    expect(colourOf(2, s)).toEqual([255, 0, 0])
    expect(colourOf(-5, s)).toEqual([0, 0, 255])
    expect(scaleFor([0, 1, -3, 2], 'signed', 1).max).toBe(3)
  })

  it('round-trips a heat-map through PNG', () => {
    const img = heatmap([1, -1, 0, 0.5], 2, 2, { kind: 'signed', max: 1 })
    const back = decodePng(encodePng(img))
    expect([back.width, back.height]).toEqual([2, 2])
    expect(Array.from(back.data)).toEqual(Array.from(img.data))
  })
})
