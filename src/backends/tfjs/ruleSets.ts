/**
 * Modified-backprop rule sets on the tfjs backend.
 *
 * How: tfjs records every kernel a gradient function runs on its tape, each tape node carrying the
 * closure that computes its ordinary gradient. While the model's forward pass runs inside
 * `tf.valueAndGrads`, the scope sees each kernel as it is recorded (to keep copies of the forward
 * values a rule needs, which the model's own tidy scopes may free, and each MaxPool's attributes).
 * After the forward pass and before the backward pass, it walks the nodes of *this call's* tape
 * that lie on the path from the differentiated tensors to the explained value, gives each its rule
 * with `ruleFor`, and replaces the gradient closure of every node whose rule is not the ordinary
 * gradient. tfjs's gradient registry is never touched; the two observation hooks (the tape's `push`,
 * the engine's `runKernel`) are own properties removed in `finally`, and the rewritten closures live
 * on a tape that tfjs drops after the call (or `releaseTape` drops on failure), so success, failure
 * and an abort all leave the same state behind. Every op instance gets its own rule, so an
 * activation function applied twice, a ReLU reused in a residual block or a functional activation
 * all work.
 *
 * MaxPool: in rule-set calls its gradient goes to the first maximum of each window, as PyTorch's
 * does, on every tfjs backend (`modified/maxPoolRouting.ts`). A MaxPool fed directly by a rescaled
 * activation keeps that ordinary gradient under DeepLift, as Captum 0.8.0 effectively does (see
 * `apply`).
 *
 * Coverage: every kernel on the path that the rule set leaves without a rule (and that is not an
 * affine or structural op) is listed in one `UnsupportedOps` error (path `['ruleSet']`) before the
 * backward pass runs — never a silent fallback to the ordinary gradient.
 *
 * Fused kernels: tfjs's fused ops (`tf.fused.matMul`, `conv2d`, `depthwiseConv2d`, which
 * tfjs-layers' Dense/Conv layers and GraphModels' `_FusedMatMul`/`FusedConv2D` nodes call) run
 * *unfused* whenever a gradient is being recorded and the activation is not linear: the activation
 * then runs as its own kernel (`Relu`, …) and gets its rule like any other. A fused op with a linear
 * activation (bias only) is affine and appears as one node (opType `_FusedMatMul`, `FusedConv2D`,
 * `FusedDepthwiseConv2D`) that keeps its ordinary gradient; GraphModels run on a twin where such
 * nodes are split into the plain op and a `BiasAdd` (`linearFused.ts`), so there they appear as two.
 *
 * Input-layer LRP rules (flat, wSquare, zBox; `givesRelevanceAtInputs`): they give relevance, not a
 * gradient, so under a rule set that has one the vjp returns *relevance* at every differentiated
 * tensor, as the ONNX backend does: x ⊙ (the gradient reaching x through gradient-form rules) + (the
 * relevance the input-layer rules give x). Each differentiated tensor x enters the model through an
 * Identity kernel (its "gate") recorded on this call's tape; a node under an input-layer rule must
 * read a gate directly, hands a zero gradient to it and leaves its relevance with the scope (kept
 * on the gate's tape node, freed with the tape), and the gate's rewritten gradient, which tfjs runs
 * last, returns x ⊙ dy plus those relevances. An input-layer rule on a node that reads a tensor
 * computed from x is reported like an uncovered node.
 *
 * Names: a `node` or `layer` match names the tensor a tapped function taps, a LayersModel layer's
 * output or a GraphModel node's output, and applies to the kernel that computes that tensor (for a
 * Dense layer with a ReLU: its ReLU). Plain functions have no names: such matches are `Unsupported`.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { ClarusError, err, type AttributionError, type UnsupportedNode } from '../../core/errors.js'
import { givesRelevanceAtInputs, ruleFor, type NodeRef, type Rule, type RuleSet } from '../../core/ruleSet.js'
import { ALL_TFJS_MODIFIED_RULES } from './modified/index.js'
import { firstMaxRoute, type MaxPoolAttrs } from './modified/maxPoolRouting.js'
import { halvesOf, mainInput, type GradMap, type Halves, type NodeContext, type TfjsModifiedRule } from './modified/types.js'
import type { Runner } from './runners.js'

/** A node of tfjs's gradient tape (engine internals, read and rewritten only during one vjp). */
interface TapeNode {
  readonly id: number
  readonly kernelName: string
  readonly inputs: Record<string, tf.Tensor>
  readonly outputs: tf.Tensor[]
  saved?: tf.Tensor[]
  gradient?: (dys: (tf.Tensor | null)[]) => GradMap
}

