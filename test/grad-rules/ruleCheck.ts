/**
 * The finite-difference check behind `onnx.rules.test.ts`: builds a one-node graph for a
 * GRAD_RULE_CASES row, runs its backward graph in onnxruntime-node, and compares the directional
 * derivative ⟨∇, xp − xm⟩ with f(xp) − f(xm) (float64 on the JS side, forward in float32 ORT) where
 * xp, xm = float32(x ± eps·v) for a random direction v.
 */
import * as E from 'fp-ts/lib/Either.js'
import { buildBackward } from '../../src/backends/onnx/gradients/builder.js'
import type { GradRule } from '../../src/backends/onnx/gradients/rule.js'
import type { OnnxDevice } from '../../src/backends/onnx/device.js'
import { ALL_GRAD_RULES } from '../../src/backends/onnx/gradients/rules/index.js'
import { ElemType, attr, hostToTensor, type Graph, type Node, type ValueInfo } from '../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../src/backends/onnx/graph/proto.js'
import { toProto } from '../../src/backends/onnx/graph/ir.js'
import { createOnnxRuntime } from '../../src/backends/onnx/session.js'
import { sizeOf, type HostTensor } from '../../src/core/tensor.js'
import type { CaseInput, GradRuleCase, ValueKind } from './gradRuleCases.js'

/** mulberry32: a small seeded PRNG. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())

const values = (kind: ValueKind, n: number, r: () => number): Float32Array => {
  switch (kind) {
    case 'normal': return Float32Array.from({ length: n }, () => 0.5 * normal(r))
    case 'pos': return Float32Array.from({ length: n }, () => 0.5 + r())
    case 'grid': return Float32Array.from({ length: n }, () => (Math.floor(r() * 20) - 10 + 0.5) * 0.1)
    case 'distinct': {
      const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01)
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1))
        const t = v[i] as number
        v[i] = v[j] as number
        v[j] = t
      }
      return v
    }
  }
}

export interface CaseGraph {
  readonly graph: Graph
  /** Float graph inputs: name, concrete shape, value kind. */
  readonly floats: readonly { readonly name: string; readonly shape: readonly number[]; readonly kind: ValueKind }[]
  readonly seeds: readonly string[]
}

const isConst = (c: CaseInput): c is { readonly value: HostTensor } => 'value' in c

/** The forward graph of a row ('B' dims become the symbolic dim 'batch'; concrete size `batch`). */
export const caseGraph = (row: GradRuleCase, batch: number): CaseGraph => {
  const opset = row.opset ?? 17
  const inputs: ValueInfo[] = []
  const initializers = new Map<string, ReturnType<typeof hostToTensor>>()
  const floats: { name: string; shape: number[]; kind: ValueKind }[] = []
  const nodes: Node[] = []
  let seeds: string[]
  if (row.noGradient !== undefined) {
    const ng = row.noGradient
    inputs.push({ name: 'x', elemType: ElemType.FLOAT, shape: ng.xShape })
    floats.push({ name: 'x', shape: [...ng.xShape], kind: 'grid' })
    const args = ng.args.map((a, i) => {
      if (a === 'x') return 'x'
      initializers.set(`c${i}`, hostToTensor(`c${i}`, a))
      return `c${i}`
    })
    nodes.push({ name: 'op', opType: row.op, domain: '', inputs: args, outputs: ['o'], attributes: [...(row.attrs ?? [])] })
    nodes.push({ name: 'cast', opType: 'Cast', domain: '', inputs: ['o'], outputs: ['c'], attributes: [attr.int('to', ElemType.FLOAT)] })
    nodes.push({ name: 'add', opType: 'Add', domain: '', inputs: ['x', 'c'], outputs: ['y'], attributes: [] })
    seeds = ['y']
  } else {
    const names = row.inputs.map((c, i) => {
      if (isConst(c)) {
        initializers.set(`c${i}`, hostToTensor(`c${i}`, c.value))
        return `c${i}`
      }
      const name = `x${i}`
      inputs.push({ name, elemType: ElemType.FLOAT, shape: c.shape.map((d) => (d === 'B' ? 'batch' : d)) })
      floats.push({ name, shape: c.shape.map((d) => (d === 'B' ? batch : d)), kind: c.kind ?? 'normal' })
      return name
    })
    const outs = Array.from({ length: row.nOutputs ?? 1 }, (_, i) => `y${i}`)
    nodes.push({ name: 'op', opType: row.op, domain: '', inputs: names, outputs: outs, attributes: [...(row.attrs ?? [])] })
    seeds = (row.seeds ?? outs.map((_, i) => i)).map((i) => `y${i}`)
  }
  const outputs = [...new Set([...seeds, ...nodes[nodes.length - 1]!.outputs])]
  const graph: Graph = {
    name: `case_${row.op}`,
    nodes,
    inputs,
    outputs: outputs.map((name) => ({ name, elemType: ElemType.FLOAT, shape: null })),
    initializers,
    valueInfo: [],
    opsetImports: [{ domain: '', version: opset }],
    irVersion: opset >= 19 ? 9 : 8,
    modelExtras: {},
  }
  return { graph, floats, seeds }
}

