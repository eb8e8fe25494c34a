/**
 * clarus — explain neural-network predictions in TypeScript.
 *
 * The public API of the core package: methods as pipelines, the interpreter, Captum-style classes,
 * targets, errors and host tensors. Backends live in subpaths: `clarus/tfjs`, `clarus/onnx`.
 *
 * @since 0.1.0
 */

// host tensors
export { float32, int32, int64, sizeOf, toNested, toFloat64 } from './core/tensor.js'
export type { DType, HostTensor, DataOf } from './core/tensor.js'
export { isHostTensor, HostTensorCodec } from './core/codecs.js'

// errors
export { ClarusError, isAttributionError } from './core/errors.js'
export type { AttributionError, ErrorTag, UnsupportedNode } from './core/errors.js'
export type { InvalidSpec, ShapeMismatch, BadTarget, BadBaseline, DTypeMismatch, NonFinite, EmptyInput, MissingInput, UnknownTensor, NotReachable, UnsupportedOps, Unsupported, BackendFailure, Cancelled, BadModel, BadPipeline } from './core/errors.js'

// the backend contract
export type { Backend, Model, ModelSignature, TensorInfo, Selector, Wrt, WrtEntry, VjpOf, ForwardOptions, ForwardResult, VjpOptions, VjpResult } from './core/backend.js'
export { isWrtList } from './core/backend.js'
export type { LayerInfo, Layout } from './core/backend.js'

// layer discovery and resizing layer maps
export { findLayers, layersOf, layerInfo, layerInputOf } from './api/layers.js'
export type { LayerQuery, LayerInputOption, NeuronInputOption, HasSignature } from './api/layers.js'
export { interpolateAttribution, LayerAttribution } from './api/interpolateAttribution.js'
export type { InterpolateMode, InterpolateOptions } from './api/interpolateAttribution.js'
export { adaptiveIntegratedGradients, AdaptiveIgOptions, adaptiveIgDefaults } from './api/adaptiveIg.js'
export type { AdaptiveIgCall, AdaptiveIgResult } from './api/adaptiveIg.js'

// targets and randomness
export { Target, seedOf } from './core/target.js'
export type { TargetFn } from './core/target.js'
// ONNX outputs and targets (issue 21): target expressions as data, nearest-name suggestions
export { TargetExpr, TargetStep, isTargetExpr, evalTargetExpr, targetExprSeed } from './core/targetExpr.js'
export { nearbyNames, closestNames } from './core/names.js'
export { keyOf, foldIn, uniforms, normals, permutation } from './core/random.js'
export type { Key } from './core/random.js'

// the DSL
export { pipeline, decodePipeline, checkPipeline, describe, compositionOf, PipelineCodec, StageSpecCodec } from './dsl/spec.js'
export type { Pipeline, StageSpec, SpecOf, StageDefs } from './dsl/spec.js'
export type { CallDatum } from './dsl/abstract.js'
export { stage } from './dsl/build.js'
export type { StageBuilders, ApplySpec } from './dsl/build.js'
export { runPipeline, DEFAULT_MEMORY_BUDGET } from './dsl/run.js'
export type { RunRequest, AttributionResult, AttributionMeta } from './dsl/run.js'
export type { Progress, ChunkPolicy, CallData, CallDataTypes, CallDataKey } from './dsl/flow.js'
export { LayerSelection } from './dsl/layers.js'
export { MAX_STEPS, QuadratureRule, quadrature, legendreGauss } from './dsl/quadratureRules.js'
export type { Quadrature } from './dsl/quadratureRules.js'
export { PathSchedule } from './dsl/stages/interpolate.js'

