import * as E from 'fp-ts/lib/Either.js'
import { cavsFromJson, cavsToJson, concept, float32, keyOf, tcav, tcavSignificance, toFloat64, uniforms, type HostTensor } from 'clarus'
import { model, x } from './ocr-model.js'

// concept images made from the demo line: n copies rolled sideways, upright or turned by 180°; and noise
const [, C, H, W] = x.shape as [number, number, number, number]
const pixels = toFloat64(x)
const lines = (n: number, turned: boolean): HostTensor => float32([n, C, H, W], Array.from({ length: n * C * H * W }, (_, i) => {
  const [k, c, y, col] = [Math.floor(i / (C * H * W)), Math.floor(i / (H * W)) % C, Math.floor(i / W) % H, i % W]
  return pixels[c * H * W + (turned ? H - 1 - y : y) * W + ((turned ? W - 1 - col : col) + 29 * k) % W]!
}))
const noise = (seed: number, n: number): HostTensor => float32([n, C, H, W], uniforms(keyOf(seed), n * C * H * W).map((u) => 2 * u - 1))

const upsideDown = concept(0, 'upside-down text', lines(6, true))      // HostTensor [n, 3, H, W]
const randoms = [1, 2, 3].map((k) => concept(k, `random_${k}`, noise(k, 6)))
const layer = 'p2o.MaxPool.1'                                          // a tensor of signature.layers
const images = lines(4, false)                                         // explain "upright" (class 0) on upright lines
const r = await tcav(model, images, { layers: [layer], experimentalSets: randoms.map((q) => [upsideDown, q]), target: 0, seed: 0 })()
if (E.isLeft(r)) throw new Error(r.left.message)
for (const key of ['0-1', '0-2', '0-3']) console.log(key, 'sign count', r.right.scores[key]![layer]!.signCount.data, 'magnitude', r.right.scores[key]![layer]!.magnitude.data)
const json = cavsToJson(r.right.cavs)                                  // reuse later: tcav(model, x, { …, cavs: cavsFromJson(json).right })
console.log('CAVs round-trip through JSON:', E.isRight(cavsFromJson(json)))
const sig = await tcavSignificance(model, images, { layers: [layer], target: 0, concept: upsideDown, randomConcepts: randoms, seed: 0 })()
if (E.isRight(sig)) console.log('p-value', sig.right.layers[layer]!.pValue, 'significant:', sig.right.layers[layer]!.significant)
