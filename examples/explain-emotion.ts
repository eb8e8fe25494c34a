/**
 * Why does a facial-expression CNN call a face "happy"? Three methods side by side on real photos.
 *
 * The model is the 7-class emotion classifier shipped with @vladmandic/human (a TensorFlow.js
 * GraphModel, 64×64 grey input; trained by oarriaga/face_classification), committed under
 * examples/assets/emotion/ with three face crops (JPEG) from @vladmandic/face-api's demo photo.
 * The example decodes the JPEGs, prints the model's probabilities per face, explains the "happy"
 * logit with IntegratedGradients, Occlusion and LayerGradCam, and writes to out/emotion/: grid.png
 * (methods × faces, each method on one colour scale shared by the three faces; colour bar below),
 * grid.svg (the same with titles and a labelled colour bar per method), report.html and attributions.json.
 *
 *   npm run example:emotion
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, LayerGradCam, Occlusion, describe, type HostTensor } from '../src/index.js'
import { fromTfjs, tfjsBackend } from '../src/backends/tfjs/index.js'
import { attributionGrid, colourBar, defaultColormap, encodePng, explanationReport, pixelMap, thresholdFor, tile, type PixelMap } from '../src/viz/index.js'
import { CLASSES, FACES, HAPPY, LOGITS, SIDE, loadFace, loadGraph, shareInside, toInput, useCpu } from './emotion.js'

const outDir = path.resolve('out', 'emotion')
/** The last feature map before the classifier convolution: output of the third residual block, 8×8×256 per face. */
const LAST_BLOCK = 'StatefulPartitionedCall/model_1/add_2/add'

const seconds = async <A>(f: () => Promise<A>): Promise<[A, number]> => {
  const t0 = performance.now()
  const a = await f()
  return [a, (performance.now() - t0) / 1000]
}

/** Each face's 64×64 map of an NHWC attribution [N, 64, 64, 1]. */
const mapsOf = (attr: HostTensor): PixelMap[] => FACES.map((_, i) => pixelMap(attr, i, true))

const round = (v: number): number => Number(v.toPrecision(5))

