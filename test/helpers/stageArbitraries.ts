// One fast-check arbitrary per stage of ALL_STAGES, for its parameters (without the `_tag`). The
// table's type is derived from the stage list, so a stage added there without a row here is a
// compile error, and each row must produce exactly that stage's parameter type.
import fc from 'fast-check'
import { featureAblation } from '../../src/algorithms/featureAblation.js'
import { integratedGradients } from '../../src/algorithms/integratedGradients.js'
import { noiseTunnel } from '../../src/algorithms/noiseTunnel.js'
import { saliency } from '../../src/algorithms/saliency.js'
import { MAX_STEPS, QuadratureRule } from '../../src/dsl/quadratureRules.js'
import { DECONVOLUTION, DEEPLIFT, GUIDED_BACKPROP } from '../../src/core/ruleSet.js'
import type { ParamsOf, StageDefs, StageTag } from '../../src/dsl/spec.js'
import type { Design, Sampler, Similarity } from '../../src/dsl/perturbation/designs.js'
import type { FeatureSpec } from '../../src/dsl/perturbation/layout.js'
import type { InterpretableModel } from '../../src/dsl/perturbation/linearModels.js'

/** The parameters of the stage tagged `Tag`. */
export type StageParams<Tag extends StageTag> = ParamsOf<Extract<StageDefs, { readonly tag: Tag }>>

export type StageArbitraries = { readonly [Tag in StageTag]: fc.Arbitrary<StageParams<Tag>> }

const none = fc.constant({})
const layer = fc.string({ minLength: 1, maxLength: 12 })
/** One layer, or a non-empty list of distinct layers (the many-layers form). */
const layers = fc.oneof(layer, fc.uniqueArray(layer, { minLength: 1, maxLength: 4 }))
const count = fc.integer({ min: 1, max: 1000 })
const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true })
const positive = fc.double({ min: 1e-6, max: 1e6, noNaN: true })
const nonNegative = fc.double({ min: 0, max: 10, noNaN: true })
const dims = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
const custom = fc.record({ _tag: fc.constant('custom' as const), name: fc.string() })
/** Neuron selections (dsl/neuron.ts): index tuples of integers and slices, JSON masks, the call's function. */
const pySlice = fc.record({ start: fc.option(fc.integer({ min: -6, max: 6 })), stop: fc.option(fc.integer({ min: -6, max: 6 })), step: fc.option(fc.integer({ min: 1, max: 3 })) }, { requiredKeys: [] })
const neuron = fc.oneof(
  fc.record({ layer, index: fc.array(fc.oneof(fc.integer({ min: -3, max: 20 }), pySlice), { maxLength: 3 }) }),
  dims.chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1)
    return fc.record({ layer, mask: fc.record({ shape: fc.constant(shape), data: fc.array(finite, { minLength: n, maxLength: n }) }) })
  }),
  fc.record({ layer, fromCall: fc.constant('neuronFn' as const) }),
)

const sampler: fc.Arbitrary<Sampler> = fc.oneof(fc.constantFrom('bernoulli' as const, 'enumerate' as const, 'kernelShap' as const), custom)
const similarity: fc.Arbitrary<Similarity> = fc.oneof(
  fc.record({ _tag: fc.constant('expKernel' as const), distance: fc.constantFrom('cosine' as const, 'euclidean' as const), kernelWidth: positive }),
  fc.constant({ _tag: 'kernelShap' as const }),
  fc.constant({ _tag: 'shapleyKernel' as const }),
  custom,
)
const design: fc.Arbitrary<Design> = fc.oneof(
  fc.record({ _tag: fc.constant('ablation' as const), replaceWith: fc.constantFrom('baseline' as const, 'permutation' as const) }),
  fc.constant({ _tag: 'shapleyExact' as const }),
  fc.record({ _tag: fc.constant('shapleySampling' as const), nSamples: count }),
  fc.record(
    { _tag: fc.constant('coalitions' as const), sampler, nSamples: fc.integer({ min: 2, max: 1000 }), similarity, background: fc.boolean() },
    { requiredKeys: ['_tag', 'sampler', 'nSamples', 'similarity'] },
  ),
)
const features: fc.Arbitrary<FeatureSpec> = fc.oneof(
  fc.constant({ _tag: 'masks' as const }),
  fc.constant({ _tag: 'layerMask' as const }),
  fc.record(
    { _tag: fc.constant('windows' as const), shapes: fc.array(dims, { minLength: 1, maxLength: 3 }), strides: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), dims), { maxLength: 3 })) },
    { requiredKeys: ['_tag', 'shapes'] },
  ),
)
const interpretableModel: fc.Arbitrary<InterpretableModel> = fc.oneof(
  fc.record({ _tag: fc.constantFrom('lasso' as const, 'ridge' as const), alpha: positive }),
  fc.constant({ _tag: 'linearRegression' as const }),
  custom,
)
/** Whole methods for `apply` (each already a checked pipeline). */
const method = fc.oneof(
  fc.constant(saliency()),
  fc.integer({ min: 1, max: 64 }).map((nSteps) => integratedGradients({ nSteps, returnConvergenceDelta: nSteps % 2 === 0 })),
  fc.constant(featureAblation()),
  fc.constant(noiseTunnel(integratedGradients({ nSteps: 4 }), { nSamples: 3 })),
)

