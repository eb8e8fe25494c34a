import { describe, expect, it } from 'vitest'
import { barChartSvg, beeswarmSvg, COLORMAPS, colourFor, cssRgb, timeSeriesSvg, tokenHeatmapHtml, tokenHeatmapSvg, tokenPositions, waterfallSvg } from '../../../src/viz/index.js'

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length
const labels = (svg: string): string[] => [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]!)

describe('tabular charts', () => {
  it('bar chart: bars sorted by |value|, topK kept, signs coloured', () => {
    const svg = barChartSvg(['a', 'b', 'c', 'd'], [0.5, -3, 1, 0], { topK: 3 })
    expect(labels(svg).slice(0, 3)).toEqual(['b', 'c', 'a'])
    expect(count(svg, /<rect /g)).toBe(3)
    expect(svg).toContain(`fill="${cssRgb(colourFor(COLORMAPS.blueRed, -0.8))}"`)
    expect(() => barChartSvg(['a'], [1, 2])).toThrow(/1 feature names but 2 values/)
  })

  it('waterfall: ends at base + Σ attributions and folds the tail into one step', () => {
    const svg = waterfallSvg(['a', 'b', 'c', 'd'], [2, -1, 0.5, 0.25], 10, { topK: 2 })
    expect(svg).toContain('>11.8<') // 10 + 2 − 1 + 0.5 + 0.25 = 11.75 → 3 significant digits
    expect(svg).toContain('>2 other features<')
    expect(svg).toContain('>+0.75<')
    expect(svg).toContain('>10<')
  })

  it('beeswarm: one dot per example and feature, rows by mean |attribution|, coloured by value', () => {
    const attr = [[0.1, 2], [0.2, -3], [0, 1]]
    const svg = beeswarmSvg(['small', 'big'], attr, { featureValues: [[0, 1], [1, 2], [2, 3]] })
    expect(count(svg, /<circle /g)).toBe(6)
    expect(labels(svg).slice(0, 2)).toEqual(['big', 'small'])
    expect(svg).toContain(`fill="${cssRgb(colourFor(COLORMAPS.viridis, 1))}"`)
    expect(() => beeswarmSvg(['a'], [[1, 2]])).toThrow(/2 attributions for 1 features/)
  })
})

describe('time series', () => {
  const data = [[0, 1], [1, 2], [2, 0], [3, 1]]
  const attr = [[0, 1], [1, 0], [0, 0], [2, 0]]

  it('overlay_individual: one panel per channel, one span per time step', () => {
    const svg = timeSeriesSvg(data, attr, { channelLabels: ['x', 'y'] })
    expect(count(svg, /<polyline /g)).toBe(2)
    expect(count(svg, /fill-opacity="0.7"/g)).toBe(8)
    // |attr| 0 1 1 0 0 0 2 0, sums … 4, goal 3.92 → threshold 2: the step with 2 is full colour
    expect(svg).toContain(`fill="${cssRgb(colourFor(COLORMAPS.viridis, 1))}"`)
  })

  it('overlay_combined sums channels into one panel; colored_graph colours the line', () => {
    const combined = timeSeriesSvg(data, attr, { method: 'overlay_combined' })
    expect(count(combined, /<polyline /g)).toBe(2)
    expect(count(combined, /fill-opacity="0.7"/g)).toBe(4)
    const coloured = timeSeriesSvg(data, attr, { method: 'colored_graph', sign: 'all' })
    expect(count(coloured, /<line [^>]*stroke-width="2.5"/g)).toBe(6)
    expect(() => timeSeriesSvg(data, attr.slice(1))).toThrow(/4 × 2/)
  })
})

describe('token heat maps', () => {
  it('maps ± max |score| to the ends of the diverging map, or a fixed range', () => {
    expect(tokenPositions([1, -2, 0]).values).toEqual([0.5, -1, 0])
    expect(tokenPositions([1, -2, 0], { scale: { min: -4, max: 4 } }).values).toEqual([0.25, -0.5, 0])
  })

  it('renders one box per token and a legend', () => {
    const svg = tokenHeatmapSvg(['the', 'cat', 'sat'], [0.1, 1, -0.5])
    expect(count(svg, /<rect [^>]*rx="3"/g)).toBe(3)
    expect(svg).toContain(`fill="${cssRgb(colourFor(COLORMAPS.blueRed, 1))}"`)
    expect(svg).toContain('linearGradient')
    const html = tokenHeatmapHtml(['the', 'cat'], [0.1, 1], { legend: false })
    expect(count(html, /<span title=/g)).toBe(2)
    expect(html).not.toContain('clarus-legend')
    expect(() => tokenHeatmapSvg(['a'], [])).toThrow(/1 tokens but 0 scores/)
  })
})
