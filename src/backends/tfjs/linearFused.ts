/**
 * GraphModels from the TensorFlow converter fuse a convolution or matmul with its bias
 * (`_FusedConv2D`, `FusedDepthwiseConv2dNative`, `_FusedMatMul` with `fused_ops: [BiasAdd]`). tfjs
 * keeps such a node fused while it records gradients (only a non-linear activation unfuses it), and
 * the fused op's gradient always computes the filter (weight) gradient as well: a weight gradient
 * attribution never asks for, and on a CNN most of the backward pass (95 % of the @vladmandic/human
 * emotion CNN's on tfjs-backend-cpu). {@link splitLinearFused} writes each such node as the plain op
 * (named `<node>/linear`) followed by a `BiasAdd` that keeps the node's name, so every named tensor
 * keeps its value; {@link gradientTwin} loads that graph next to the user's model.
 *
 * @category backends
 * @since 0.3.0
 */
import * as tf from '@tensorflow/tfjs-core'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import type { GraphModelLike } from './runners.js'

/** A node of a GraphModel's topology, as stored in model.json. */
export interface TopologyNode {
  readonly name: string
  readonly op: string
  readonly input?: readonly string[]
  readonly attr?: Readonly<Record<string, unknown>>
  readonly [key: string]: unknown
}

const PLAIN: Readonly<Record<string, string>> = {
  _FusedConv2D: 'Conv2D',
  FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative',
  _FusedMatMul: 'MatMul',
}
/** Attributes only the fused forms have. */
const FUSED_ONLY = new Set(['fused_ops', 'num_args', 'epsilon', 'leakyrelu_alpha'])

const decode = (s: unknown): string => {
  if (typeof s !== 'string') return ''
  // model.json stores strings base64-encoded
  try {
    return typeof atob === 'function' ? atob(s) : s
  } catch {
    return s
  }
}

const fusedOps = (n: TopologyNode): string[] => {
  const list = (n.attr?.fused_ops as { list?: { s?: readonly unknown[] } } | undefined)?.list?.s ?? []
  return list.map(decode)
}

/** The topology with every bias-only fused convolution or matmul split in two (see the module doc). */
export const splitLinearFused = (nodes: readonly TopologyNode[]): TopologyNode[] =>
  nodes.flatMap((n) => {
    const plain = PLAIN[n.op]
    if (plain === undefined || fusedOps(n).join() !== 'BiasAdd' || n.input?.length !== 3) return [n]
    const [x, w, bias] = n.input
    const attr = Object.fromEntries(Object.entries(n.attr ?? {}).filter(([k]) => !FUSED_ONLY.has(k)))
    const linear: TopologyNode = { ...n, name: `${n.name}/linear`, op: plain, input: [x!, w!], attr }
    const add: TopologyNode = { name: n.name, op: 'BiasAdd', input: [linear.name, bias!], attr: { ...(n.attr?.T !== undefined ? { T: n.attr.T } : {}), ...(n.attr?.data_format !== undefined ? { data_format: n.attr.data_format } : {}) } }
    return [linear, add]
  })

/**
 * A GraphModel computing the same tensors as `g` with its bias-only fused nodes split, or `g` itself
 * when there is nothing to split or its artifacts (topology and weight data, kept by tfjs-converter
 * after loading) are not readable. The twin holds its own copy of the weights; the caller disposes it.
 */
export const gradientTwin = (g: GraphModelLike): { readonly model: GraphModelLike; readonly owned: boolean } => {
  const artifacts = (g as unknown as { artifacts?: tf.io.ModelArtifacts }).artifacts
  const topology = artifacts?.modelTopology as { node?: unknown } | undefined
  if (artifacts?.weightData === undefined || !Array.isArray(topology?.node)) return { model: g, owned: false }
  const nodes = topology.node as TopologyNode[]
  const split = splitLinearFused(nodes)
  if (split.length === nodes.length) return { model: g, owned: false }
  try {
    // The first run may sit inside tf.tidy (or a gradient tape): keep the twin's weights past it.
    const twin = loadGraphModelSync({ ...artifacts, modelTopology: { ...topology, node: split } })
    for (const list of Object.values(twin.weights)) list.forEach((t) => tf.keep(t))
    return { model: twin as unknown as GraphModelLike, owned: true }
  } catch {
    return { model: g, owned: false }
  }
}
