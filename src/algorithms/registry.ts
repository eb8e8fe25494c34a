/**
 * METHODS: the single source for docs, property suites and golden tests. Each entry says how to
 * build the method's pipeline from options, which axioms it claims (the property tests check
 * exactly those), and its Captum name.
 *
 * @category algorithms
 * @since 0.1.0
 */
import type { QuadratureRule } from '../dsl/quadratureRules.js'
import type { Pipeline } from '../dsl/spec.js'
import { ClarusError, invalidSpec } from '../core/errors.js'
import { inputXGradient } from './inputXGradient.js'
import { integratedGradients } from './integratedGradients.js'
import { layerActivation } from './layerActivation.js'
import { layerGradientXActivation } from './layerGradientXActivation.js'
import { layerIntegratedGradients } from './layerIntegratedGradients.js'
import { saliency } from './saliency.js'
import { featureAblation } from './featureAblation.js'
import { featurePermutation } from './featurePermutation.js'
import { occlusion } from './occlusion.js'
import { shapleyValues } from './shapleyValues.js'
import { shapleyValueSampling } from './shapleyValueSampling.js'
import { lime } from './lime.js'
import { kernelShap } from './kernelShap.js'
import { gradientShap, inputBaselineXGradient } from './gradientShap.js'
import { layerGradientShap } from './layerGradientShap.js'
import { noiseTunnel } from './noiseTunnel.js'
import type { SampleStatistic } from '../dsl/stages/sampleMean.js'

/** Axioms a method can claim (Sundararajan et al. 2017; Lundberg & Lee 2017). */
export type Axiom = 'completeness' | 'sensitivity' | 'implementationInvariance' | 'linearity' | 'symmetry' | 'dummy'

export type Family = 'primary' | 'layer' | 'neuron'

export interface MethodInfo {
  readonly captumName: string
  readonly family: Family
  readonly claims: readonly Axiom[]
  readonly stochastic: boolean
  readonly hasDelta: boolean
  /** Builds the pipeline; layer methods read `layer` from the options. */
  readonly build: (options: Readonly<Record<string, unknown>>) => Pipeline
}

const num = (o: Readonly<Record<string, unknown>>, k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined)
const bool = (o: Readonly<Record<string, unknown>>, k: string): boolean | undefined => (typeof o[k] === 'boolean' ? (o[k] as boolean) : undefined)
const str = (o: Readonly<Record<string, unknown>>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined)
const defined = <A extends object>(a: A): A => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

