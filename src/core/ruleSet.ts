/**
 * Modified-backprop rule sets as values (DeepLift, guided backprop, deconvolution, LRP). A rule set
 * is an ordered list of `match → rule` entries, checked first to last against every node on the
 * gradient path; the first entry that matches gives the node its rule. A match names an op type (or
 * a class of op types), a node, or a named tensor (the node that computes it), so every op instance
 * gets its rule whatever way the model was written: a functional activation, a module used twice, a
 * fused tfjs kernel. Composites (Zennit's idea) are named rule sets; users build their own.
 *
 * A node that no entry matches keeps its ordinary gradient only when that gradient is exact for
 * every rule family ({@link isPassThrough}: affine and structural ops such as Add, Reshape, Concat,
 * pooling by averaging). Any other unmatched node on the gradient path is an error that lists every
 * such node before anything runs — never a silent fallback to the plain gradient — unless the rule
 * set says `unmatched: 'gradient'`.
 *
 * Rule sets are JSON: they decode with {@link RuleSetCodec}, survive a round trip, and print with
 * {@link describeRuleSet}. The backends interpret them (ONNX: the backward-graph builder emits the
 * rule's standard-op formulation for a matched node; tfjs: scoped gradient overrides).
 *
 * @category core
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveNumber } from './codecs.js'

/** Classes of op types a match can name instead of listing them. */
export const OpClass = t.keyof({ linear: null, activation: null, pooling: null, normalisation: null, elementwise: null }, 'OpClass')
export type OpClass = t.TypeOf<typeof OpClass>

/**
 * Op types in each class, ONNX names and tfjs kernel names side by side (a backend ignores the
 * names that are not its own). Fused tfjs kernels belong to the class of their main op: a
 * `_FusedMatMul` with a ReLU is `linear` and carries its activation (a backend applies the
 * activation's rule to the fused activation).
 */
