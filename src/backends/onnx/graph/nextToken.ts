/**
 * A causal LM's scoring head, appended to its graph: for ids [N, L] and logits [N, L, V],
 * `next[n, p] = log softmax(logits[n, p])[ids[n, p + 1]]` (the last position reads id 0: ignore it), as float32
 * [N, L]. Scoring a target by teacher forcing needs only these numbers, so with the head the
 * [N, L, V] logits stay inside ONNX Runtime (whose log-softmax is vectorised and threaded) instead
 * of crossing to the host, where a vocabulary-wide log-softmax per position costs more than the
 * forward pass of a small model.
 *
 * @category backends
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../../core/errors.js'
import { attr, ElemType, opsetOf, type Graph, type Node } from './ir.js'
import { upgradeOpset } from './upgradeOpset.js'
import type { OnnxDevice } from '../device.js'

/** The name of the head's output. */
export const NEXT_TOKEN_LOGP = 'clarus/next_token/logp'

const P = 'clarus/next_token/'
const node = (opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Node['attributes'] = []): Node =>
  ({ name: `${P}${opType}_${outputs[0]!.slice(P.length)}`, opType, domain: '', inputs, outputs, attributes })
const ints = (name: string, values: readonly string[]): Node =>
  node('Constant', [], [name], [attr.tensor('value', { dims: [values.length], dataType: ElemType.INT64, int64Data: [...values] })])

/**
 * log softmax over the last axis of a rank-3 tensor from elementwise ops and reductions: ONNX
 * Runtime's WebGPU provider has no LogSoftmax kernel, so on WebGPU the op would pull the [N, L, V]
 * logits to the host. x − max − log Σ exp(x − max), as LogSoftmax computes it.
 */
const logSoftmaxNodes = (logits: string, out: string, opset: number): Node[] => {
  const n = (s: string): string => `${P}${s}`
  const max = opset >= 18
    ? node('ReduceMax', [logits, n('axis2')], [n('max')], [attr.int('keepdims', 1)])
    : node('ReduceMax', [logits], [n('max')], [attr.ints('axes', [2]), attr.int('keepdims', 1)])
  return [
    max,
    node('Sub', [logits, n('max')], [n('shifted')]),
    node('Exp', [n('shifted')], [n('exp')]),
    node('ReduceSum', [n('exp'), n('axis2')], [n('sumexp')], [attr.int('keepdims', 1)]),
    node('Log', [n('sumexp')], [n('lse')]),
    node('Sub', [n('shifted'), n('lse')], [out]),
  ]
}

/**
 * The graph with the head appended (opset 13 forms; an older graph is upgraded first). On `'webgpu'`
 * the log softmax is spelled in ops that device runs (see `logSoftmaxNodes`).
 */
export const withNextTokenHead = (g0: Graph, logits: string, ids: string, device: OnnxDevice = 'cpu'): E.Either<AttributionError, Graph> => {
  if (!g0.inputs.some((i) => i.name === ids)) return E.left(err('UnknownTensor', `the scoring head reads the token ids from a graph input; ${JSON.stringify(ids)} is not one`, ['inputs']))
  const up = opsetOf(g0) < 13 ? upgradeOpset(g0, 13) : E.right(g0)
  if (E.isLeft(up)) return up
  const g = up.right
  const n = (s: string): string => `${P}${s}`
  const nodes: Node[] = [
    ints(n('one'), ['1']),
    ints(n('zero'), ['0']),
    ints(n('end'), ['9223372036854775807']),
    ints(n('axis1'), ['1']),
    ints(n('axis2'), ['2']),
    // ids[:, 1:] followed by a column of zeros: the token each position predicts
    node('Slice', [ids, n('one'), n('end'), n('axis1')], [n('after')]),
    node('Slice', [ids, n('zero'), n('one'), n('axis1')], [n('first')]),
    node('Sub', [n('first'), n('first')], [n('zeros')]),
    node('Concat', [n('after'), n('zeros')], [n('next')], [attr.int('axis', 1)]),
    node('Unsqueeze', [n('next'), n('axis2')], [n('index')]),
    ...(device === 'webgpu' ? logSoftmaxNodes(logits, n('logsoftmax'), opsetOf(g)) : [node('LogSoftmax', [logits], [n('logsoftmax')], [attr.int('axis', -1)])]),
    node('GatherElements', [n('logsoftmax'), n('index')], [n('picked')], [attr.int('axis', 2)]),
    node('Squeeze', [n('picked'), n('axis2')], [NEXT_TOKEN_LOGP]),
  ]
  // its type stated here: shape inference need not know GatherElements
  return E.right({ ...g, nodes: [...g.nodes, ...nodes], outputs: [...g.outputs, { name: NEXT_TOKEN_LOGP, elemType: ElemType.FLOAT, shape: null }] })
}