const activeTape = (): TapeNode[] => (tf.engine().state as unknown as { activeTape: TapeNode[] | null }).activeTape ?? []

/** tfjs records fused ops (linear activation) as custom-gradient scopes; their kernel names. */
const SCOPE_KERNELS: Readonly<Record<string, string>> = {
  fusedMatMul__op: '_FusedMatMul',
  fusedConv2d__op: 'FusedConv2D',
  fusedDepthwiseConv2d__op: 'FusedDepthwiseConv2D',
}

/** tfjs kernels whose ordinary gradient is exact for every rule family, besides core's PASS_THROUGH list. */
const TFJS_AFFINE: ReadonlySet<string> = new Set([
  'Identity', 'Cast', 'Neg', 'Sub', 'Multiply', 'RealDiv', 'Transpose', 'Reshape', 'Squeeze', 'Concat', 'Slice', 'Split', 'SplitV',
  'Reverse', 'BroadcastTo', 'Sum', 'Mean', 'SpaceToBatchND', 'BatchToSpaceND', 'DepthToSpace', 'ResizeBilinear', 'ResizeNearestNeighbor',
  '_FusedMatMul', 'FusedConv2D', 'FusedDepthwiseConv2D', 'BatchMatMul', 'Conv2D', 'DepthwiseConv2dNative', 'Conv3D', 'AvgPool', 'AvgPool3D',
])

/** Kernels that are affine only when at most one operand depends on the differentiated tensors. */
const BILINEAR: ReadonlySet<string> = new Set([
  'Multiply', 'RealDiv', 'BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'Conv3D', 'Conv2DBackpropInput',
])

/** Kernels that only move elements around (one input). */
const LAYOUT_ONLY: ReadonlySet<string> = new Set(['Transpose', 'Reshape', 'Identity'])

/** The node and layer names the rule set matches by, with the entry each comes from. */
const namedEntries = (rs: RuleSet): { readonly name: string; readonly entry: number }[] =>
  rs.entries.flatMap((e, entry) => ('node' in e.match ? [{ name: e.match.node, entry }] : 'layer' in e.match ? [{ name: e.match.layer, entry }] : []))

/** The names the model must compute (and report) so name matches can be resolved. */
export const ruleSetNames = (rs: RuleSet | undefined): string[] => (rs === undefined ? [] : [...new Set(namedEntries(rs).map((n) => n.name))])

/**
 * What makes a rule set unusable on this model before anything runs: a rule the tfjs backend does
 * not implement, name matches on a model kind without names, or names the model does not have.
 */
export const ruleSetProblem = (rs: RuleSet | undefined, runner: Runner): AttributionError | undefined => {
  if (rs === undefined) return undefined
  const known = new Set(ALL_TFJS_MODIFIED_RULES.map((m) => m.rule))
  const unknown = rs.entries.findIndex((e) => !known.has(e.rule.rule))
  if (unknown >= 0) {
    return err('Unsupported',
      `rule set ${JSON.stringify(rs.name)}, entry ${unknown + 1}: rule ${rs.entries[unknown]!.rule.rule} is not implemented on the tfjs backend (it has ${[...known].join(', ')}); use the ONNX backend for it`,
      ['ruleSet', 'entries', String(unknown)])
  }
  for (const { name, entry } of namedEntries(rs)) {
    if (runner.kind === 'function') {
      return err('Unsupported',
        `rule set ${JSON.stringify(rs.name)}, entry ${entry + 1}: a plain function model names no tensors, so the match by name ${JSON.stringify(name)} cannot be resolved. ` +
          'Match by opType or opClass, or write the model as a tapped function ({ layers, fn: (tap, ...inputs) => … }), a LayersModel or a GraphModel', ['ruleSet', 'entries', String(entry)])
    }
    const bad = runner.check([name], [])
    if (bad !== undefined) return { ...bad, message: `rule set ${JSON.stringify(rs.name)}, entry ${entry + 1}: ${bad.message}`, path: ['ruleSet', 'entries', String(entry)] }
  }
  return undefined
}

