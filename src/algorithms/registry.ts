/**
 * METHODS: the single source for docs, property suites and golden tests. Each entry says how to
 * build the method's pipeline from options, which axioms it claims (the property tests check
 * exactly those), and its Captum name.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { decodeWith } from '../core/codecs.js'
import { ClarusError, invalidSpec } from '../core/errors.js'
import type { Pipeline } from '../dsl/spec.js'
import { featureAblation, FeatureAblationOptions } from './featureAblation.js'
import { featurePermutation, FeaturePermutationOptions } from './featurePermutation.js'
import { gradientShap, GradientShapOptions, inputBaselineXGradient, InputBaselineXGradientOptions } from './gradientShap.js'
import { inputXGradient, InputXGradientOptions } from './inputXGradient.js'
import { integratedGradients, IntegratedGradientsOptions } from './integratedGradients.js'
import { kernelShap, KernelShapOptions } from './kernelShap.js'
import { layerActivation, LayerActivationOptions } from './layerActivation.js'
import { layerGradientShap, LayerGradientShapOptions } from './layerGradientShap.js'
import { layerGradientXActivation, LayerGradientXActivationOptions } from './layerGradientXActivation.js'
import { internalInfluence, InternalInfluenceOptions } from './internalInfluence.js'
import { layerGradCam, LayerGradCamOptions } from './layerGradCam.js'
import { neuronConductance, NeuronConductanceOptions, neuronGradient, NeuronGradientOptions, neuronIntegratedGradients, NeuronIntegratedGradientsOptions } from './neuron.js'
import { layerIntegratedGradients, LayerIntegratedGradientsOptions } from './layerIntegratedGradients.js'
import { layerConductance, LayerConductanceOptions } from './layerConductance.js'
import { lime, LimeOptions } from './lime.js'
import { noiseTunnel, NoiseTunnelMethodOptions } from './noiseTunnel.js'
import { occlusion, OcclusionOptions } from './occlusion.js'
import { saliency, SaliencyOptions } from './saliency.js'
import { shapleyValues, ShapleyValuesOptions } from './shapleyValues.js'
import { shapleyValueSampling, ShapleyValueSamplingOptions } from './shapleyValueSampling.js'
import { layerFeatureAblation, LayerFeatureAblationOptions } from './layerFeatureAblation.js'
import { layerFeaturePermutation, LayerFeaturePermutationOptions } from './layerFeaturePermutation.js'
import { neuronFeatureAblation, NeuronFeatureAblationOptions } from './neuronFeatureAblation.js'
import { neuronGradientShap, NeuronGradientShapOptions } from './neuronGradientShap.js'
import { deepLift, DeepLiftOptions, deepLiftShap, DeepLiftShapOptions } from './deepLift.js'
import { layerDeepLift, LayerDeepLiftOptions, layerDeepLiftShap, LayerDeepLiftShapOptions } from './layerDeepLift.js'
import { neuronDeepLift, NeuronDeepLiftOptions, neuronDeepLiftShap, NeuronDeepLiftShapOptions } from './neuronDeepLift.js'
import {
  deconvolution, DeconvolutionOptions, guidedBackprop, GuidedBackpropOptions,
  neuronDeconvolution, NeuronDeconvolutionOptions, neuronGuidedBackprop, NeuronGuidedBackpropOptions,
} from './guidedBackprop.js'
import { guidedGradCam, GuidedGradCamOptions } from './guidedGradCam.js'
import { layerLrp, LayerLrpOptions, lrp, LrpOptions } from './lrp.js'

/** Axioms a method can claim (Sundararajan et al. 2017; Lundberg & Lee 2017). */
export type Axiom = 'completeness' | 'sensitivity' | 'implementationInvariance' | 'linearity' | 'symmetry' | 'dummy'

export type Family = 'primary' | 'layer' | 'neuron'

interface Metadata {
  readonly captumName: string
  readonly family: Family
  readonly claims: readonly Axiom[]
  readonly stochastic: boolean
  readonly hasDelta: boolean
}

export interface MethodInfo extends Metadata {
  /**
   * The options codec: the method file's own (`IntegratedGradientsOptions`, …), with Captum's
   * names camelCased. A decoder rather than a `t.Type`: the registry holds methods of every option
   * type, and a decoder's output is covariant. Entries it does not know are ignored.
   */
  readonly options: t.Decoder<unknown, unknown>
  /**
   * Builds the pipeline from options decoded with `options` (layer methods read `layer` there);
   * bad options throw a {@link ClarusError} carrying an InvalidSpec that names every bad field.
   */
  readonly build: (options?: unknown) => Pipeline
}