// methods as pipelines
export { integratedGradients, IntegratedGradientsOptions } from './algorithms/integratedGradients.js'
export { saliency, SaliencyOptions } from './algorithms/saliency.js'
export { inputXGradient, InputXGradientOptions } from './algorithms/inputXGradient.js'
export { layerIntegratedGradients, LayerIntegratedGradientsOptions } from './algorithms/layerIntegratedGradients.js'
export { layerGradientXActivation, LayerGradientXActivationOptions } from './algorithms/layerGradientXActivation.js'
export { internalInfluence, InternalInfluenceOptions } from './algorithms/internalInfluence.js'
export { layerConductance, LayerConductanceOptions } from './algorithms/layerConductance.js'
export { layerGradCam, LayerGradCamOptions } from './algorithms/layerGradCam.js'
export { ChannelLayout, GradCamUpsample } from './algorithms/layerGradCam.js'
export { neuronConductance, NeuronConductanceOptions, neuronGradient, NeuronGradientOptions, neuronIntegratedGradients, NeuronIntegratedGradientsOptions, NeuronSelector } from './algorithms/neuron.js'
export { NeuronRef, PySlice, NeuronMask, describeNeuron } from './dsl/neuron.js'
export type { NeuronFn, NeuronIndexEntry } from './dsl/neuron.js'
export type { NeuronSelectorArg } from './api/neuronSelector.js'
export { layerActivation, LayerActivationOptions } from './algorithms/layerActivation.js'
export { featureAblation, FeatureAblationOptions } from './algorithms/featureAblation.js'
export { featurePermutation, FeaturePermutationOptions } from './algorithms/featurePermutation.js'
export { occlusion, OcclusionOptions } from './algorithms/occlusion.js'
export { shapleyValues, ShapleyValuesOptions } from './algorithms/shapleyValues.js'
export { shapleyValueSampling, ShapleyValueSamplingOptions } from './algorithms/shapleyValueSampling.js'
export { lime, LimeOptions } from './algorithms/lime.js'
export { kernelShap, KernelShapOptions } from './algorithms/kernelShap.js'
export { noiseTunnel, NoiseTunnelOptions, NoiseTunnelMethodOptions } from './algorithms/noiseTunnel.js'
export { gradientShap, GradientShapOptions, inputBaselineXGradient, InputBaselineXGradientOptions } from './algorithms/gradientShap.js'
export { layerGradientShap, LayerGradientShapOptions, layerInputBaselineXGradient } from './algorithms/layerGradientShap.js'
export { layerFeatureAblation, LayerFeatureAblationOptions } from './algorithms/layerFeatureAblation.js'
export { layerFeaturePermutation, LayerFeaturePermutationOptions } from './algorithms/layerFeaturePermutation.js'
export { neuronFeatureAblation, NeuronFeatureAblationOptions } from './algorithms/neuronFeatureAblation.js'
export { neuronGradientShap, NeuronGradientShapOptions } from './algorithms/neuronGradientShap.js'
export { deepLift, DeepLiftOptions, deepLiftShap, DeepLiftShapOptions } from './algorithms/deepLift.js'
export { layerDeepLift, LayerDeepLiftOptions, layerDeepLiftShap, LayerDeepLiftShapOptions } from './algorithms/layerDeepLift.js'
export { neuronDeepLift, NeuronDeepLiftOptions, neuronDeepLiftShap, NeuronDeepLiftShapOptions } from './algorithms/neuronDeepLift.js'
export { guidedBackprop, GuidedBackpropOptions, deconvolution, DeconvolutionOptions, neuronGuidedBackprop, NeuronGuidedBackpropOptions, neuronDeconvolution, NeuronDeconvolutionOptions } from './algorithms/guidedBackprop.js'
export { guidedGradCam, GuidedGradCamOptions } from './algorithms/guidedGradCam.js'
export { lrp, LrpOptions, layerLrp, LayerLrpOptions } from './algorithms/lrp.js'
export { InterpretableModel } from './dsl/perturbation/linearModels.js'
export { Sampler, Similarity, Design } from './dsl/perturbation/designs.js'
export { FeatureSpec } from './dsl/perturbation/layout.js'
export { METHODS } from './algorithms/registry.js'
export type { Axiom, MethodInfo, Family } from './algorithms/registry.js'

// checking the axioms a method claims, on the user's own model
export { verify, formatVerifyReport, verifyReportSection, combineModels, withConstantFeature, withConstantNeuron, withSwappedFeatures, symmetrized, reimplemented } from './verify/index.js'
export type { VerifyMethod, VerifyOptions, VerifyReport, AxiomCheck, AxiomStatus, Counterexample, ExplainFn, ModelTerm } from './verify/index.js'

