/**
 * Layer-wise Relevance Propagation (Bach et al. 2015, PLoS ONE 10(7); Montavon et al. 2019) and
 * LayerLRP. Relevance starts as the target output F(x) and is redistributed backwards, node by
 * node, by the rules of a rule set ({@link LRP_CAPTUM} by default: Captum's ε-rule, ε 1e-9, on
 * linear, convolution, pooling and batch-norm nodes; ReLU/Tanh/Dropout pass relevance through).
 * clarus propagates a modified gradient g with R = x ⊙ g, so LRP is the rule set's gradient times
 * the input: R_x = x ⊙ g_x. Any rule set can be given (Zennit's composites {@link EPSILON_PLUS},
 * {@link EPSILON_ALPHA2_BETA1}; {@link ATTN_LRP} for transformers), and, unlike Captum, the rules
 * follow op types, so functional activations, reused modules and residual blocks are covered.
 *
 * Delta (Captum's sign, captum-semantics §7.2): δ = F(x) − Σ relevance per row.
 *
 * Pipeline: `grad(ruleSet) ∘ multiplyByInputs [∘ relevanceDelta]`; LayerLRP differentiates at the
 * layer instead: `grad(layer, ruleSet) ∘ multiplyByInputs [∘ relevanceDelta]`.
 *
 * Input-layer rules (`flat`, `wSquare`, `zBox`; Montavon et al. 2019) give relevance to inputs
 * whatever their value, zero included, which x ⊙ g cannot carry: under a rule set that has one
 * ({@link givesRelevanceAtInputs}) the backend returns the relevance at the differentiated tensors
 * itself, and the pipeline is `grad(ruleSet) [∘ relevanceDelta]`. Such a rule must sit on a node
 * that reads the model input (LRP) or the named layer (LayerLRP) directly. Both backends (tfjs:
 * the inputs, or one layer alone, per call).
 *
 * Captum: `LRP(model).attribute(inputs, target, additional_forward_args, return_convergence_delta)`;
 * `LayerLRP(model, layer).attribute(inputs, target, additional_forward_args,
 * return_convergence_delta, attribute_to_layer_input)` (name the layer's input tensor for the
 * latter).
 *
 * LRP is patented by its inventors (free for personal and scientific use, per the LXT project's
 * statement).
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { givesRelevanceAtInputs, LRP_CAPTUM, RuleSetCodec, type RuleSet } from '../core/ruleSet.js'
import { stage } from '../dsl/build.js'
import { LayerSelection } from '../dsl/layers.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const LrpOptions = t.readonly(t.partial({ ruleSet: RuleSetCodec, returnConvergenceDelta: t.boolean }))
export type LrpOptions = t.TypeOf<typeof LrpOptions>

/** R = x ⊙ g, unless the backend returns relevance itself (input-layer rules). */
const timesInput = (rs: RuleSet) => (givesRelevanceAtInputs(rs) ? [] : [stage.multiplyByInputs()])

/** The LRP pipeline. */
export const lrp = (o: LrpOptions = {}): Pipeline =>
  pipeline('LRP',
    stage.grad({ ruleSet: o.ruleSet ?? LRP_CAPTUM }),
    ...timesInput(o.ruleSet ?? LRP_CAPTUM),
    ...(o.returnConvergenceDelta === true ? [stage.relevanceDelta()] : []))

export const LayerLrpOptions = t.readonly(t.intersection([t.type({ layer: LayerSelection }), t.partial({ ruleSet: RuleSetCodec, returnConvergenceDelta: t.boolean })]))
export type LayerLrpOptions = t.TypeOf<typeof LayerLrpOptions>

/** The LayerLRP pipeline: relevance at a layer tensor (or each of a list of them). */
export const layerLrp = (o: LayerLrpOptions): Pipeline =>
  pipeline('LayerLRP',
    stage.grad({ layer: o.layer, ruleSet: o.ruleSet ?? LRP_CAPTUM }),
    ...timesInput(o.ruleSet ?? LRP_CAPTUM),
    ...(o.returnConvergenceDelta === true ? [stage.relevanceDelta()] : []))