/** Entries set to `undefined` dropped, so a builder's defaults apply to them (as to absent ones). */
const defined = <A>(a: A): A =>
  typeof a === 'object' && a !== null && !Array.isArray(a) ? (Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A) : a

/** Decodes the options, then builds. */
const method = <O>(meta: Metadata, options: t.Decoder<unknown, O>, build: (o: O) => Pipeline): MethodInfo => ({
  ...meta,
  options,
  build: (u = {}) => {
    const o = decodeWith(options, defined(u))
    if (E.isLeft(o)) throw new ClarusError(o.left)
    return build(o.right)
  },
})

export const METHODS: Readonly<Record<string, MethodInfo>> = {
  integratedGradients: method(
    { captumName: 'IntegratedGradients', family: 'primary', claims: ['completeness', 'sensitivity', 'implementationInvariance', 'linearity', 'symmetry', 'dummy'], stochastic: false, hasDelta: true },
    IntegratedGradientsOptions,
    integratedGradients,
  ),
  saliency: method({ captumName: 'Saliency', family: 'primary', claims: ['implementationInvariance', 'dummy'], stochastic: false, hasDelta: false }, SaliencyOptions, saliency),
  inputXGradient: method({ captumName: 'InputXGradient', family: 'primary', claims: ['implementationInvariance', 'dummy'], stochastic: false, hasDelta: false }, InputXGradientOptions, inputXGradient),
  layerIntegratedGradients: method(
    { captumName: 'LayerIntegratedGradients', family: 'layer', claims: ['completeness', 'linearity'], stochastic: false, hasDelta: true },
    LayerIntegratedGradientsOptions,
    layerIntegratedGradients,
  ),
  layerGradientXActivation: method(
    { captumName: 'LayerGradientXActivation', family: 'layer', claims: [], stochastic: false, hasDelta: false },
    LayerGradientXActivationOptions,
    layerGradientXActivation,
  ),
  layerGradCam: method({ captumName: 'LayerGradCam', family: 'layer', claims: [], stochastic: false, hasDelta: false }, LayerGradCamOptions, layerGradCam),
  internalInfluence: method({ captumName: 'InternalInfluence', family: 'layer', claims: [], stochastic: false, hasDelta: false }, InternalInfluenceOptions, internalInfluence),
  layerConductance: method({ captumName: 'LayerConductance', family: 'layer', claims: ['completeness'], stochastic: false, hasDelta: true }, LayerConductanceOptions, layerConductance),
  neuronGradient: method({ captumName: 'NeuronGradient', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronGradientOptions, neuronGradient),
  neuronIntegratedGradients: method(
    { captumName: 'NeuronIntegratedGradients', family: 'neuron', claims: [], stochastic: false, hasDelta: false },
    NeuronIntegratedGradientsOptions,
    neuronIntegratedGradients,
  ),
  neuronConductance: method({ captumName: 'NeuronConductance', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronConductanceOptions, neuronConductance),
  layerActivation: method({ captumName: 'LayerActivation', family: 'layer', claims: [], stochastic: false, hasDelta: false }, LayerActivationOptions, layerActivation),
  featureAblation: method({ captumName: 'FeatureAblation', family: 'primary', claims: ['dummy'], stochastic: false, hasDelta: false }, FeatureAblationOptions, featureAblation),
  featurePermutation: method({ captumName: 'FeaturePermutation', family: 'primary', claims: ['dummy'], stochastic: true, hasDelta: false }, FeaturePermutationOptions, featurePermutation),
  occlusion: method({ captumName: 'Occlusion', family: 'primary', claims: [], stochastic: false, hasDelta: false }, OcclusionOptions, occlusion),
  shapleyValues: method({ captumName: 'ShapleyValues', family: 'primary', claims: ['completeness', 'symmetry', 'dummy', 'linearity'], stochastic: false, hasDelta: false }, ShapleyValuesOptions, shapleyValues),
  shapleyValueSampling: method(
    { captumName: 'ShapleyValueSampling', family: 'primary', claims: ['completeness', 'dummy'], stochastic: true, hasDelta: false },
    ShapleyValueSamplingOptions,
    shapleyValueSampling,
  ),
  lime: method({ captumName: 'Lime', family: 'primary', claims: [], stochastic: true, hasDelta: false }, LimeOptions, lime),
  kernelShap: method({ captumName: 'KernelShap', family: 'primary', claims: [], stochastic: true, hasDelta: false }, KernelShapOptions, kernelShap),
  gradientShap: method({ captumName: 'GradientShap', family: 'primary', claims: [], stochastic: true, hasDelta: true }, GradientShapOptions, gradientShap),
  inputBaselineXGradient: method(
    { captumName: 'InputBaselineXGradient', family: 'primary', claims: [], stochastic: true, hasDelta: true },
    InputBaselineXGradientOptions,
    inputBaselineXGradient,
  ),
  layerGradientShap: method({ captumName: 'LayerGradientShap', family: 'layer', claims: [], stochastic: true, hasDelta: true }, LayerGradientShapOptions, layerGradientShap),
  layerFeatureAblation: method({ captumName: 'LayerFeatureAblation', family: 'layer', claims: ['dummy'], stochastic: false, hasDelta: false }, LayerFeatureAblationOptions, layerFeatureAblation),
  layerFeaturePermutation: method(
    { captumName: 'LayerFeaturePermutation', family: 'layer', claims: [], stochastic: true, hasDelta: false },
    LayerFeaturePermutationOptions,
    layerFeaturePermutation,
  ),
  neuronFeatureAblation: method({ captumName: 'NeuronFeatureAblation', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronFeatureAblationOptions, neuronFeatureAblation),
  neuronGradientShap: method({ captumName: 'NeuronGradientShap', family: 'neuron', claims: [], stochastic: true, hasDelta: false }, NeuronGradientShapOptions, neuronGradientShap),
  deepLift: method({ captumName: 'DeepLift', family: 'primary', claims: ['completeness', 'dummy'], stochastic: false, hasDelta: true }, DeepLiftOptions, deepLift),
  deepLiftShap: method({ captumName: 'DeepLiftShap', family: 'primary', claims: ['completeness', 'dummy'], stochastic: false, hasDelta: true }, DeepLiftShapOptions, deepLiftShap),
  layerDeepLift: method({ captumName: 'LayerDeepLift', family: 'layer', claims: ['completeness'], stochastic: false, hasDelta: true }, LayerDeepLiftOptions, layerDeepLift),
  layerDeepLiftShap: method({ captumName: 'LayerDeepLiftShap', family: 'layer', claims: ['completeness'], stochastic: false, hasDelta: true }, LayerDeepLiftShapOptions, layerDeepLiftShap),
  neuronDeepLift: method({ captumName: 'NeuronDeepLift', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronDeepLiftOptions, neuronDeepLift),
  neuronDeepLiftShap: method({ captumName: 'NeuronDeepLiftShap', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronDeepLiftShapOptions, neuronDeepLiftShap),
  guidedBackprop: method({ captumName: 'GuidedBackprop', family: 'primary', claims: [], stochastic: false, hasDelta: false }, GuidedBackpropOptions, guidedBackprop),
  deconvolution: method({ captumName: 'Deconvolution', family: 'primary', claims: [], stochastic: false, hasDelta: false }, DeconvolutionOptions, deconvolution),
  neuronGuidedBackprop: method({ captumName: 'NeuronGuidedBackprop', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronGuidedBackpropOptions, neuronGuidedBackprop),
  neuronDeconvolution: method({ captumName: 'NeuronDeconvolution', family: 'neuron', claims: [], stochastic: false, hasDelta: false }, NeuronDeconvolutionOptions, neuronDeconvolution),
  guidedGradCam: method({ captumName: 'GuidedGradCam', family: 'layer', claims: [], stochastic: false, hasDelta: false }, GuidedGradCamOptions, guidedGradCam),
  lrp: method({ captumName: 'LRP', family: 'primary', claims: [], stochastic: false, hasDelta: true }, LrpOptions, lrp),
  layerLrp: method({ captumName: 'LayerLRP', family: 'layer', claims: [], stochastic: false, hasDelta: true }, LayerLrpOptions, layerLrp),
  /**
   * `wrapped`: the wrapped method's METHODS key; its options are the other entries, decoded by
   * that method (NoiseTunnel's own: ntType, ntSamples, ntSamplesBatchSize, stdevs, drawBaselineFromDistrib).
   */
  noiseTunnel: method(
    { captumName: 'NoiseTunnel', family: 'primary', claims: [], stochastic: true, hasDelta: true },
    NoiseTunnelMethodOptions,
    (o) => {
      const inner = Object.hasOwn(METHODS, o.wrapped) ? METHODS[o.wrapped] : undefined
      if (inner === undefined || o.wrapped === 'noiseTunnel') {
        throw new ClarusError(invalidSpec([{ path: ['wrapped'], message: `NoiseTunnel wraps a method of METHODS: got ${JSON.stringify(o.wrapped)}` }]))
      }
      return noiseTunnel(inner.build(o), defined({ ntType: o.ntType, nSamples: o.ntSamples, nSamplesBatchSize: o.ntSamplesBatchSize, stdevs: o.stdevs, drawBaselineFromDistrib: o.drawBaselineFromDistrib }))
    },
  ),
}