export const STAGE_ARBITRARIES: StageArbitraries = {
  interpolate: fc.record(
    {
      nSteps: fc.integer({ min: 2, max: MAX_STEPS }),
      method: fc.constantFrom(...(Object.keys(QuadratureRule.keys) as QuadratureRule[])),
      path: fc.oneof(fc.constant({ _tag: 'straight' as const }), fc.record({ _tag: fc.constant('power' as const), exponent: fc.double({ min: 1e-3, max: 10, noNaN: true }) })),
    },
    { requiredKeys: ['nSteps', 'method'] },
  ),
  grad: fc.record({ layer: layers, inject: fc.boolean(), neuron, ruleSet: fc.constantFrom(DEEPLIFT, GUIDED_BACKPROP, DECONVOLUTION), referenceRows: fc.constant('halves' as const) }, { requiredKeys: [] }),
  quadrature: none,
  scaleByDelta: none,
  multiplyByInputs: none,
  abs: none,
  completenessDelta: none,
  relevanceDelta: none,
  layerEndpoints: fc.record({ layer: layers }),
  activation: fc.record({ layer: layers }),
  reference: fc.record({ neuron: fc.record({ layer, index: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 3 }) }) }, { requiredKeys: [] }),
  perturb: fc.record({ features, design }),
  forward: fc.record({ inject: fc.boolean(), neuron: fc.record({ layer, index: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 3 }) }) }, { requiredKeys: [] }),
  diff: fc.record({ average: fc.boolean() }),
  marginals: fc.record({ design }),
  linearFit: fc.record({ model: interpretableModel, returnInputShape: fc.boolean() }),
  noise: fc.record(
    {
      nSamples: count,
      stdevs: fc.oneof(nonNegative, fc.array(nonNegative, { minLength: 1, maxLength: 4 })),
      baselines: fc.constantFrom('keep' as const, 'draw' as const, 'cycle' as const),
      batchSize: count,
    },
    { requiredKeys: ['nSamples', 'stdevs'] },
  ),
  sampleMean: fc.record({ type: fc.constantFrom('smoothgrad' as const, 'smoothgrad_sq' as const, 'vargrad' as const), batchSize: count }, { requiredKeys: ['type'] }),
  apply: fc.record({ pipeline: method }),
  randomPoint: none,
  scaleByLayerDelta: fc.record({ layer }),
  clip: fc.oneof(
    fc.record({ min: finite }),
    fc.record({ max: finite }),
    fc.tuple(finite, finite).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
  ),
  gradCam: fc.record({ relu: fc.boolean(), sumChannels: fc.boolean(), channelAxis: fc.integer({ min: -4, max: 4 }) }, { requiredKeys: [] }),
  conductanceGrad: fc.record({ neuron }),
  upsample: fc.record(
    { size: fc.oneof(fc.constant('input' as const), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 3 })), mode: fc.constantFrom('nearest' as const, 'linear' as const, 'bilinear' as const, 'trilinear' as const), layout: fc.constantFrom('NCHW' as const, 'NHWC' as const) },
    { requiredKeys: ['size'] },
  ),
  conductanceSum: none,
  layerPoints: fc.record({ layer, baselines: fc.boolean() }),
  eachBaseline: none,
  weightBy: fc.record({ pipeline: method }),
  customAttribution: fc.record({ fn: custom }),
  explain: fc.record({ pipeline: method }),
  givenAttributions: none,
  infidelityPerturb: fc.record(
    {
      nSamples: count,
      perturbation: fc.oneof(
        fc.record({ _tag: fc.constant('noise' as const), stdevs: fc.oneof(nonNegative, fc.array(nonNegative, { minLength: 1, maxLength: 4 })) }),
        fc.record({ _tag: fc.constant('baseline' as const), probability: fc.double({ min: 0, max: 1, noNaN: true }), multiplyByInputs: fc.boolean() }, { requiredKeys: ['_tag'] }),
        custom,
      ),
      maxExamplesPerBatch: count,
    },
    { requiredKeys: ['nSamples', 'perturbation'] },
  ),
  infidelityScore: fc.record({ normalize: fc.boolean() }),
  sensitivityPerturb: fc.record(
    { nSamples: count, radius: nonNegative, perturbation: fc.oneof(fc.constant('uniform' as const), custom), maxExamplesPerBatch: count },
    { requiredKeys: ['nSamples', 'radius'] },
  ),
  sensitivityScore: fc.record({ norm: fc.oneof(fc.constantFrom('fro' as const, 'inf' as const), fc.double({ min: 1, max: 10, noNaN: true })) }),
  explanationScore: fc.record({ score: fc.constantFrom('gini' as const, 'entropy' as const, 'absDelta' as const) }),
  flipPerturb: fc.record({ mode: fc.constantFrom('deletion' as const, 'insertion' as const), order: fc.constantFrom('morf' as const, 'lerf' as const), stepSize: count }),
  curveScore: fc.record({ score: fc.constantFrom('auc' as const, 'monotonic' as const, 'curve' as const) }),
  subsetPerturb: fc.record({ nSamples: count, subsetSize: count }),
  correlationScore: none,
  sensitivityStat: fc.record({ norm: fc.oneof(fc.constantFrom('fro' as const, 'inf' as const), fc.double({ min: 1, max: 10, noNaN: true })), stat: fc.constantFrom('mean' as const, 'lipschitz' as const) }),
}
