import { describe, expect, it } from 'vitest'
import { float32 } from '../../../src/index.js'
import { attributionGrid, barChartSvg, decodePng, encodePng, explanationReport, pixelMap, type Rgba } from '../../../src/viz/index.js'

// The README's "Visualise" snippet, with concrete data, so it keeps compiling and running.
describe('README: Visualise', () => {
  it('builds the grid and the report', () => {
    const attr = float32([2, 3, 2, 2], Array.from({ length: 24 }, (_, i) => (i % 5) - 2))
    const images: Rgba[] = [0, 1].map(() => ({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(200) }))
    const maps = [0, 1].map((i) => pixelMap(attr, i))
    const grid = attributionGrid(
      { rows: [{ title: 'IG', maps }, { title: 'IG over image', maps, options: { method: 'blended_heat_map' } }], images, cellScale: 4 },
      { sign: 'absolute_value', outlierPerc: 2, scale: 'shared' },
    )
    const png = decodePng(encodePng(grid.image))
    expect([png.width, png.height]).toEqual([2 * 8 + 4, 2 * 8 + 4])
    const html = explanationReport({
      title: 'Why class 3?', method: { name: 'IntegratedGradients' }, prediction: { scores: [0.1, 0.2, 0.1, 0.6], target: 3 },
      svgs: [{ caption: 'methods × examples', svg: grid.svg }, { caption: 'features', svg: barChartSvg(['a', 'b'], [0.4, -0.1]) }],
    })
    expect(html).toContain('class 3  (explained)')
    expect(html.match(/<svg /g)?.length).toBe(2)
  })
})