// running methods
export { attribute, CallOptionsCodec } from './api/attribute.js'
export type { CallOptions } from './api/attribute.js'
export type { TensorLike, Baseline } from './api/callData.js'
export { IntegratedGradients, Saliency, InputXGradient, LayerIntegratedGradients, LayerGradientXActivation, LayerActivation, LayerGradCam, InternalInfluence, NeuronGradient, NeuronIntegratedGradients, NeuronConductance, GradientShap, InputBaselineXGradient, LayerGradientShap } from './api/captum.js'
export { LayerConductance } from './api/captum.js'
export { NeuronGradientShap } from './api/captum.js'
export type { NeuronGradientShapCallOptions } from './api/captum.js'
export type { Mirrored, LayerResult, IntegratedGradientsCallOptions, SaliencyCallOptions, GradientShapCallOptions, NeuronCallOptions, LayerGradCamCallOptions } from './api/captum.js'
export { NoiseTunnel } from './api/noiseTunnel.js'
export type { NoiseTunnelCallOptions, NoiseTunnelResult } from './api/noiseTunnel.js'
export { DeepLift, DeepLiftShap, LayerDeepLift, LayerDeepLiftShap, NeuronDeepLift, NeuronDeepLiftShap, GuidedBackprop, Deconvolution, NeuronGuidedBackprop, NeuronDeconvolution, GuidedGradCam } from './api/modifiedBackprop.js'
export type { DeepLiftConstructorOptions, RuleSetConstructorOptions, DeepLiftCallOptions, NeuronDeepLiftCallOptions, GuidedGradCamCallOptions, CustomAttributionOption } from './api/modifiedBackprop.js'
export { LRP, LayerLRP } from './api/lrp.js'
export type { LrpConstructorOptions, LrpCallOptions } from './api/lrp.js'
export type { Explainer, Inputs } from './api/explainer.js'
export { RuleSetCodec, Rule, RuleEntry, Match, OpClass, OP_CLASSES, PASS_THROUGH, ruleFor, ruleSetKey, describeRuleSet, DEEPLIFT, GUIDED_BACKPROP, DECONVOLUTION } from './core/ruleSet.js'
export { LRP_CAPTUM, EPSILON_PLUS, EPSILON_ALPHA2_BETA1, ATTN_LRP, EPSILON_GAMMA_BOX, givesRelevanceAtInputs } from './core/ruleSet.js'
export type { RuleSet, RuleName, NodeRef } from './core/ruleSet.js'
export { attributeTokens, TokenAttributionOptions } from './api/tokens.js'
export type { TokenExplanation, TokenAttributions, TokenCallOptions } from './api/tokens.js'
export { FeatureAblation, FeaturePermutation, Occlusion, ShapleyValues, ShapleyValueSampling, Lime, LimeBase, KernelShap } from './api/perturbation.js'
export type { OcclusionCallOptions, ShapleyValueSamplingCallOptions, SurrogateCallOptions, KernelShapCallOptions, LimeConfig, LimeBaseConfig } from './api/perturbation.js'
export { LayerFeatureAblation, LayerFeaturePermutation, NeuronFeatureAblation } from './api/perturbation.js'
export type { LayerFeatureAblationCallOptions, NeuronFeatureAblationCallOptions } from './api/perturbation.js'
export { CustomRef } from './dsl/perturbation/plugins.js'
export type { Plugins, SamplerFn, SimilarityFn, InterpretableModelFn, SimilarityInput, AttributionFn, AttributionRequest } from './dsl/perturbation/plugins.js'

// metrics: is this explanation right?
export { METRICS } from './metrics/registry.js'
export type { MetricInfo, MetricCategory, MetricName } from './metrics/registry.js'
export { evaluate } from './api/evaluate.js'
export type { MetricResult } from './api/evaluate.js'
export { infidelity, InfidelityOptions, infidelityDefaults } from './metrics/faithfulness/infidelity.js'
export type { Explained } from './metrics/faithfulness/infidelity.js'
export { sensitivityMax, SensitivityMaxOptions, sensitivityMaxDefaults } from './metrics/robustness/sensitivityMax.js'
export { sparseness, SparsenessOptions } from './metrics/complexity/sparseness.js'
export { complexity, ComplexityOptions } from './metrics/complexity/complexity.js'
export { completeness, CompletenessOptions } from './metrics/axiomatic/completeness.js'
export { modelParameterRandomisation, ModelParameterRandomisationOptions, modelParameterRandomisationDefaults } from './metrics/randomisation/modelParameterRandomisation.js'
export type { ModelVariants, ModelParameterRandomisationResult } from './metrics/randomisation/modelParameterRandomisation.js'
export { randomLogit, RandomLogitOptions, randomLogitDefaults } from './metrics/randomisation/randomLogit.js'
export type { RandomLogitResult } from './metrics/randomisation/randomLogit.js'
export { SimilarityName } from './metrics/randomisation/similarity.js'
export { deletion, insertion, deletionCurve, insertionCurve, FlipCurveOptions, flipCurveDefaults } from './metrics/faithfulness/flipCurves.js'
export { monotonicity, MonotonicityOptions } from './metrics/faithfulness/monotonicity.js'
export { faithfulnessCorrelation, FaithfulnessCorrelationOptions, faithfulnessCorrelationDefaults } from './metrics/faithfulness/faithfulnessCorrelation.js'
export { maxSensitivity, avgSensitivity, localLipschitzEstimate, QuantusSensitivityOptions, quantusSensitivityDefaults, localLipschitzDefaults } from './metrics/robustness/quantusSensitivity.js'
export { InfidelityPerturbation } from './dsl/stages/infidelityPerturb.js'
export { SensitivityPerturbation } from './dsl/stages/sensitivityPerturb.js'
export { NormOrd } from './dsl/stages/sensitivityScore.js'
export type { PerturbationFn, PerturbationRequest } from './dsl/perturbation/plugins.js'

