import { mkdirSync, writeFileSync } from 'node:fs'
import { IntegratedGradients, Occlusion, toFloat64, type HostTensor } from 'clarus'
import { attributionGrid, barChartSvg, encodePng, explanationReport, pixelMap } from 'clarus/viz'
import { image, model, x } from './ocr-model.js'

const ig = await new IntegratedGradients(model).attribute(x, { target: 0, nSteps: 32 })
const occ = await new Occlusion(model).attribute(x, { target: 0, slidingWindowShapes: [3, 12, 12], strides: [3, 6, 6] })
const grid = attributionGrid(                            // methods × examples (here one line), Σ over channels
  { rows: [{ title: 'IG', maps: [pixelMap(ig, 0)] }, { title: 'IG over the line', maps: [pixelMap(ig, 0)], options: { method: 'blended_heat_map' } },
    { title: 'Occlusion', maps: [pixelMap(occ, 0)] }], images: [image], cellScale: 2 },
  { sign: 'absolute_value', outlierPerc: 2, scale: 'per-image' },
)
mkdirSync('out', { recursive: true })
writeFileSync('out/grid.png', encodePng(grid.image))    // pixels only; grid.svg adds titles and colour bars

const perChannel = (a: HostTensor): number[] => [0, 1, 2].map((c) => toFloat64(a).slice(c * 48 * 192, (c + 1) * 48 * 192).reduce((s, v) => s + v, 0))
const out = await model.forward([x])()
if (out._tag === 'Left') throw new Error(out.left.message)
writeFileSync('out/report.html', explanationReport({
  title: 'Why upright?', method: { name: 'IntegratedGradients' }, prediction: { scores: Array.from(out.right.output.data as Float32Array), labels: ['upright', 'upside down'], target: 0 },
  svgs: [{ caption: 'methods', svg: grid.svg }, { caption: 'IG per colour channel', svg: barChartSvg(['red', 'green', 'blue'], perChannel(ig)) }],
}))