interface Planned {
  readonly node: TapeNode
  readonly kernel: string
  readonly rule: Rule
  readonly impl: TfjsModifiedRule
  /** The names of its inputs on the gradient path. */
  readonly variable: readonly string[]
}

/** Kernels that add a bias to a matmul's or convolution's output. */
const BIAS_ADDS: ReadonlySet<string> = new Set(['Add', 'AddV2', 'BiasAdd'])

/**
 * One vjp call's use of a rule set: `record` collects the names runners report, `around` and
 * `modelDone` mark the model's part of the tape; on the way out of `around` the coverage is checked
 * and the gradient closures rewritten.
 */
export interface RuleScope {
  readonly record: (name: string, t: tf.Tensor) => void
  /** Wraps the function given to `tf.valueAndGrads`: marks where its tape starts and applies the rules to its result. */
  readonly around: <F extends (...leaves: tf.Tensor[]) => tf.Tensor>(f: F) => F
  /** Called right after the model ran (what comes after, the output selection, keeps its gradient). */
  readonly modelDone: () => void
}

export const ruleScope = (rs: RuleSet, referenceRows: 'halves' | undefined, rows: number): RuleScope => {
  const names = new Map<number, string>()
  let start = 0
  let modelEnd: number | undefined
  // Kernels a rule of this set may rewrite: their forward values are copied as they run, since the
  // model's own tidy scopes may free them before the backward pass.
  const used = new Set(rs.entries.map((e) => e.rule.rule))
  // MaxPool always: rule-set calls route its gradient with PyTorch's tie-breaking (maxPoolRouting.ts).
  const usedImpls = ALL_TFJS_MODIFIED_RULES.filter((m) => used.has(m.rule))
  // Kernels whose rule reads all their inputs and attributes (LRP on matmuls and convolutions, uniform).
  const withInputs = new Set(usedImpls.filter((m) => m.needsInputs === true).flatMap((m) => m.kernels))
  // The Adds that may hold such a kernel's bias: their outputs are kept too (see biasOut in apply).
  const biasAdds = withInputs.size > 0 ? BIAS_ADDS : new Set<string>()
  const rewritable = new Set([...usedImpls.flatMap((m) => m.kernels), 'MaxPool', ...biasAdds])
  const stash = new Map<number, { readonly x?: tf.Tensor; readonly y: tf.Tensor; readonly inputs?: Record<string, tf.Tensor>; readonly attrs?: Record<string, unknown> }>()
  /** The attributes of the last kernel run by name (its tape node is recorded before runKernel returns). */
  const lastAttrs = new Map<string, Record<string, unknown>>()
  let copying = false
  // Input-layer rules (see the header): relevance at the differentiated tensors, through one gate each.
  const relevanceOut = givesRelevanceAtInputs(rs)
  /** The relevance input-layer rules gave, by gate node id (the tensors live on the gate's node). */
  const relevanceAt = new Map<number, tf.Tensor[]>()
  const onNode = (n: TapeNode): void => {
    const x = n.inputs[mainInput(n.kernelName)]
    const y = n.outputs[0]
    const all = withInputs.has(n.kernelName)
    // The copies' own kernels (Identity) are recorded too: never copied in turn.
    if (copying || !rewritable.has(n.kernelName) || y === undefined || y.isDisposed) return
    if (x === undefined ? !all && !biasAdds.has(n.kernelName) : x.isDisposed) return
    if (all && Object.values(n.inputs).some((t) => t.isDisposed)) return
    copying = true
    try {
      const attrs = n.kernelName === 'MaxPool' || all ? lastAttrs.get(n.kernelName) : undefined
      const inputs = all ? Object.fromEntries(Object.entries(n.inputs).map(([k, t]) => [k, tf.keep(tf.clone(t))])) : undefined
      stash.set(n.id, {
        ...(x === undefined || biasAdds.has(n.kernelName) ? {} : { x: inputs?.[mainInput(n.kernelName)] ?? tf.keep(tf.clone(x)) }),
        y: tf.keep(tf.clone(y)),
        ...(inputs === undefined ? {} : { inputs }),
        ...(attrs === undefined ? {} : { attrs }),
      })
    } finally {
      copying = false
    }
  }
  const keptTensors = (v: { readonly x?: tf.Tensor; readonly y: tf.Tensor; readonly inputs?: Record<string, tf.Tensor> }): tf.Tensor[] =>
    [...new Set([...(v.x === undefined ? [] : [v.x]), v.y, ...Object.values(v.inputs ?? {})])]
  const release = (keep: ReadonlySet<number>): void => {
    for (const [id, v] of stash) {
      if (keep.has(id)) continue
      keptTensors(v).forEach((t) => t.dispose())
      stash.delete(id)
    }
  }
  const apply = (leaves: readonly tf.Tensor[], y: tf.Tensor, gated: readonly tf.Tensor[]): void => {
    const tape = activeTape()
    const end = modelEnd ?? tape.length
    const segment = tape.slice(start)
    // The path from the leaves to y, as tfjs's own pruning computes it.
    const leafIds = new Set(leaves.map((l) => l.id))
    const fromLeaves = new Set(leafIds)
    const forward = new Set<number>()
    for (const n of segment) {
      if (Object.values(n.inputs).some((t) => fromLeaves.has(t.id))) {
        forward.add(n.id)
        n.outputs.forEach((o) => fromLeaves.add(o.id))
      }
    }
    const toY = new Set([y.id])
    const onPath = new Set<number>()
    for (let i = segment.length - 1; i >= 0; i--) {
      const n = segment[i]!
      if (n.outputs.some((o) => toY.has(o.id))) {
        Object.values(n.inputs).forEach((t) => toY.add(t.id))
        if (forward.has(n.id)) onPath.add(n.id)
      }
    }
    // Under input-layer rules the model reads the gates (see the header), which count as the differentiated tensors.
    const gateIds = new Set(gated.map((g) => g.id))
    const gates = segment.filter((n) => n.kernelName === 'Identity' && n.outputs.some((o) => gateIds.has(o.id)))
    const gateNodeIds = new Set(gates.map((n) => n.id))
    const readIds = new Set(relevanceOut ? gateIds : leafIds)
    // Layout-only kernels on a differentiated tensor (a tfjs model's NCHW → NHWC transpose before its
    // first convolution) are no layer: their consumers count as reading that tensor directly.
    const layoutFrom = new Map<number, TapeNode>()
    for (const n of segment) {
      const src = n.inputs['x']
      if (!onPath.has(n.id) || gateNodeIds.has(n.id) || !LAYOUT_ONLY.has(n.kernelName) || src === undefined || !readIds.has(src.id) || n.outputs.length !== 1) continue
      readIds.add(n.outputs[0]!.id)
      layoutFrom.set(n.outputs[0]!.id, n)
    }
    const layoutNodeIds = new Set([...layoutFrom.values()].map((n) => n.id))
    /** A relevance at a tensor read by an input-layer kernel, carried back to its gate through the layout kernels in between. */
    const layoutGrads = new Map([...layoutFrom.values()].map((n) => [n.id, n.gradient!] as const))
    const toGate = (t: tf.Tensor, r: tf.Tensor): { readonly gateOut: number; readonly r: tf.Tensor } => {
      let cur = t
      let rel = r
      for (let n = layoutFrom.get(cur.id); n !== undefined; n = layoutFrom.get(cur.id)) {
        rel = layoutGrads.get(n.id)!([rel])['x']!()
        cur = n.inputs['x']!
      }
      return { gateOut: cur.id, r: rel }
    }
    const modelNodes = tape.slice(start, end).filter((n) => onPath.has(n.id) && !gateNodeIds.has(n.id))
    const missing: { node: UnsupportedNode; why: string }[] = []
    const planned: Planned[] = []
    modelNodes.forEach((node) => {
      const kernel = SCOPE_KERNELS[node.kernelName] ?? node.kernelName
      const name = node.outputs.map((o) => names.get(o.id)).find((n) => n !== undefined)
      const ref: NodeRef = { opType: kernel, name: name ?? '', outputs: name === undefined ? [] : [name], readsInput: !layoutNodeIds.has(node.id) && Object.values(node.inputs).some((t) => readIds.has(t.id)) }
      const report = (why: string): void => {
        missing.push({ node: { name: name ?? '', opType: kernel, domain: 'tfjs', opset: 0 }, why })
      }
      const r = ruleFor(rs, ref)
      const variableOperands = Object.values(node.inputs).filter((t) => fromLeaves.has(t.id)).length
      if (r === 'unmatched' || r === 'passThrough') {
        if (r === 'unmatched' && !TFJS_AFFINE.has(kernel)) return report('no rule')
        if (rs.unmatched !== 'gradient' && BILINEAR.has(kernel) && variableOperands > 1) return report('a product of two variable factors, whose ordinary gradient is no rule')
        return
      }
      if (r.rule === 'gradient') return
      const impl = ALL_TFJS_MODIFIED_RULES.find((m) => m.rule === r.rule && m.kernels.includes(kernel))
      if (impl === undefined) return report(`rule ${r.rule} has no tfjs implementation for this kernel`)
      const variable = Object.keys(node.inputs).filter((k) => fromLeaves.has(node.inputs[k]!.id))
      const why = impl.problem?.(kernel, variable)
      if (why !== undefined) return report(why)
      if (impl.givesRelevance === true && variable.some((k) => !readIds.has(node.inputs[k]!.id))) {
        return report(`rule ${r.rule} is an input-layer rule (it gives relevance, not a gradient), so it must read a differentiated tensor directly, and this kernel reads a tensor computed from it; give it a gradient-form rule (epsilon, gamma, …) or attribute at its input (LayerLRP)`)
      }
      planned.push({ node, kernel, rule: r, impl, variable })
    })
    if (missing.length > 0) {
      throw new ClarusError({
        _tag: 'UnsupportedOps',
        path: ['ruleSet'],
        nodes: missing.map((m) => m.node),
        message:
          `rule set ${JSON.stringify(rs.name)} leaves ${missing.length} kernel(s) on the gradient path without a rule: ` +
          missing.map((m) => `${m.node.opType}${m.node.name ? ` (${JSON.stringify(m.node.name)})` : ''}: ${m.why}`).join('; ') +
          '. Add an entry that matches them (by opType, opClass or name), or set unmatched: \'gradient\' to keep their ordinary gradient on purpose.',
      })
    }
    // Captum parity: a MaxPool that reads a rescaled activation's output directly (ReLU → MaxPool,
    // as in every small CNN) has no effect in Captum 0.8.0: the activation's output-gradient hook
    // runs before the max-pool's input hook rewrites that gradient, so the activation sees the
    // max-pool's *ordinary* gradient. The cnn reference fixtures record exactly that (they equal
    // Rescale on the ReLUs with the ordinary MaxPool gradient to 1e-9), so such a MaxPool keeps its
    // ordinary gradient here. Elementwise activations keep their rule wherever they are: doing the
    // same for them would break DeepLift's completeness, and no fixture asks for it.
    const rescaledOutputs = new Set(planned.filter((p) => p.rule.rule === 'rescale' && p.kernel !== 'MaxPool').flatMap((p) => p.node.outputs.map((o) => o.id)))
    // Layout-only kernels in between (a tapped NCHW view of an NHWC tensor) do not count.
    const producer = new Map(segment.flatMap((n) => n.outputs.map((o) => [o.id, n] as const)))
    const source = (t: tf.Tensor | undefined): number => {
      let cur = t
      for (let n = cur && producer.get(cur.id); n !== undefined && LAYOUT_ONLY.has(n.kernelName); n = cur && producer.get(cur.id)) cur = Object.values(n.inputs)[0]
      return cur?.id ?? -1
    }
    const effective = planned.filter((p) => !(p.kernel === 'MaxPool' && p.rule.rule === 'rescale' && rescaledOutputs.has(source(p.node.inputs['x']))))
    planned.splice(0, planned.length, ...effective)
    const needRef = planned.find((p) => p.impl.needsReference === true)
    let halves: Halves | undefined
    if (needRef !== undefined) {
      if (referenceRows !== 'halves') {
        throw new ClarusError(err('Unsupported', `rule ${needRef.rule.rule} (on ${needRef.kernel}) compares each row with its reference: call vjp with referenceRows: 'halves' and the references as the second half of the batch`, ['referenceRows']))
      }
      if (rows % 2 !== 0) throw new ClarusError(err('Unsupported', `referenceRows: 'halves' needs an even number of rows (inputs then their references); got ${rows}`, ['referenceRows']))
      halves = halvesOf()
    }
    for (const p of planned) {
      const kept = stash.get(p.node.id)
      const original = p.node.gradient
      if (kept === undefined || original === undefined) {
        throw new ClarusError(err('Unsupported', `kernel ${p.kernel} has no ordinary gradient in tfjs to modify with rule ${p.rule.rule}`, ['ruleSet']))
      }
      if (p.impl.needsInputs === true && (kept.inputs === undefined || p.variable.some((k) => kept.inputs?.[k] === undefined))) {
        throw new ClarusError(err('Unsupported', `kernel ${p.kernel}: its inputs were not kept for rule ${p.rule.rule}`, ['ruleSet']))
      }
      const lead = (kept.x ?? kept.y).shape[0]
      if (p.impl.needsReference === true && lead !== rows) {
        throw new ClarusError(err('Unsupported', `rule ${p.rule.rule} on ${p.kernel}: its input has ${lead ?? 'no'} leading rows, not the batch's ${rows}, so rows cannot be paired with their references`, ['ruleSet']))
      }
    }
    // MaxPools on the path that keep their ordinary gradient get it with PyTorch's tie-breaking.
    const ruled = new Set(planned.map((p) => p.node.id))
    const pools = modelNodes.filter((n) => n.kernelName === 'MaxPool' && !ruled.has(n.id) && stash.get(n.id)?.attrs !== undefined && n.gradient !== undefined)
    // The bias of a weighted kernel: its output reaches (through layout-only kernels, each its only
    // consumer on the path) an Add whose other operand is constant; that Add's output is the layer's.
    const consumers = new Map<number, TapeNode[]>()
    // (nodes on the path only: the copies this scope made are recorded as Identity kernels too)
    segment.filter((n) => onPath.has(n.id)).forEach((n) => Object.values(n.inputs).forEach((t) => consumers.set(t.id, [...(consumers.get(t.id) ?? []), n])))
    const biasOut = new Map<number, number>()
    for (const p of planned) {
      if (p.impl.needsInputs !== true) continue
      let cur = p.node.outputs[0]
      for (let hop = 0; cur !== undefined && hop < 4; hop++) {
        const next: TapeNode[] = consumers.get(cur.id) ?? []
        if (next.length !== 1) break
        const n: TapeNode = next[0]!
        if (LAYOUT_ONLY.has(n.kernelName)) {
          cur = n.outputs[0]
          continue
        }
        const kept = stash.get(n.id)
        const others = Object.values(n.inputs).filter((t) => t.id !== cur!.id)
        if (BIAS_ADDS.has(n.kernelName) && others.length === 1 && !fromLeaves.has(others[0]!.id) && kept !== undefined && kept.y.size === p.node.outputs[0]!.size) biasOut.set(p.node.id, n.id)
        break
      }
    }
    // From here on nothing throws: the kept copies go to the tape's saved tensors, which tfjs (or releaseTape) frees.
    release(new Set([...ruled, ...pools.map((n) => n.id), ...biasOut.values()]))
    /** The node's ordinary gradient w.r.t. its main input (MaxPool: routed as PyTorch routes it). */
    const ordinaryOf = (node: TapeNode, key: string): ((dy: tf.Tensor) => tf.Tensor) => {
      const kept = stash.get(node.id)!
      const original = node.gradient!
      const attrs = kept.attrs
      return node.kernelName === 'MaxPool' && attrs !== undefined ? (dy) => firstMaxRoute(dy, kept.x!, kept.y, attrs as unknown as MaxPoolAttrs) : (dy) => original([dy])[key]!()
    }
    for (const node of pools) {
      const kept = stash.get(node.id)!
      const ordinary = ordinaryOf(node, 'x')
      node.saved = [...(node.saved ?? []), ...keptTensors(kept)]
      node.gradient = (dys) => ({ x: () => ordinary(dys[0] ?? tf.zerosLike(kept.y)) })
    }
    for (const p of planned) {
      // The input a rule rewrites: the kernel's main one, else (a matmul) its variable operand.
      const key = mainInput(p.kernel) in p.node.inputs ? mainInput(p.kernel) : p.variable[0] ?? mainInput(p.kernel)
      const kept = stash.get(p.node.id)!
      const original = p.node.gradient!
      const biasNode = biasOut.get(p.node.id)
      const biasKept = biasNode === undefined ? undefined : stash.get(biasNode)
      const yOut = biasKept === undefined ? kept.y : tf.keep(tf.reshape(biasKept.y, kept.y.shape))
      p.node.saved = [...(p.node.saved ?? []), ...keptTensors(kept), ...(yOut === kept.y ? [] : [yOut])]
      const ctx: NodeContext = {
        kernel: p.kernel,
        x: kept.x ?? kept.y,
        y: kept.y,
        halves,
        ordinary: p.impl.grad === undefined ? (dy) => original([dy])[key]!() : ordinaryOf(p.node, key),
        ordinaryAll: (dy) => {
          const m = original([dy])
          return Object.fromEntries(p.variable.map((k) => [k, m[k]!()]))
        },
        inputs: kept.inputs ?? {},
        attrs: kept.attrs ?? {},
        variable: p.variable,
        yOut,
      }
      const { grad, grads } = p.impl
      if (p.impl.givesRelevance === true && grad !== undefined) {
        // The relevance goes to the gate this kernel reads (kept with the gate's node); the gradient it hands back is zero.
        const read = p.node.inputs[key]!
        p.node.gradient = (dys) => ({
          ...original(dys),
          [key]: () => {
            const atGate = toGate(read, grad(ctx, dys[0] ?? tf.zerosLike(kept.y), p.rule))
            const gate = gates.find((n) => n.outputs.some((o) => o.id === atGate.gateOut))!
            const r = tf.keep(atGate.r)
            gate.saved = [...(gate.saved ?? []), r]
            relevanceAt.set(gate.id, [...(relevanceAt.get(gate.id) ?? []), r])
            return tf.zerosLike(read)
          },
        })
        continue
      }
      p.node.gradient = (dys) => {
        const dy = dys[0] ?? tf.zerosLike(kept.y)
        if (grads !== undefined) return { ...original(dys), ...Object.fromEntries(p.variable.map((k) => [k, () => grads(ctx, dy, p.rule)[k]!])) }
        return grad === undefined ? original(dys) : { ...original(dys), [key]: () => grad(ctx, dy, p.rule) }
      }
    }
    // Each gate returns x ⊙ dy plus the relevance the input-layer rules left for it (they run before it: tfjs walks the tape backwards).
    for (const gate of gates) {
      const x = gate.inputs['x']!
      gate.gradient = (dys) => ({
        x: () => {
          const parts = [tf.mul(x, dys[0] ?? tf.zerosLike(x)), ...(relevanceAt.get(gate.id) ?? [])]
          return parts.length === 1 ? parts[0]! : tf.addN(parts)
        },
      })
    }
    // The kept outputs of bias Adds now belong to the nodes that read them (copied by reshape above).
    for (const id of new Set(biasOut.values())) if (!ruled.has(id)) keptTensors(stash.get(id)!).forEach((t) => t.dispose())
    stash.clear()
  }
  return {
    record: (name, t) => {
      if (!names.has(t.id)) names.set(t.id, name)
    },
    modelDone: () => {
      if (modelEnd === undefined) modelEnd = activeTape().length
    },
    around: <F extends (...leaves: tf.Tensor[]) => tf.Tensor>(f: F): F =>
      ((...leaves: tf.Tensor[]) => {
        const tape = activeTape()
        start = tape.length
        modelEnd = undefined
        // Sees each kernel as tfjs records it (this call's tape only; removed in finally).
        const push = tape.push
        tape.push = (...nodes: TapeNode[]): number => {
          const n = push.apply(tape, nodes)
          nodes.forEach(onNode)
          return n
        }
        // ... and each MaxPool's attributes, which the tape does not keep (removed in finally).
        const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: unknown, attrs?: unknown) => unknown }
        const runKernel = engine.runKernel
        engine.runKernel = function (this: unknown, name: string, inputs: unknown, attrs?: unknown): unknown {
          if (name === 'MaxPool' || withInputs.has(name)) lastAttrs.set(name, (attrs ?? {}) as Record<string, unknown>)
          return runKernel.call(this, name, inputs, attrs)
        }
        const unhook = (): void => {
          delete (tape as { push?: unknown }).push
          delete (engine as { runKernel?: unknown }).runKernel
          lastAttrs.clear()
        }
        try {
          const gated = relevanceOut ? leaves.map((l) => tf.clone(l)) : leaves
          const y = f(...gated)
          unhook()
          apply(leaves, y, relevanceOut ? gated : [])
          return y
        } catch (e) {
          release(new Set())
          throw e
        } finally {
          unhook()
        }
      }) as F,
  }
}
