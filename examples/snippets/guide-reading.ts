import { IntegratedGradients } from 'clarus'
import { pixelMap } from 'clarus/viz'
import { model, x } from './ocr-model.js'

const [attr, delta] = await new IntegratedGradients(model).attribute(x, { target: 0, baselines: 1, nSteps: 64, returnConvergenceDelta: true })
// attr has the input's shape, [1, 3, 48, 192]: one score per input value, in units of the explained output
// (here the upright logit). Positive: this value, compared with the baseline's, raised the logit.
const a = attr.data as Float32Array
const positive = a.reduce((s, v) => s + Math.max(v, 0), 0)
const negative = a.reduce((s, v) => s + Math.min(v, 0), 0)
console.log(`raised by ${positive.toFixed(2)}, lowered by ${negative.toFixed(2)}, net ${(positive + negative).toFixed(2)} (delta ${Number(delta.data[0]).toFixed(3)})`)

// one score per pixel: the sum over the colour channels (what the heat maps draw)
const map = pixelMap(attr, 0)                              // { width: 192, height: 48, values }
const top = [...map.values.keys()].sort((i, j) => Math.abs(map.values[j]!) - Math.abs(map.values[i]!)).slice(0, 5)
console.log('strongest pixels (row, column):', top.map((i) => [Math.floor(i / map.width), i % map.width]))
