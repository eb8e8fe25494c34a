/**
 * `clarus/viz`: pictures and documents from attributions. Image maps (Captum's methods and signs
 * with its outlier-percentile normalisation), grids and colour bars, token heat maps, tabular
 * charts, time-series plots, PNG encoding and standalone HTML reports; every piece of user text
 * is escaped.
 *
 * @since 0.1.0
 */
export { pixelMap, scaleFor, colourOf, heatmap, overlay, hstack, upscale } from './heatmap.js'
export type { Rgba, ColourScale } from './heatmap.js'
export { encodePng, decodePng } from './png.js'
export { ImageDecodeError, decodeImage, decodeJpeg, sniffImageFormat } from './jpeg.js'
export type { ImageFormat } from './jpeg.js'
export { escapeHtml, htmlReport } from './html.js'
export type { ReportSection } from './html.js'
export { COLORMAPS, ColormapNameCodec, colourAt, colourFor, defaultColormap, captumColormap, cssRgb } from './colormaps.js'
export type { Colormap, ColourStop, ColormapName } from './colormaps.js'
export { SignCodec, cumulativeSumThreshold, signed, thresholdFor, normalizeBy, normalizeAttr, normalizeRange } from './normalize.js'
export type { Sign, Normalized } from './normalize.js'
export { ImageMethodCodec, ScaleCodec, RangeCodec, ImageAttrOptions, imageAttr, renderNormalized, imageFromTensor, colourBar } from './image.js'
export type { ImageMethod, Scale, PixelMap } from './image.js'
export { attributionGrid, tile, colourBarSvg } from './grid.js'
export type { Markup } from './svg.js'
export type { GridRow, GridInput, Grid } from './grid.js'
export { tokenHeatmapHtml, tokenHeatmapSvg, tokenPositions } from './text.js'
export type { TokenHeatmapOptions } from './text.js'
export { barChartSvg, waterfallSvg, beeswarmSvg } from './tabular.js'
export type { BarChartOptions, WaterfallOptions, BeeswarmOptions } from './tabular.js'
export { timeSeriesSvg } from './timeseries.js'
export type { TimeSeriesMethod, TimeSeriesOptions } from './timeseries.js'
export { explanationReport, optionsJson } from './report.js'
export type { ExplanationReportInput, Prediction } from './report.js'
export { ImagePreprocessingCodec, PREPROCESS_DEFAULTS, decodePreprocessing, preprocessImage, resizeRgba } from './preprocess.js'
export type { ImagePreprocessing } from './preprocess.js'
export { decodeWav } from './wav.js'
export type { DecodedWav } from './wav.js'
