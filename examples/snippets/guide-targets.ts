import { IntegratedGradients, float32, type HostTensor } from 'clarus'
import { model, x } from './ocr-model.js'

// What does the model say? model.forward runs the explained output (the logits, [1, 2]).
const out = await model.forward([x])()
if (out._tag === 'Left') throw new Error(out.left.message)
const logits = Array.from(out.right.output.data as Float32Array)
const predicted = logits.indexOf(Math.max(...logits))     // 0: upright
console.log('logits', logits, 'predicted', ['upright', 'upside down'][predicted])

// A batch: the line and the same line turned upside down (NCHW: reverse each channel's pixels).
const plane = 48 * 192
const turned = new Float32Array(x.data.length)
for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) turned[c * plane + p] = Number(x.data[c * plane + plane - 1 - p])
const batch: HostTensor = float32([2, 3, 48, 192], [...(x.data as Float32Array), ...turned])

const ig = new IntegratedGradients(model)
await ig.attribute(batch, { target: 0, nSteps: 16 })            // one class for every example
await ig.attribute(batch, { target: [0, 1], nSteps: 16 })       // one class per example: each one's own prediction
// "why upright rather than upside down?": the logit difference, a weighted sum of outputs
await ig.attribute(batch, { target: { mask: float32([1, 2], [1, -1]) }, nSteps: 16 })
// log p(upright), computed from the logits: a target expression (data, so it runs on ONNX too)
await ig.attribute(batch, { target: { expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [0] }] }, nSteps: 16 })
