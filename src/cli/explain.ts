/**
 * `clarus explain <model> --input <file> (--method <name> | --spec <file>) …`: runs one method on
 * one example and writes `attributions.json`, the pictures that fit the input (image maps, a
 * token heat map, bar and waterfall charts, a time-series plot) and `report.html`, all or nothing.
 * Ctrl-C cancels the run (the library's AbortSignal) and writes nothing.
 *
 * @category cli
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as path from 'node:path'
import { attribute } from '../api/attribute.js'
import type { Baseline } from '../api/callData.js'
import type { Model } from '../core/backend.js'
import type { AttributionError } from '../core/errors.js'
import { float32, sizeOf, toFloat64, type HostTensor } from '../core/tensor.js'
import { describe } from '../dsl/spec.js'
import type { AttributionResult } from '../dsl/run.js'
import { attributionGrid } from '../viz/grid.js'
import { pixelMap } from '../viz/heatmap.js'
import { encodePng } from '../viz/png.js'
import { explanationReport } from '../viz/report.js'
import { barChartSvg, waterfallSvg } from '../viz/tabular.js'
import { tokenHeatmapHtml, tokenHeatmapSvg } from '../viz/text.js'
import { timeSeriesSvg } from '../viz/timeseries.js'
import { CliError, parseArgs } from './args.js'
import { readJson, writeAll } from './files.js'
import { loadInput, type LoadedInput } from './inputs.js'
import { loadModel } from './models.js'
import { progressSink, type TextSink } from './progress.js'
import { buildMethod, errorText, resolveSpecFile, type ResolvedSpec } from './spec.js'

export const EXPLAIN_USAGE = `clarus explain <model.onnx | model.json> --input <image.png | image.jpg | sound.wav | array.json | tokens.json>
    (--method <name> [--options '<json>' | --options @file.json] | --spec <spec.json>)
    [--target <index> | --target predicted]   output to explain (default: the predicted class)
    [--baseline zeros | <number> | <file.json>] baseline for methods that use one (default zeros)
    [--preprocess <file.json>]                 image preprocessing (mean, std, size, layout, channelOrder, scale)
    [--seed <int>] [--out <dir>] (default clarus-out) [--progress] [--quiet]`

/** The reader's side of `--options`: inline JSON, or @file. */
const optionsArg = (v: string | undefined): Record<string, unknown> => {
  if (v === undefined) return {}
  let u: unknown
  if (v.startsWith('@')) u = readJson(v.slice(1), 'options file')
  else {
    try {
      u = JSON.parse(v) as unknown
    } catch (e) {
      throw new CliError(`--options is not valid JSON: ${(e as Error).message} (quote it for the shell, or give @file.json)`)
    }
  }
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new CliError('--options must be a JSON object of the method\'s options')
  return u as Record<string, unknown>
}

