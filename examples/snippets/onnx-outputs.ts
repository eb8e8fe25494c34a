import { IntegratedGradients, Occlusion, findLayers } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { modelFile, x } from './ocr-model.js'

// as shipped, the classifier ends in a softmax, saturated on this line: p(upright) = 1 − 4e-12
const probs = await fromOnnx(modelFile)
if (probs._tag === 'Left') throw new Error(probs.left.message)
const [, d1] = await new IntegratedGradients(probs.right).attribute(x, { target: 0, nSteps: 50, returnConvergenceDelta: true })
console.log('p(upright): completeness error', d1.data[0])   // 0.9 for a difference of 0.5: p jumps between two steps

// the logits its final Softmax reads are the graph's last Add: explain those instead
const name = findLayers(probs.right, { opType: 'Add', last: true })[0]!.name       // 'p2o.Add.87'
const logits = await fromOnnx(modelFile, { output: name })
if (logits._tag === 'Left') throw new Error(logits.left.message)
const [ig, d2] = await new IntegratedGradients(logits.right).attribute(x, { target: 0, nSteps: 50, returnConvergenceDelta: true })
console.log('upright logit: completeness error', d2.data[0], 'of a difference of 12.9')
const occ = await new Occlusion(logits.right).attribute(x, { target: 0, slidingWindowShapes: [3, 16, 32], strides: [3, 8, 16] })
console.log(ig.shape, occ.shape)                        // both [1, 3, 48, 192]

// or explain log p(upright), the log-softmax of the logits: a target expression, differentiated on ONNX too
const logP0 = { expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [0] }] } as const
await new IntegratedGradients(logits.right).attribute(x, { target: logP0, nSteps: 50 })

// a misspelt tensor name is an error that lists the closest names
const typo = await fromOnnx(modelFile, { output: 'p2o.add.87' })
if (typo._tag === 'Left') console.log(typo.left.message)
await Promise.all([probs.right.dispose(), logits.right.dispose()])
