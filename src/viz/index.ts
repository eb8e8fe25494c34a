/**
 * `clarus/viz`: heat-maps, PNG encoding and escaped HTML reports.
 *
 * @since 0.1.0
 */
export { pixelMap, scaleFor, colourOf, heatmap, overlay, hstack, upscale } from './heatmap.js'
export type { Rgba, ColourScale } from './heatmap.js'
export { encodePng, decodePng } from './png.js'
export { escapeHtml, htmlReport } from './html.js'
export type { ReportSection } from './html.js'