/** `--baseline`: zeros, a number, or a JSON file (nested array or { shape, data }) shaped like the input. */
const baselineArg = (v: string | undefined, input: HostTensor): Baseline<never> | undefined => {
  if (v === undefined || v === 'zeros') return undefined
  const n = Number(v)
  if (v.trim() !== '' && Number.isFinite(n)) return n
  if (!v.toLowerCase().endsWith('.json')) throw new CliError(`--baseline must be zeros, a number or a .json file, got ${JSON.stringify(v)}`)
  const u = readJson(v, 'baseline')
  const o = (typeof u === 'object' && u !== null && !Array.isArray(u) ? u : { data: u }) as { shape?: unknown; data?: unknown }
  const data = (Array.isArray(o.data) ? (o.data as unknown[]).flat(Infinity) : [o.data]) as unknown[]
  if (!data.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new CliError(`baseline ${v}: every value must be a finite number`)
  const per = sizeOf(input.shape.slice(1))
  if (data.length !== per && data.length !== sizeOf(input.shape)) {
    throw new CliError(`baseline ${v} has ${data.length} values; the input [${input.shape.join(', ')}] needs ${per} (one example)`)
  }
  return float32(input.shape, data as number[])
}

const INPUT_ERRORS: ReadonlySet<AttributionError['_tag']> = new Set(['InvalidSpec', 'BadTarget', 'BadBaseline', 'ShapeMismatch', 'DTypeMismatch', 'EmptyInput', 'MissingInput', 'UnknownTensor', 'BadPipeline'])

const argmax = (xs: ArrayLike<number>): number => {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i
  return best
}

/** The first row of the model's output as plain numbers (the scores of the one example). */
const predict = async <T>(model: Model<T>, x: HostTensor): Promise<number[]> => {
  const b = model.backend
  const xt = b.fromHost(x)
  try {
    const out = await model.forward([xt])()
    if (E.isLeft(out)) throw new CliError(`the model failed on the input:\n${errorText(out.left)}`, 1)
    const host = await b.toHost(out.right.output)
    b.dispose(out.right.output)
    for (const c of Object.values(out.right.captured)) b.dispose(c)
    const row = host.shape.length === 0 ? 1 : sizeOf(host.shape.slice(1))
    return Array.from(toFloat64(host).subarray(0, row))
  } finally {
    b.dispose(xt)
  }
}

/** The per-example map of an attribution: a Float64Array of its first example (batch dim dropped). */
const firstExample = (a: HostTensor): Float64Array => toFloat64(a).subarray(0, a.shape.length === 0 ? 1 : sizeOf(a.shape.slice(1)))

/** Pictures that fit the input and the attribution's shape. */
const pictures = (input: LoadedInput, attr: HostTensor, base: number | undefined): { files: Map<string, string | Uint8Array>; svgs: { caption: string; svg: string }[]; images: { caption: string; png: Uint8Array }[]; html: string[] } => {
  const files = new Map<string, string | Uint8Array>()
  const svgs: { caption: string; svg: string }[] = []
  const images: { caption: string; png: Uint8Array }[] = []
  const html: string[] = []
  const v = input.view
  const values = firstExample(attr)
  if (v.kind === 'image' && attr.shape.length === 4) {
    const nhwc = v.layout === 'NHWC'
    const map = pixelMap(attr, 0, nhwc)
    const sameSize = map.width === v.image.width && map.height === v.image.height
    const k = Math.max(1, Math.min(8, Math.floor(256 / Math.max(map.width, map.height))))
    const rows = sameSize
      ? [
          { title: 'input', maps: [map], options: { method: 'original_image' as const } },
          { title: 'heat map (all)', maps: [map], options: { method: 'heat_map' as const, sign: 'all' as const } },
          { title: 'blended (|attr|)', maps: [map], options: { method: 'blended_heat_map' as const, sign: 'absolute_value' as const } },
          { title: 'masked (positive)', maps: [map], options: { method: 'masked_image' as const, sign: 'positive' as const } },
        ]
      : [{ title: 'heat map (all)', maps: [map], options: { method: 'heat_map' as const, sign: 'all' as const } }]
    const grid = attributionGrid({ rows, ...(sameSize ? { images: [v.image] } : {}), cellScale: k }, { scale: 'per-image' })
    const heat = attributionGrid({ rows: [{ title: '', maps: [map], options: { method: 'heat_map', sign: 'all' } }], cellScale: k }).image
    files.set('heatmap.png', encodePng(heat))
    images.push({ caption: 'heat map, sign all (blue negative, red positive)', png: encodePng(heat) })
    if (sameSize) {
      const blended = attributionGrid({ rows: [rows[2]!], images: [v.image], cellScale: k }).image
      files.set('overlay.png', encodePng(blended))
      images.push({ caption: '|attribution| blended over the image (viridis)', png: encodePng(blended) })
    }
    files.set('grid.svg', grid.svg)
    svgs.push({ caption: 'Captum picture methods (outlier percentile 2, per-image scale)', svg: grid.svg })
    return { files, svgs, images, html }
  }
  if (v.kind === 'tokens') {
    const T = v.tokens.length
    if (attr.shape[1] === T) {
      // Per token: the sum over any trailing dims (an embedding layer's attribution).
      const per = values.length / T
      const scores = Array.from({ length: T }, (_, i) => values.subarray(i * per, (i + 1) * per).reduce((a, b) => a + b, 0))
      const svg = tokenHeatmapSvg(v.tokens, scores, { title: 'Token attributions' })
      files.set('tokens.svg', svg)
      html.push(tokenHeatmapHtml(v.tokens, scores))
      const bars = barChartSvg(v.tokens.map((t, i) => `${i}: ${t}`), scores, { title: 'Token attributions (largest first)', topK: 20 })
      files.set('bar.svg', bars)
      svgs.push({ caption: 'token attributions', svg: bars })
      return { files, svgs, images, html }
    }
  }
  if (v.kind === 'array' && attr.shape.length === 3 && attr.shape[1]! >= 2) {
    const [, T, C] = attr.shape as [number, number, number]
    const data = firstExample(input.tensor)
    if (data.length === T * C) {
      const rows = (a: Float64Array): number[][] => Array.from({ length: T }, (_, t) => Array.from(a.subarray(t * C, (t + 1) * C)))
      const svg = timeSeriesSvg(rows(data), rows(values), { sign: 'all', title: 'Attribution over time (background: normalised attribution)' })
      files.set('timeseries.svg', svg)
      svgs.push({ caption: 'time series', svg })
      return { files, svgs, images, html }
    }
  }
  if (v.kind === 'audio' && attr.shape.length === 2 && input.tensor.shape[1]! >= 2) {
    // About 1 000 bins: per bin, the waveform's largest-magnitude sample and the summed attribution.
    const data = firstExample(input.tensor)
    const bin = Math.max(1, Math.ceil(data.length / 1000))
    const n = Math.ceil(data.length / bin)
    const binOf = (a: Float64Array, b: number): Float64Array => a.subarray(b * bin, (b + 1) * bin)
    const peak = Array.from({ length: n }, (_, b) => [binOf(data, b).reduce((m, x) => (Math.abs(x) > Math.abs(m) ? x : m), 0)])
    const sums = Array.from({ length: n }, (_, b) => [binOf(values, b).reduce((s, x) => s + x, 0)])
    const svg = timeSeriesSvg(peak, sums, {
      sign: 'all',
      title: `Attribution over time (${bin} sample(s) per bin at ${v.sampleRate} Hz)`,
      channelLabels: ['waveform, time in s'],
      xValues: peak.map((_, b) => Number(((b * bin) / v.sampleRate).toFixed(4))),
      width: 900,
    })
    files.set('timeseries.svg', svg)
    svgs.push({ caption: 'waveform with the attribution behind it', svg })
    return { files, svgs, images, html }
  }
  const names = Array.from(values, (_, i) => (attr.shape.length === 2 ? `feature ${i}` : `element ${i}`))
  const bars = barChartSvg(names, Array.from(values), { title: 'Attributions (largest |value| first)', topK: 20 })
  files.set('bar.svg', bars)
  svgs.push({ caption: 'attributions', svg: bars })
  if (base !== undefined && attr.shape.length === 2) {
    const w = waterfallSvg(names, Array.from(values), base, { title: 'From the baseline output to the prediction', topK: 12 })
    files.set('waterfall.svg', w)
    svgs.push({ caption: 'waterfall', svg: w })
  }
  return { files, svgs, images, html }
}

const tensorJson = (t: HostTensor): { shape: readonly number[]; dtype: string; data: number[] } => ({ shape: t.shape, dtype: t.dtype, data: Array.from(toFloat64(t)) })

/** Runs the explain command; returns the written paths. Throws CliError on bad input or a failed run. */
export const explain = async (argv: readonly string[], err: TextSink = process.stderr): Promise<string[]> => {
  const a = parseArgs(argv, ['input', 'method', 'options', 'spec', 'target', 'baseline', 'preprocess', 'seed', 'out'], ['progress', 'quiet'])
  if (a.positionals.length !== 1) throw new CliError(`explain takes one model file, got ${a.positionals.length}\n\nusage: ${EXPLAIN_USAGE}`)
  const modelFile = a.positionals[0]!
  const { input: inputFile, method, spec: specFile } = a.flags
  if (inputFile === undefined) throw new CliError(`explain needs --input\n\nusage: ${EXPLAIN_USAGE}`)
  if ((method === undefined) === (specFile === undefined)) throw new CliError('explain needs exactly one of --method <name> and --spec <file>')
  if (specFile !== undefined && a.flags.options !== undefined) throw new CliError('--options goes with --method; a spec file carries its own options')
  const target = a.flags.target ?? 'predicted'
  if (target !== 'predicted' && !/^\d+$/.test(target)) throw new CliError(`--target must be a non-negative integer or "predicted", got ${JSON.stringify(target)}`)
  const seed = a.flags.seed === undefined ? 0 : Number(a.flags.seed)
  if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer, got ${JSON.stringify(a.flags.seed)}`)
  // Everything the user wrote is checked before the model is loaded.
  const spec: ResolvedSpec = specFile !== undefined ? resolveSpecFile(readJson(specFile, 'spec'), specFile) : buildMethod(method!, optionsArg(a.flags.options))
  const preprocess = a.flags.preprocess !== undefined ? readJson(a.flags.preprocess, 'preprocessing spec') : spec.preprocess
  const outDir = path.resolve(a.flags.out ?? 'clarus-out')
  const loaded = await loadModel(modelFile)
  try {
    return await run(loaded.model as Model<unknown>, { modelFile, inputFile, spec, preprocess, target, seed, outDir, baseline: a.flags.baseline, progress: a.switches.has('progress'), quiet: a.switches.has('quiet'), err })
  } finally {
    await loaded.release()
  }
}

interface RunArgs {
  readonly modelFile: string
  readonly inputFile: string
  readonly spec: ResolvedSpec
  readonly preprocess: unknown
  readonly target: string
  readonly seed: number
  readonly outDir: string
  readonly baseline: string | undefined
  readonly progress: boolean
  readonly quiet: boolean
  readonly err: TextSink
}

const run = async <T>(model: Model<T>, r: RunArgs): Promise<string[]> => {
  const input = loadInput(r.inputFile, model.signature.inputs[0], r.preprocess)
  const baseline = baselineArg(r.baseline, input.tensor)
  const scores = await predict(model, input.tensor)
  const target = r.target === 'predicted' ? argmax(scores) : Number(r.target)
  if (target >= scores.length) throw new CliError(`--target ${target} is out of range: the model has ${scores.length} outputs (0..${scores.length - 1})`)
  // The baseline's output, for the waterfall (base + Σ attributions = prediction for complete methods).
  const base = input.view.kind === 'array' && input.tensor.shape.length === 2
    ? (await predict(model, baseline === undefined || typeof baseline === 'number' ? float32(input.tensor.shape, new Array<number>(sizeOf(input.tensor.shape)).fill(typeof baseline === 'number' ? baseline : 0)) : (baseline as HostTensor)))[target]
    : undefined

  const controller = new AbortController()
  const onSigint = (): void => controller.abort()
  process.once('SIGINT', onSigint)
  const sink = progressSink(r.err, r.progress && !r.quiet)
  const seed = r.seed
  const callOptions = { target, seed, ...(r.baseline !== undefined ? { baselines: r.baseline } : {}) }
  let result: E.Either<AttributionError, AttributionResult>
  try {
    result = await attribute(r.spec.pipeline, model, [input.tensor], {
      target,
      seed,
      ...(baseline !== undefined ? { baselines: baseline } : {}),
      signal: controller.signal,
      onProgress: r.quiet ? undefined : sink.update,
    })()
  } finally {
    process.removeListener('SIGINT', onSigint)
    sink.done()
  }
  if (E.isLeft(result)) {
    if (result.left._tag === 'Cancelled') throw new CliError('cancelled; nothing was written', 130)
    // Errors about what the user gave (options, target, baseline, shapes) are usage errors (2); the rest are run failures (1).
    throw new CliError(`${r.spec.pipeline.name} failed (${result.left._tag}):\n${errorText(result.left)}`, INPUT_ERRORS.has(result.left._tag) ? 2 : 1)
  }
  const res = result.right
  const attr = res.attributions[0]!
  const delta = res.delta !== undefined ? Array.from(toFloat64(res.delta)) : undefined
  const pics = pictures(input, attr, base)
  const methodName = r.spec.method ?? r.spec.pipeline.name
  const files = new Map<string, string | Uint8Array>([
    ['attributions.json', JSON.stringify({
      model: path.basename(r.modelFile),
      method: methodName,
      pipeline: r.spec.pipeline,
      target,
      prediction: scores,
      inputs: [{ shape: input.tensor.shape, dtype: input.tensor.dtype }],
      attributions: res.attributions.map(tensorJson),
      ...(delta !== undefined ? { delta } : {}),
    }, null, 1)],
    ...pics.files,
  ])
  files.set('report.html', explanationReport({
    title: `${methodName} on ${path.basename(r.modelFile)}`,
    model: r.modelFile,
    method: { name: methodName, describe: describe(r.spec.pipeline) },
    options: { ...r.spec.options, ...callOptions, input: r.inputFile, ...(r.preprocess !== undefined ? { preprocess: r.preprocess } : {}) },
    ...(delta !== undefined ? { delta } : {}),
    prediction: { scores, target },
    images: pics.images,
    svgs: pics.svgs,
    html: pics.html,
    facts: [['attribution shape', `[${attr.shape.join(', ')}]`], ['Σ attribution', String(Number(firstExample(attr).reduce((s, v) => s + v, 0).toPrecision(6)))]],
  }))
  const written = writeAll(r.outDir, files)
  if (!r.quiet) r.err.write(`${methodName}: target ${target}${delta !== undefined ? `, convergence delta ${delta.map((d) => d.toExponential(2)).join(', ')}` : ''}\nwrote ${written.map((w) => path.relative(process.cwd(), w)).join(', ')}\n`)
  return written
}