export const METHODS: Readonly<Record<string, MethodInfo>> = {
  integratedGradients: {
    captumName: 'IntegratedGradients',
    family: 'primary',
    claims: ['completeness', 'sensitivity', 'implementationInvariance', 'linearity', 'symmetry', 'dummy'],
    stochastic: false,
    hasDelta: true,
    build: (o) =>
      integratedGradients(defined({
        nSteps: num(o, 'nSteps'),
        method: str(o, 'method') as QuadratureRule | undefined,
        multiplyByInputs: bool(o, 'multiplyByInputs'),
        returnConvergenceDelta: bool(o, 'returnConvergenceDelta'),
      })),
  },
  saliency: {
    captumName: 'Saliency',
    family: 'primary',
    claims: ['implementationInvariance', 'dummy'],
    stochastic: false,
    hasDelta: false,
    build: (o) => saliency(defined({ abs: bool(o, 'abs') })),
  },
  inputXGradient: {
    captumName: 'InputXGradient',
    family: 'primary',
    claims: ['implementationInvariance', 'dummy'],
    stochastic: false,
    hasDelta: false,
    build: () => inputXGradient(),
  },
  layerIntegratedGradients: {
    captumName: 'LayerIntegratedGradients',
    family: 'layer',
    claims: ['completeness', 'linearity'],
    stochastic: false,
    hasDelta: true,
    build: (o) =>
      layerIntegratedGradients(defined({
        layer: str(o, 'layer') ?? '',
        nSteps: num(o, 'nSteps'),
        method: str(o, 'method') as QuadratureRule | undefined,
        multiplyByInputs: bool(o, 'multiplyByInputs'),
        returnConvergenceDelta: bool(o, 'returnConvergenceDelta'),
      })),
  },
  layerGradientXActivation: {
    captumName: 'LayerGradientXActivation',
    family: 'layer',
    claims: [],
    stochastic: false,
    hasDelta: false,
    build: (o) => layerGradientXActivation(defined({ layer: str(o, 'layer') ?? '', multiplyByInputs: bool(o, 'multiplyByInputs') })),
  },
  layerActivation: {
    captumName: 'LayerActivation',
    family: 'layer',
    claims: [],
    stochastic: false,
    hasDelta: false,
    build: (o) => layerActivation({ layer: str(o, 'layer') ?? '' }),
  },
  featureAblation: {
    captumName: 'FeatureAblation',
    family: 'primary',
    claims: ['dummy'],
    stochastic: false,
    hasDelta: false,
    build: () => featureAblation(),
  },
  featurePermutation: {
    captumName: 'FeaturePermutation',
    family: 'primary',
    claims: ['dummy'],
    stochastic: true,
    hasDelta: false,
    build: () => featurePermutation(),
  },
  occlusion: {
    captumName: 'Occlusion',
    family: 'primary',
    claims: [],
    stochastic: false,
    hasDelta: false,
    build: (o) =>
      occlusion({
        slidingWindowShapes: (o['slidingWindowShapes'] as readonly number[] | readonly (readonly number[])[] | undefined) ?? [],
        ...(o['strides'] !== undefined ? { strides: o['strides'] as number | readonly number[] } : {}),
      }),
  },
  shapleyValues: {
    captumName: 'ShapleyValues',
    family: 'primary',
    claims: ['completeness', 'symmetry', 'dummy', 'linearity'],
    stochastic: false,
    hasDelta: false,
    build: () => shapleyValues(),
  },
  shapleyValueSampling: {
    captumName: 'ShapleyValueSampling',
    family: 'primary',
    claims: ['completeness', 'dummy'],
    stochastic: true,
    hasDelta: false,
    build: (o) => shapleyValueSampling(defined({ nSamples: num(o, 'nSamples') })),
  },
  lime: {
    captumName: 'Lime',
    family: 'primary',
    claims: [],
    stochastic: true,
    hasDelta: false,
    build: (o) =>
      lime(defined({
        nSamples: num(o, 'nSamples'),
        sampler: str(o, 'sampler') as 'bernoulli' | 'enumerate' | 'kernelShap' | undefined,
        returnInputShape: bool(o, 'returnInputShape'),
      })),
  },
  kernelShap: {
    captumName: 'KernelShap',
    family: 'primary',
    claims: [],
    stochastic: true,
    hasDelta: false,
    build: (o) => kernelShap(defined({ nSamples: num(o, 'nSamples'), returnInputShape: bool(o, 'returnInputShape'), exact: bool(o, 'exact'), baselineDistribution: bool(o, 'baselineDistribution') })),
  },
  gradientShap: {
    captumName: 'GradientShap',
    family: 'primary',
    claims: [],
    stochastic: true,
    hasDelta: true,
    build: (o) => gradientShap(defined({ nSamples: num(o, 'nSamples'), stdevs: num(o, 'stdevs'), multiplyByInputs: bool(o, 'multiplyByInputs'), returnConvergenceDelta: bool(o, 'returnConvergenceDelta') })),
  },
  inputBaselineXGradient: {
    captumName: 'InputBaselineXGradient',
    family: 'primary',
    claims: [],
    stochastic: true,
    hasDelta: true,
    build: (o) => inputBaselineXGradient(defined({ multiplyByInputs: bool(o, 'multiplyByInputs'), returnConvergenceDelta: bool(o, 'returnConvergenceDelta') })),
  },
  layerGradientShap: {
    captumName: 'LayerGradientShap',
    family: 'layer',
    claims: [],
    stochastic: true,
    hasDelta: true,
    build: (o) =>
      layerGradientShap(defined({
        layer: str(o, 'layer') ?? '',
        nSamples: num(o, 'nSamples'),
        stdevs: num(o, 'stdevs'),
        multiplyByInputs: bool(o, 'multiplyByInputs'),
        returnConvergenceDelta: bool(o, 'returnConvergenceDelta'),
      })),
  },
  noiseTunnel: {
    captumName: 'NoiseTunnel',
    family: 'primary',
    claims: [],
    stochastic: true,
    hasDelta: true,
    /** `wrapped`: the wrapped method's METHODS key; its options are the other entries (NoiseTunnel's own: ntType, ntSamples, ntSamplesBatchSize, stdevs, drawBaselineFromDistrib). */
    build: (o) => {
      const name = str(o, 'wrapped') ?? ''
      const inner = METHODS[name]
      if (inner === undefined || name === 'noiseTunnel') throw new ClarusError(invalidSpec([{ path: ['wrapped'], message: `NoiseTunnel wraps a method of METHODS: got ${JSON.stringify(name)}` }]))
      return noiseTunnel(inner.build(o), defined({
        ntType: str(o, 'ntType') as SampleStatistic | undefined,
        nSamples: num(o, 'ntSamples'),
        nSamplesBatchSize: num(o, 'ntSamplesBatchSize'),
        stdevs: num(o, 'stdevs'),
        drawBaselineFromDistrib: bool(o, 'drawBaselineFromDistrib'),
      }))
    },
  },
}
