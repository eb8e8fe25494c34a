// Small options for every METHODS entry on the reference mlp (12 features, 3 outputs, layers
// /fc1/Gemm_output_0 and /relu1/Relu_output_0), and the call data some methods need beyond a target.
import { float32 } from '../../src/index.js'

export const MLP_METHOD_OPTIONS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  integratedGradients: { nSteps: 8, returnConvergenceDelta: true },
  saliency: {},
  inputXGradient: {},
  featureAblation: {},
  featurePermutation: {},
  shapleyValues: {},
  occlusion: { slidingWindowShapes: [3], strides: 2 },
  shapleyValueSampling: { nSamples: 3 },
  lime: { nSamples: 40 },
  kernelShap: { nSamples: 40 },
  layerIntegratedGradients: { layer: '/relu1/Relu_output_0', nSteps: 8 },
  layerGradientXActivation: { layer: '/relu1/Relu_output_0' },
  layerActivation: { layer: '/relu1/Relu_output_0' },
  internalInfluence: { layer: '/relu1/Relu_output_0', nSteps: 6 },
  layerConductance: { layer: '/relu1/Relu_output_0', nSteps: 6, returnConvergenceDelta: true },
  layerGradCam: { layer: '/relu1/Relu_output_0' },
  neuronGradient: { layer: '/fc1/Gemm_output_0', neuronSelector: 3 },
  neuronIntegratedGradients: { layer: '/relu1/Relu_output_0', neuronSelector: [2], nSteps: 6 },
  neuronConductance: { layer: '/relu1/Relu_output_0', neuronSelector: 3, nSteps: 6 },
  gradientShap: { nSamples: 4, stdevs: 0.1, returnConvergenceDelta: true },
  inputBaselineXGradient: { returnConvergenceDelta: true },
  layerGradientShap: { layer: '/relu1/Relu_output_0', nSamples: 4 },
  layerFeatureAblation: { layer: '/relu1/Relu_output_0' },
  layerFeaturePermutation: { layer: '/relu1/Relu_output_0' },
  neuronFeatureAblation: { layer: '/fc1/Gemm_output_0', neuronSelector: 3 },
  neuronGradientShap: { layer: '/relu1/Relu_output_0', neuronSelector: 2, nSamples: 4 },
  noiseTunnel: { wrapped: 'integratedGradients', nSteps: 4, ntSamples: 3, stdevs: 0.2, returnConvergenceDelta: true },
  deepLift: { returnConvergenceDelta: true },
  deepLiftShap: { returnConvergenceDelta: true },
  layerDeepLift: { layer: '/relu1/Relu_output_0', returnConvergenceDelta: true },
  layerDeepLiftShap: { layer: '/relu1/Relu_output_0' },
  neuronDeepLift: { layer: '/fc1/Gemm_output_0', neuronSelector: 3 },
  neuronDeepLiftShap: { layer: '/relu1/Relu_output_0', neuronSelector: 2 },
  neuronGuidedBackprop: { layer: '/fc1/Gemm_output_0', neuronSelector: 3 },
  neuronDeconvolution: { layer: '/fc1/Gemm_output_0', neuronSelector: 3 },
  guidedGradCam: { layer: '/relu1/Relu_output_0' },
  lrp: { returnConvergenceDelta: true },
  layerLrp: { layer: '/fc2/Gemm_output_0', returnConvergenceDelta: true },
}

/** Call data a method needs beyond the target: GradientShap's baseline distribution. */
export const distribution = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i) / 2))
export const MLP_CALL_DATA: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  gradientShap: { baselines: distribution },
  layerGradientShap: { baselines: distribution },
  neuronGradientShap: { baselines: distribution },
  deepLiftShap: { baselines: distribution },
  layerDeepLiftShap: { baselines: distribution },
  neuronDeepLiftShap: { baselines: distribution },
}
