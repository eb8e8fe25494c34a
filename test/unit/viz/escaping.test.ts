import { describe, expect, it } from 'vitest'
import { attributionGrid, barChartSvg, beeswarmSvg, explanationReport, encodePng, heatmap, timeSeriesSvg, tokenHeatmapHtml, tokenHeatmapSvg, waterfallSvg } from '../../../src/viz/index.js'

const EVIL = '<img src=x onerror=alert(1)>'
const SAFE = '&lt;img src=x onerror=alert(1)&gt;'

/** The text is present escaped, and no element or attribute from it exists. */
const expectEscaped = (doc: string): void => {
  expect(doc).toContain(SAFE)
  expect(doc).not.toContain('<img src=x')
  expect(doc).not.toMatch(/<script/i)
}

describe('every piece of user text is escaped', () => {
  it('token heat maps (HTML and SVG)', () => {
    expectEscaped(tokenHeatmapHtml([EVIL, 'ok'], [1, -1], { title: EVIL }))
    expectEscaped(tokenHeatmapSvg([EVIL, 'ok'], [1, -1], { title: EVIL }))
    // a quote cannot close an attribute: the token's tooltip is in <title> text, scores are numbers
    const quote = tokenHeatmapHtml(['" onmouseover="alert(1)'], [0.5])
    expect(quote).not.toContain('" onmouseover="')
    expect(quote).toContain('&quot; onmouseover=&quot;alert(1)')
  })

  it('tabular charts, time series and grid titles', () => {
    expectEscaped(barChartSvg([EVIL, 'b'], [1, -2], { title: EVIL }))
    expectEscaped(waterfallSvg([EVIL, 'b'], [1, -2], 0.5, { title: EVIL, baseLabel: EVIL }))
    expectEscaped(beeswarmSvg([EVIL, 'b'], [[1, 2], [-1, 0]], { title: EVIL }))
    expectEscaped(timeSeriesSvg([[0], [1], [2]], [[0], [1], [0]], { channelLabels: [EVIL], title: EVIL }))
    const map = { width: 1, height: 1, values: [1] }
    expectEscaped(attributionGrid({ rows: [{ title: EVIL, maps: [map] }], columnTitles: [EVIL] }).svg)
  })

  it('the report: title, options, method text, labels, captions', () => {
    const png = encodePng(heatmap([1], 1, 1, { kind: 'signed', max: 1 }))
    const html = explanationReport({
      title: EVIL,
      model: EVIL,
      method: { name: EVIL, describe: EVIL },
      options: { note: EVIL },
      prediction: { scores: [0.1, 0.9], labels: [EVIL, 'b'], target: 0 },
      images: [{ caption: EVIL, png }],
      svgs: [{ caption: EVIL, svg: barChartSvg([EVIL], [1]) }],
      facts: [[EVIL, EVIL]],
    })
    expectEscaped(html)
    // standalone: no scripts, no remote resources (the SVG namespace is an identifier, not a fetch)
    expect(html).not.toMatch(/(src|href)="https?:/)
    expect(html).not.toMatch(/url\(\s*['"]?https?:/)
    expect(html).toContain('data:image/png;base64,')
  })

  it('negative control: the check fails on unescaped text', () => {
    expect(() => expectEscaped(`<p>${EVIL}</p>`)).toThrow()
  })
})