// robustness: adversarial attacks (FGSM, PGD) and how a model holds up under them
export { fgsm, FgsmOptions, fgsmDefaults } from './robust/fgsm.js'
export type { AttackResult } from './robust/fgsm.js'
export { pgd, PgdOptions, PgdNorm, pgdDefaults } from './robust/pgd.js'
export type { PgdResult } from './robust/pgd.js'
export { Loss, LossOption, LossReduction, defaultLoss } from './robust/loss.js'
export type { LossGradientFn } from './robust/loss.js'
export { Labels, MaskOption } from './robust/prepare.js'
export type { AttackTensors } from './robust/prepare.js'
export { Attack } from './robust/attack.js'
export type { AttackFn, AttackArgs } from './robust/attack.js'
export { minParamPerturbation, MinParamPerturbationOptions, minParamPerturbationDefaults } from './robust/minParamPerturbation.js'
export type { MinParamPerturbationResult, CorrectFn } from './robust/minParamPerturbation.js'
export { evaluateAttacks, summarizeAttacks, compareAttacks, AttackComparatorOptions, NamedAttack, BuiltinMetric, attackComparatorDefaults } from './robust/attackComparator.js'
export type { AttackEvaluation, AttackStats, AttackSummary, AttackBatch, MetricFn, MetricValues } from './robust/attackComparator.js'

// concepts (TCAV): CAVs learned on layer activations, TCAV scores, significance against random concepts
export { concept, setKey, CavCodec, CavsCodec, cavsToJson, cavsFromJson, ClassifierSpec, classifierOf, meanDifference, linearClassifier, linearClassifierDefaults, tcav, computeCavs, TcavOptions, tcavDefaults, tcavSignificance, SignificanceOptions, significanceDefaults, tTest, TCAV } from './concept/index.js'
export type { Concept, ConceptData, ExperimentalSet, Cav, Cavs, CavJson, ClassifierFn, ConceptActivations, TrainedClassifier, TcavCall, TcavResult, TcavScores, SignificanceCall, SignificanceResult, LayerSignificance, TTestResult, TcavConstructorOptions } from './concept/index.js'

// influence (TracIn): which training examples made the model predict this, from parameter gradients over checkpoints
export { tracInCP, tracInCPFast, tracInCPFastRandProj, TracInCPOptions, TracInCPFastOptions, TracInCPFastRandProjOptions, InfluenceOptions, TopKOptions } from './influence/tracIn.js'
export type { Checkpoint, InfluenceData, KMostInfluential, TracIn, TracInRandProj } from './influence/tracIn.js'
export { InfluenceLoss } from './influence/loss.js'
export type { ParameterInfo, PerExampleGrad } from './core/backend.js'

// llm: which parts of a prompt made a causal LM produce a text (LLMAttribution, perturbation route)
export type { Tokenizer, LLMAttributionResult, Offset } from './llm/types.js'
export { loadTokenizer, loadTokenizerFile } from './llm/tokenizer.js'
export { textTokenInput, textTemplateInput, textSegmentInput, TextTokenInputOptions, TextTemplateInputOptions, TextSegmentInputOptions, SegmentUnit, TokenRef } from './llm/inputs.js'
export type { InterpretableInput } from './llm/inputs.js'
export { imageMaskInput, ImageMaskInputOptions } from './llm/imageMaskInput.js'
export type { ImageMaskInput } from './llm/imageMaskInput.js'
export { scoreTargets, scorePrompts, generateGreedy } from './llm/causalLm.js'
export type { ScoringOptions, GenerateOptions, PassCounter, Prompt, PromptInputs } from './llm/causalLm.js'
export { llmAttribution, llmAttributionWithInfo, LLMAttribution, LLMAttributionOptions, LLMPerturbationMethod, GenArgs } from './llm/llmAttribution.js'
export type { LLMRunInfo } from './llm/llmAttribution.js'
export { prettyTokens } from './llm/prettyTokens.js'
export { llmTokenAttrSvg, llmSeqAttrSvg, llmAttributionHtml } from './llm/render.js'

// llm, gradient route: LLMGradientAttribution (LayerIntegratedGradients, LayerGradientXActivation, LayerGradientShap at the embedding)
export { llmGradientAttribution, LLMGradientAttribution, LLMGradientMethod, LLMGradientOptions } from './llm/llmGradient.js'
export type { LLMGradientResult } from './llm/llmGradient.js'
export type { PassCount } from './llm/llmGradientCore.js'
export { transformersTokenizer } from './llm/transformersTokenizer.js'
export type { TransformersTokenizer } from './llm/transformersTokenizer.js'
