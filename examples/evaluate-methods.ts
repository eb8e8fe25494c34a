/**
 * Is this explanation right? Evaluate three methods on a real, trained ONNX model with metrics.
 *
 * PaddleOCR's text-line orientation classifier (see explain-ocr.ts) is explained for a faded
 * upright and a faded upside-down line (2 % contrast: on the clear line the classifier's softmax
 * is saturated at 1 in float32, so no perturbation changes its output and every explanation would
 * score 0) by IntegratedGradients, Saliency and Occlusion, and each explanation is scored by every
 * metric in METRICS:
 *
 * - infidelity (normalized): how well Σ I ⊙ a predicts F(x) − F(x − I) under Gaussian noise I,
 *   after rescaling a optimally (so methods with different scales compare); lower is better.
 * - sensitivityMax: the largest relative change of the explanation when the image moves by at
 *   most 0.002 per pixel (a tenth of the faded image's range); lower is more robust. The metric re-runs the method at every perturbed
 *   image (a higher-order pipeline).
 * - sparseness (Gini index of |a|; higher is sparser) and complexity (entropy of |a| / Σ |a|;
 *   lower is simpler): functions of the explanation alone.
 * - completeness: |Σ a − (F(x) − F(x′))| with zero baselines; lower is better (0 for a complete
 *   method).
 * - deletion / insertion: the area under F as the most relevant features are set to the baseline
 *   (deletion: lower is better) or restored from it (insertion: higher is better), 2304 features a
 *   step; monotonicity: 1 if F never falls as features are restored in increasing attribution order.
 * - faithfulnessCorrelation: Pearson correlation between Σ a over random subsets of 224 features and
 *   the output drop when they are removed; higher is better.
 * - maxSensitivity, avgSensitivity and localLipschitzEstimate: max / mean of ‖e(x) − e(x̃)‖ / ‖e(x)‖
 *   and max of ‖e(x) − e(x̃)‖ / ‖x − x̃‖ over 2 perturbed images; lower is more robust.
 *
 * Few steps and samples keep it under a minute on two cores; raise them for tighter estimates.
 *
 *   npm run example:metrics
 */
import * as E from 'fp-ts/lib/Either.js'
import { METRICS, describe, evaluate, float32, integratedGradients, occlusion, saliency, type MetricName, type Pipeline } from '../src/index.js'
import { loadModel, rotate180, textLine, toInput } from './ocr.js'

/** Contrast of the faded lines. */
const FADE = 0.02

const methods: readonly Pipeline[] = [
  integratedGradients({ nSteps: 16 }),
  saliency(),
  occlusion({ slidingWindowShapes: [3, 12, 12], strides: [3, 12, 12] }),
]

/** Each metric's options (Captum's names camelCased). */
const metricOptions: Readonly<Record<MetricName, unknown>> = {
  infidelity: { perturbation: { _tag: 'noise', stdevs: 0.005 }, nPerturbSamples: 16, normalize: true },
  sensitivityMax: { perturbRadius: 0.002, nPerturbSamples: 3 },
  sparseness: {},
  complexity: {},
  completeness: {},
  // 3 × 48 × 192 features, 2304 a step: curves of 13 points
  deletion: { stepSize: 2304 },
  insertion: { stepSize: 2304 },
  monotonicity: { stepSize: 2304 },
  faithfulnessCorrelation: { nSamples: 20, subsetSize: 224 },
  maxSensitivity: { perturbRadius: 0.002, nPerturbSamples: 2 },
  avgSensitivity: { perturbRadius: 0.002, nPerturbSamples: 2 },
  localLipschitzEstimate: { perturbRadius: 0.002, nPerturbSamples: 2 },
}

const main = async (): Promise<void> => {
  const line = textLine()
  const clear = toInput([line, rotate180(line)])
  // 2 % contrast around mid-grey (0 in the model's normalised space)
  const x = float32(clear.shape, Float32Array.from(clear.data as Float32Array, (v) => v * FADE))
  const model = await loadModel()
  try {
    const out = await model.forward([x])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const p = out.right.output.data as Float32Array
    // explain each image's predicted class
    const target = [0, 1].map((i) => (p[2 * i]! >= p[2 * i + 1]! ? 0 : 1))
    console.log(`P(upright, upside down): faded line ${p[0]!.toFixed(3)}, ${p[1]!.toFixed(3)}; faded rotated line ${p[2]!.toFixed(3)}, ${p[3]!.toFixed(3)}\n`)
    const names = Object.keys(METRICS) as MetricName[]
    console.log(describe(METRICS.sensitivityMax.build(methods[0]!, metricOptions.sensitivityMax)))
    const rows: string[][] = []
    for (const method of methods) {
      const cells = [method.name]
      for (const name of names) {
        const metric = METRICS[name].build(method, metricOptions[name])
        const t0 = performance.now()
        const r = await evaluate(metric, model, x, { target, seed: 0 })()
        if (E.isLeft(r)) throw new Error(`${name} of ${method.name}: ${r.left._tag}: ${r.left.message}`)
        const s = Array.from(r.right.scores.data as Float32Array)
        cells.push(`${s.map((v) => v.toExponential(2)).join(' / ')}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`)
      }
      rows.push(cells)
    }
    const header = ['method', ...names.map((n) => `${n} (${METRICS[n].better} is better)`)]
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
    const line2 = (cells: readonly string[]): string => cells.map((v, c) => v.padEnd(widths[c]!)).join(' | ')
    console.log('\nScores per image (upright / upside down):\n')
    console.log(line2(header))
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
    rows.forEach((r) => console.log(line2(r)))
  } finally {
    await model.dispose()
  }
}

await main()