export const OP_CLASSES: Readonly<Record<OpClass, readonly string[]>> = {
  linear: ['Gemm', 'MatMul', 'Conv', 'ConvTranspose', 'BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'Conv2DBackpropInput'],
  activation: ['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Gelu', 'HardSigmoid', 'HardSwish', 'PRelu', 'Relu6', 'Prelu'],
  pooling: ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'AvgPool'],
  normalisation: ['BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'FusedBatchNorm', 'FusedBatchNormV3'],
  elementwise: ['Add', 'Sub', 'Mul', 'Div', 'AddV2', 'RealDiv', 'Sum'],
}

/**
 * Which nodes an entry applies to:
 * - `opType`: an op type (ONNX op type or tfjs kernel name), or any of a list;
 * - `opClass`: every op type of a class ({@link OP_CLASSES});
 * - `node`: the node with this name (ONNX node name, tfjs layer or GraphModel node name);
 * - `layer`: the node that computes this named tensor (a layer as the layer methods name it);
 * - `inputLayer`: every node that reads a differentiated tensor directly (the model input for LRP,
 *   the named layer for LayerLRP): the first layer, where the input-layer rules (zBox, flat,
 *   wSquare) belong. On tfjs, layout-only kernels (Transpose, Reshape, Identity) on such a tensor
 *   are no layer: their consumers count as reading it directly.
 */
export const Match = t.union(
  [
    t.readonly(t.type({ opType: t.union([t.string, t.readonlyArray(t.string)]) })),
    t.readonly(t.type({ opClass: OpClass })),
    t.readonly(t.type({ node: t.string })),
    t.readonly(t.type({ layer: t.string })),
    t.readonly(t.type({ inputLayer: t.literal(true) })),
  ],
  'Match',
)
export type Match = t.TypeOf<typeof Match>

const plain = <N extends string>(name: N) => t.readonly(t.type({ rule: t.literal(name) }))

/**
 * The closed vocabulary of rules. DeepLift: `rescale` (Shrikumar et al. 2017; on Softmax and
 * MaxPool, Captum's rules for those ops), `revealCancel`. Guided backprop: `guided`; deconvolution:
 * `deconv`. LRP (Bach et al. 2015; Montavon et al. 2019): `epsilon` (default ε 1e-9, Captum's),
 * `gamma` (default γ 0.25), `alphaBeta` (α − β = 1; α 1, β 0 by default, i.e. α1β0), `zPlus`,
 * `zBox` (input-layer rule for inputs bounded by [low, high]), `flat`, `wSquare`, `identity`
 * (relevance passes through unchanged); `uniform` (relevance of a product of two variable factors
 * split equally between them, AttnLRP's rule for bilinear MatMul); `gradient` (the ordinary
 * gradient, stated explicitly).
 */
export const Rule = t.union(
  [
    plain('rescale'),
    plain('revealCancel'),
    plain('guided'),
    plain('deconv'),
    t.readonly(t.intersection([t.type({ rule: t.literal('epsilon') }), t.partial({ epsilon: NonNegativeNumber })])),
    t.readonly(t.intersection([t.type({ rule: t.literal('gamma') }), t.partial({ gamma: NonNegativeNumber })])),
    t.readonly(t.intersection([t.type({ rule: t.literal('alphaBeta') }), t.partial({ alpha: PositiveNumber, beta: NonNegativeNumber })])),
    plain('zPlus'),
    t.readonly(t.type({ rule: t.literal('zBox'), low: t.number, high: t.number })),
    plain('flat'),
    plain('wSquare'),
    plain('identity'),
    plain('uniform'),
    plain('gradient'),
  ],
  'Rule',
)
export type Rule = t.TypeOf<typeof Rule>
export type RuleName = Rule['rule']

export const RuleEntry = t.readonly(t.type({ match: Match, rule: Rule }), 'RuleEntry')
export type RuleEntry = t.TypeOf<typeof RuleEntry>

/**
 * A named rule set: `entries` checked in order; `unmatched` says what an unmatched node that is not
 * a pass-through op gets: `'error'` (default: listed in an `UnsupportedOps` error before anything
 * runs) or `'gradient'` (the ordinary gradient, on purpose).
 */
export const RuleSetCodec = t.readonly(
  t.intersection([
    t.type({ name: t.string, entries: t.readonlyArray(RuleEntry) }),
    t.partial({ unmatched: t.keyof({ error: null, gradient: null }) }),
  ]),
  'RuleSet',
)
export type RuleSet = t.TypeOf<typeof RuleSetCodec>

/**
 * Op types whose ordinary gradient is exact under every rule family (DeepLift's multipliers and
 * LRP's relevance flow through them unchanged in gradient form): affine maps with constant
 * coefficients and structural ops. A node of these types that no entry matches keeps its
 * ordinary gradient. Linear layers (Gemm, Conv, …) are pass-through too; LRP composites give them
 * their rule explicitly. `Mul`/`Div` count only when one operand is constant (a backend checks it).
 */
export const PASS_THROUGH: ReadonlySet<string> = new Set([
  // ONNX
  'Identity', 'Dropout', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'Expand', 'Pad',
  'Add', 'Sub', 'Neg', 'Sum', 'Mul', 'Div', 'Cast', 'ReduceSum', 'ReduceMean', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization',
  'Gemm', 'MatMul', 'Conv', 'ConvTranspose',
  // tfjs kernels
  'Reshape', 'ExpandDims', 'Pack', 'Unpack', 'ConcatV2', 'StridedSlice', 'GatherV2', 'Tile', 'PadV2', 'MirrorPad', 'AddN', 'AddV2', 'RealDiv',
  'Mean', 'AvgPool', 'FusedBatchNorm', 'FusedBatchNormV3', 'BatchMatMul', 'Conv2D', 'DepthwiseConv2dNative', 'Conv2DBackpropInput', 'BiasAdd',
])

/** What a backend knows of a node when matching it. */
export interface NodeRef {
  readonly opType: string
  readonly name: string
  readonly outputs: readonly string[]
  /** True when the node reads a differentiated tensor directly (for `inputLayer` matches). */
  readonly readsInput?: boolean
}

const matches = (m: Match, n: NodeRef): boolean => {
  if ('opType' in m) return typeof m.opType === 'string' ? m.opType === n.opType : m.opType.includes(n.opType)
  if ('opClass' in m) return OP_CLASSES[m.opClass].includes(n.opType)
  if ('node' in m) return m.node === n.name
  if ('inputLayer' in m) return n.readsInput === true
  return n.outputs.includes(m.layer)
}

/**
 * The rule a node gets under `rs`: the first matching entry's rule; else `'passThrough'` for a
 * {@link PASS_THROUGH} op (or any op when `unmatched: 'gradient'`); else `'unmatched'`, which a
 * backend reports with every other unmatched node on the gradient path.
 */
export const ruleFor = (rs: RuleSet, n: NodeRef): Rule | 'passThrough' | 'unmatched' => {
  const hit = rs.entries.find((e) => matches(e.match, n))
  if (hit !== undefined) return hit.rule
  return PASS_THROUGH.has(n.opType) || rs.unmatched === 'gradient' ? 'passThrough' : 'unmatched'
}

/**
 * The input-layer LRP rules: they give relevance to inputs whatever their value (zero included),
 * which R = x ⊙ g cannot carry, so a backend returns relevance itself for them (below).
 */
export const INPUT_LAYER_RULES: ReadonlySet<RuleName> = new Set<RuleName>(['flat', 'wSquare', 'zBox'])

/**
 * True when the rule set has an input-layer rule (flat, wSquare, zBox). A vjp under such a rule set
 * returns, for each differentiated tensor x, its *relevance* x ⊙ g (plus what the input-layer rules
 * give it directly) instead of the gradient g; the LRP pipelines then leave out `multiplyByInputs`.
 * The input-layer rules must read a differentiated tensor directly (the model input for LRP, the
 * named layer for LayerLRP); a backend reports them anywhere else.
 */
export const givesRelevanceAtInputs = (rs: RuleSet): boolean => rs.entries.some((e) => INPUT_LAYER_RULES.has(e.rule.rule))

/** A stable key for caching what a backend builds for a rule set (sessions, gradient configs). */
export const ruleSetKey = (rs: RuleSet): string => JSON.stringify(rs)

const showMatch = (m: Match): string =>
  'opType' in m ? (typeof m.opType === 'string' ? m.opType : m.opType.join(' | '))
    : 'opClass' in m ? `<${m.opClass}>`
      : 'node' in m ? `node ${JSON.stringify(m.node)}`
        : 'inputLayer' in m ? 'the input layer'
          : `layer ${JSON.stringify(m.layer)}`

const showRule = (r: Rule): string => {
  const params = Object.entries(r).filter(([k]) => k !== 'rule').map(([k, v]) => `${k} ${String(v)}`)
  return params.length === 0 ? r.rule : `${r.rule}(${params.join(', ')})`
}

/** The rule set as readable lines: its name, one `match → rule` per entry, and the unmatched policy. */
export const describeRuleSet = (rs: RuleSet): string =>
  [
    `rule set ${JSON.stringify(rs.name)}`,
    ...rs.entries.map((e, i) => `  ${i + 1}. ${showMatch(e.match)} → ${showRule(e.rule)}`),
    `  otherwise: ${rs.unmatched === 'gradient' ? 'ordinary gradient' : 'ordinary gradient for affine and structural ops, an error for any other op'}`,
  ].join('\n')

/** Captum's DeepLift: Rescale on every nonlinearity, Captum's rules on Softmax and MaxPool. */
export const DEEPLIFT: RuleSet = {
  name: 'DeepLift',
  entries: [
    { match: { opType: ['Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softplus', 'Relu6', 'Prelu', 'PRelu', 'Selu'] }, rule: { rule: 'rescale' } },
    { match: { opType: ['Softmax', 'MaxPool'] }, rule: { rule: 'rescale' } },
  ],
}

/**
 * Guided backpropagation (Springenberg et al. 2014): only positive gradient passes a ReLU, where its
 * input is positive. Other ops keep their gradient, as in Captum (which overrides ReLU modules only).
 */
export const GUIDED_BACKPROP: RuleSet = { name: 'GuidedBackprop', entries: [{ match: { opType: ['Relu'] }, rule: { rule: 'guided' } }], unmatched: 'gradient' }

/** Deconvolution (Zeiler & Fergus 2014): a ReLU passes the positive part of the gradient, whatever its input; other ops keep their gradient. */
export const DECONVOLUTION: RuleSet = { name: 'Deconvolution', entries: [{ match: { opType: ['Relu'] }, rule: { rule: 'deconv' } }], unmatched: 'gradient' }

/**
 * Captum's LRP defaults (captum-semantics §7.2): the ε-rule (ε 1e-9) on linear layers,
 * convolutions, pooling (max and average) and batch normalisation; relevance passed through
 * unchanged by ReLU, Tanh and Dropout. Any other activation (Sigmoid, …) is reported, as Captum
 * refuses it. Additions, reshapes and concatenations keep their ordinary gradient, which splits
 * relevance in proportion to each operand's contribution (Captum, which sees only modules, would
 * give every operand of a functional `+` the full relevance).
 */
export const LRP_CAPTUM: RuleSet = {
  name: 'LRP (Captum defaults)',
  entries: [
    // ONNX op types, then tfjs kernels (tfjs's matmuls and fused kernels keep their ordinary gradient, ε → 0)
    { match: { opType: ['Gemm', 'MatMul', 'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'Conv2D', 'DepthwiseConv2dNative', 'AvgPool', 'FusedBatchNorm', 'FusedBatchNormV3'] }, rule: { rule: 'epsilon', epsilon: 1e-9 } },
    { match: { opType: ['Relu', 'Tanh', 'Dropout', 'Identity'] }, rule: { rule: 'identity' } },
  ],
}

/**
 * Zennit's EpsilonPlus (ONNX op types and tfjs kernels): z⁺ on convolutions, ε (1e-6, Zennit's) on dense layers; activations pass
 * relevance through; max-pooling routes it to the winner (its gradient), average pooling and
 * additions split it in proportion (their gradient).
 */
export const EPSILON_PLUS: RuleSet = {
  name: 'EpsilonPlus',
  entries: [
    { match: { opType: ['Conv', 'ConvTranspose', 'Conv2D', 'DepthwiseConv2dNative'] }, rule: { rule: 'zPlus' } },
    { match: { opType: ['Gemm', 'MatMul', 'BatchMatMul'] }, rule: { rule: 'epsilon', epsilon: 1e-6 } },
    { match: { opClass: 'activation' }, rule: { rule: 'identity' } },
    { match: { opType: ['MaxPool', 'GlobalMaxPool'] }, rule: { rule: 'gradient' } },
  ],
}

/**
 * Zennit's EpsilonAlpha2Beta1: α2β1 on convolutions, ε (1e-6) on dense layers, activations pass
 * relevance through, max-pooling routes it to the winner.
 */
export const EPSILON_ALPHA2_BETA1: RuleSet = {
  name: 'EpsilonAlpha2Beta1',
  entries: [
    { match: { opType: ['Conv', 'ConvTranspose', 'Conv2D', 'DepthwiseConv2dNative'] }, rule: { rule: 'alphaBeta', alpha: 2, beta: 1 } },
    { match: { opType: ['Gemm', 'MatMul', 'BatchMatMul'] }, rule: { rule: 'epsilon', epsilon: 1e-6 } },
    { match: { opClass: 'activation' }, rule: { rule: 'identity' } },
    { match: { opType: ['MaxPool', 'GlobalMaxPool'] }, rule: { rule: 'gradient' } },
  ],
}

/**
 * AttnLRP (Achtibat et al., ICML 2024) for transformers:
 * - linear layers (Gemm, MatMul with a weight): ε-rule;
 * - bilinear MatMul of two activations (Q·Kᵀ, attention·V) and products of activations: the
 *   uniform rule, relevance split equally between the factors (the rule is the ε-rule when one
 *   operand is a weight, so one entry covers every MatMul);
 * - Softmax: relevance passes from the attention weights to their logits unchanged (`identity`),
 *   so it is conserved. The paper's own softmax rule, R_x = x ⊙ (R_s − s·Σ R_s) (a Taylor
 *   expansion at x whose bias term is dropped), is the ordinary gradient in clarus's R = x ⊙ g
 *   reading; it does not conserve relevance (on a bias-free copy of the reference transformer
 *   `textcls` it loses 3–54 % of it, where this composite keeps it to 1e-5). For the paper's rule,
 *   put `{ match: { opType: 'Softmax' }, rule: { rule: 'gradient' } }` first;
 * - LayerNorm as exported into primitive ops: the division by the standard deviation holds the
 *   divisor constant (ε-rule on Div), so the normalisation is linear in its input; the ops that
 *   compute the divisor (Pow, Sqrt) then receive nothing and keep their gradient;
 * - activations (ReLU, GELU, …): identity.
 *
 * Each entry names the ONNX op types and the tfjs kernels (BatchMatMul, Multiply, RealDiv, Square),
 * so the composite runs on both backends.
 */
export const ATTN_LRP: RuleSet = {
  name: 'AttnLRP',
  entries: [
    { match: { opType: ['MatMul', 'Mul', 'BatchMatMul', 'Multiply'] }, rule: { rule: 'uniform' } },
    { match: { opType: ['Gemm', 'Div', 'RealDiv'] }, rule: { rule: 'epsilon', epsilon: 1e-9 } },
    { match: { opType: ['Pow', 'Sqrt', 'Square'] }, rule: { rule: 'gradient' } },
    { match: { opClass: 'activation' }, rule: { rule: 'identity' } },
    { match: { opType: 'Softmax' }, rule: { rule: 'identity' } },
  ],
}

/**
 * Zennit's EpsilonGammaBox for inputs bounded by [low, high] (e.g. normalised pixels): the z^B-rule
 * on the input layer, γ (0.25) on the other convolutions, ε (1e-6) on dense layers, activations pass
 * relevance through, max-pooling routes it to the winner. The input layer must be a Gemm, MatMul or
 * Conv reading the input directly (tfjs: a BatchMatMul, Conv2D or DepthwiseConv2dNative, possibly
 * after layout-only kernels such as an NCHW → NHWC transpose). Both backends.
 */
export const EPSILON_GAMMA_BOX = (low: number, high: number): RuleSet => ({
  name: `EpsilonGammaBox(${low}, ${high})`,
  entries: [
    { match: { inputLayer: true }, rule: { rule: 'zBox', low, high } },
    { match: { opType: ['Conv', 'ConvTranspose', 'Conv2D', 'DepthwiseConv2dNative'] }, rule: { rule: 'gamma', gamma: 0.25 } },
    { match: { opType: ['Gemm', 'MatMul', 'BatchMatMul'] }, rule: { rule: 'epsilon', epsilon: 1e-6 } },
    { match: { opClass: 'activation' }, rule: { rule: 'identity' } },
    { match: { opType: ['MaxPool', 'GlobalMaxPool'] }, rule: { rule: 'gradient' } },
  ],
})