export interface CheckResult {
  readonly ok: boolean
  readonly ad: number
  readonly fd: number
  readonly bound: number
  readonly detail?: string
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

/**
 * Runs the finite-difference check for one row, one value seed and one batch size. `device` picks the
 * rules' formulation (the graph runs on ORT's CPU provider either way: every form is standard ONNX).
 */
export const checkRow = async (row: GradRuleCase, seed: number, batch: number, rules: readonly GradRule[] = ALL_GRAD_RULES, device: OnnxDevice = 'cpu'): Promise<CheckResult> => {
  const { graph, floats, seeds } = caseGraph(row, batch)
  const r = prng(seed)
  const bw = buildBackward(graph, { seeds, wrt: floats.map((x) => x.name), device }, rules)
  if (E.isLeft(bw)) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: `${bw.left._tag}: ${bw.left.message}` }
  const fwdRt = await createOnnxRuntime(encodeModel(toProto(graph)))
  const bwdRt = await createOnnxRuntime(encodeModel(toProto(bw.right.graph)))
  if (E.isLeft(fwdRt) || E.isLeft(bwdRt)) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: 'cannot load' }
  try {
    const x: Record<string, HostTensor> = {}
    for (const f of floats) x[f.name] = { dtype: 'float32', shape: f.shape, data: values(f.kind, sizeOf(f.shape), r) }
    const y0 = await fwdRt.right.forward(x)
    if (E.isLeft(y0)) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: y0.left.message }
    const cot: Record<string, Float32Array> = {}
    for (const s of seeds) cot[s] = Float32Array.from({ length: y0.right[s]!.data.length }, () => normal(r))
    // Backward: run the backward graph directly (seed inputs are ordinary graph inputs there).
    const feeds: Record<string, HostTensor> = { ...x }
    for (const s of seeds) feeds[bw.right.seedInputs[s]!] = { dtype: 'float32', shape: y0.right[s]!.shape, data: cot[s]! }
    const outs = await bwdRt.right.forward(feeds)
    if (E.isLeft(outs)) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: outs.left.message }
    const eps = row.eps ?? (floats.some((f) => f.kind === 'distinct') ? 1e-3 : 1e-2)
    const xp: Record<string, HostTensor> = {}
    const xm: Record<string, HostTensor> = {}
    let ad = 0
    let mass = 0
    for (const f of floats) {
      const base = x[f.name]!.data as Float32Array
      const v = Float32Array.from(base, () => Math.max(-2, Math.min(2, normal(r))))
      const p = Float32Array.from(base, (b, i) => b + eps * (v[i] as number))
      const m = Float32Array.from(base, (b, i) => b - eps * (v[i] as number))
      xp[f.name] = { dtype: 'float32', shape: f.shape, data: p }
      xm[f.name] = { dtype: 'float32', shape: f.shape, data: m }
      const g = outs.right[bw.right.gradOutputs[f.name]!]!.data as Float32Array
      if (g.length !== base.length) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: `gradient of ${f.name} has ${g.length} elements, expected ${base.length}` }
      for (let i = 0; i < g.length; i++) {
        const d = (p[i] as number) - (m[i] as number)
        ad += (g[i] as number) * d
        mass += Math.abs((g[i] as number) * d)
      }
    }
    const fp = await fwdRt.right.forward(xp)
    const fm = await fwdRt.right.forward(xm)
    if (E.isLeft(fp) || E.isLeft(fm)) return { ok: false, ad: NaN, fd: NaN, bound: 0, detail: 'forward failed' }
    let fd = 0
    let scale = 0
    for (const s of seeds) {
      fd += dot(fp.right[s]!.data as Float32Array, cot[s]!) - dot(fm.right[s]!.data as Float32Array, cot[s]!)
      const y = y0.right[s]!.data as Float32Array
      for (let i = 0; i < y.length; i++) scale += Math.abs((y[i] as number) * (cot[s]![i] as number))
    }
    const tol = row.tol ?? { abs: 1e-6, rel: 1e-2 }
    // float32 forward noise (a few ulps of Σ|cot·y|) + truncation (relative to the directional mass).
    const bound = tol.abs + 2e-6 * scale + tol.rel * mass
    return { ok: Math.abs(ad - fd) <= bound && Number.isFinite(ad), ad, fd, bound }
  } finally {
    await fwdRt.right.dispose()
    await bwdRt.right.dispose()
  }
}