const main = async (): Promise<void> => {
  await useCpu()
  const faces = FACES.map((f) => loadFace(f.file))
  const { x, greys } = toInput(faces)
  const graph = loadGraph()
  const probsModel = fromTfjs(graph) // the model's own output: softmax probabilities
  const logits = fromTfjs(graph, { outputName: LOGITS }) // the seven logits the softmax reads
  try {
    // 1. predictions
    const xt = tfjsBackend.fromHost(x)
    const out = await probsModel.forward([xt])()
    xt.dispose()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const p = Array.from((await tfjsBackend.toHost(out.right.output)).data as Float32Array)
    out.right.output.dispose()
    const probs = FACES.map((_, i) => p.slice(i * CLASSES.length, (i + 1) * CLASSES.length))
    const top = (ps: readonly number[], k: number): string =>
      ps.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([v, c]) => `${CLASSES[c]} ${v.toFixed(3)}`).join(', ')
    FACES.forEach((f, i) => console.log(`${f.title.padEnd(15)} ${top(probs[i]!, 3)}`))

    // 2. attributions of the "happy" logit (the softmax saturates at p = 1.000 for the laughing face)
    const igOptions = { target: HAPPY, nSteps: 32, internalBatchSize: 16, returnConvergenceDelta: true } as const
    const ig = new IntegratedGradients(logits)
    const [[igAttr, igDelta], igSeconds] = await seconds(() => ig.attribute(x, igOptions))
    const deltas = Array.from(igDelta.data as Float32Array)
    console.log(`IntegratedGradients, ${igOptions.nSteps} steps × ${FACES.length} faces: ${igSeconds.toFixed(1)} s on tfjs ${tf.getBackend()}; completeness delta ${deltas.map((d) => d.toFixed(3)).join(', ')} (logit units)`)

    const camOptions = { target: HAPPY, reluAttributions: true, upsample: { size: 'input', mode: 'bilinear' } } as const
    const cam = new LayerGradCam(logits, LAST_BLOCK)
    const [camAttr, camSeconds] = await seconds(() => cam.attribute(x, camOptions))
    console.log(`LayerGradCam at ${LAST_BLOCK} (8×8, upsampled to 64×64): ${camSeconds.toFixed(1)} s on tfjs ${tf.getBackend()}`)

    // Occlusion needs forward passes only: the wasm backend runs them several times faster than cpu.
    await tf.setBackend('wasm')
    const occOptions = { target: HAPPY, slidingWindowShapes: [8, 8, 1], strides: [4, 4, 1], perturbationsPerEval: 64 } as const
    const occ = new Occlusion(logits)
    const [occAttr, occSeconds] = await seconds(() => occ.attribute(x, occOptions))
    console.log(`Occlusion, 8×8 grey patches, stride 4 (225 per face): ${occSeconds.toFixed(1)} s on tfjs ${tf.getBackend()}`)
    await useCpu()

    // 3. pictures: rows = methods, columns = faces. Each method's three maps share one scale (its
    // threshold over all three faces), so the faces compare within a row; the methods have different
    // units and spatial detail (IG is pixel-sharp, Occlusion and Grad-CAM are smooth), so a threshold
    // shared by all rows leaves one row in colour and the others nearly blank (see the report).
    const methods = [
      { name: 'IntegratedGradients', unit: 'logit per pixel', attr: igAttr, seconds: igSeconds, options: igOptions, describe: describe(ig.pipelineFor(igOptions)) },
      { name: 'Occlusion', unit: 'logit drop when an 8×8 patch over the pixel turns grey', attr: occAttr, seconds: occSeconds, options: occOptions, describe: describe(occ.pipelineFor(occOptions)) },
      { name: 'LayerGradCam', unit: 'Grad-CAM weight × activation, per 8×8 cell', attr: camAttr, seconds: camSeconds, options: { ...camOptions, layer: LAST_BLOCK }, describe: describe(cam.pipelineFor(camOptions)) },
    ].map((m) => {
      const maps = mapsOf(m.attr)
      const threshold = thresholdFor(Float64Array.from(maps.flatMap((q) => Array.from(q.values))), 'all', 2)
      return { ...m, maps, threshold }
    })
    const blank: PixelMap = { width: SIDE, height: SIDE, values: new Float64Array(SIDE * SIDE) }
    const grid = attributionGrid({
      rows: [
        { title: 'input (64×64 grey)', maps: FACES.map(() => blank), options: { method: 'original_image' } },
        ...methods.map((m) => ({ title: m.name, maps: m.maps, options: { scale: { min: -m.threshold, max: m.threshold } } })),
      ],
      images: greys,
      columnTitles: FACES.map((f, i) => `${f.title}: happy ${probs[i]![HAPPY]!.toFixed(2)}`),
      cellScale: 3,
    }, { sign: 'all', method: 'blended_heat_map', alphaOverlay: 0.6 })
    const bar = colourBar(defaultColormap('all'), grid.image.width, 12)
    const png = encodePng(tile([[grid.image], [bar]], 6))
    methods.forEach((m) => console.log(`  ${m.name.padEnd(19)} colour scale ±${m.threshold.toPrecision(3)} (${m.unit}); Σ per face ${m.maps.map((q) => Array.from(q.values).reduce((a, b) => a + b, 0).toPrecision(3)).join(', ')}`))
    // Does the map point at the smile? Share of each map's positive mass inside the mouth box.
    const pct = (v: number): string => `${(100 * v).toFixed(0)} %`
    const mouthFacts = methods.map((m) => [
      `${m.name}: positive mass on the mouth`,
      FACES.map((f, i) => {
        const s = shareInside(m.maps[i]!.values, f.mouth)
        return `${f.title} ${pct(s.mass)} (box: ${pct(s.area)} of the picture)`
      }).join('; '),
    ] as const)
    mouthFacts.forEach(([k, v]) => console.log(`  ${k}: ${v}`))

    mkdirSync(outDir, { recursive: true })
    writeFileSync(path.join(outDir, 'grid.png'), png)
    writeFileSync(path.join(outDir, 'grid.svg'), grid.svg)
    writeFileSync(path.join(outDir, 'attributions.json'), JSON.stringify({
      model: 'emotion.json (@vladmandic/human 3.3.6), input [N, 64, 64, 1] NHWC',
      explained: `logit of class ${HAPPY} (happy), node ${LOGITS}`,
      classes: CLASSES,
      faces: FACES.map((f, i) => ({ file: f.file, title: f.title, probabilities: probs[i]!.map(round) })),
      methods: methods.map((m) => ({ name: m.name, unit: m.unit, options: m.options, seconds: round(m.seconds), colourScale: m.threshold, shape: m.attr.shape, data: Array.from(m.attr.data as Float32Array, round) })),
      integratedGradientsDelta: deltas,
    }))
    writeFileSync(path.join(outDir, 'report.html'), explanationReport({
      title: 'Why "happy"? A facial-expression CNN explained three ways',
      model: 'emotion CNN from @vladmandic/human 3.3.6 (oarriaga/face_classification), tfjs GraphModel, 64×64 grey input, 7 classes',
      method: { name: 'IntegratedGradients, Occlusion and LayerGradCam of the "happy" logit', describe: methods.map((m) => `${m.name}:\n${m.describe}`).join('\n\n') },
      delta: deltas,
      facts: [
        ...FACES.map((f, i) => [`${f.title} (${f.file})`, top(probs[i]!, 3)] as const),
        ...methods.map((m) => [`${m.name} time`, `${m.seconds.toFixed(1)} s`] as const),
        ...methods.map((m) => [`${m.name} colour scale`, `±${m.threshold.toPrecision(3)} ${m.unit}, shared by the three faces (2 % of the row's attribution mass is clipped to full colour)`] as const),
        ['why one scale per method', 'the three methods measure different things in different units, and IG is sharp at single pixels while Occlusion and Grad-CAM are spread over 8×8 patches: on one scale for all nine maps one row swamps the others (Occlusion in these raw units; IG once all are converted to logit per pixel)'],
        ...mouthFacts,
        ['convergence delta (above)', `IntegratedGradients' Σ attributions − (F(x) − F(grey)), in logits, where Σ attributions is ${methods[0]!.maps.map((q) => Array.from(q.values).reduce((u, v) => u + v, 0).toPrecision(3)).join(', ')}`],
        ['baseline', 'IntegratedGradients and Occlusion replace pixels by 0, a mid-grey in the model\'s (g − 0.5)·2 space'],
      ],
      images: [{ caption: 'rows: input, IntegratedGradients, Occlusion, LayerGradCam; red raises the "happy" logit, blue lowers it', png }],
      svgs: [{ caption: 'the same grid with titles and a labelled colour bar', svg: grid.svg }],
      options: Object.fromEntries(methods.map((m) => [m.name, m.options])),
    }))
    console.log(`wrote ${path.join(outDir, 'grid.png')}, grid.svg, report.html and attributions.json`)
  } finally {
    await probsModel.dispose()
    await logits.dispose()
    graph.dispose()
  }
}

await main()
