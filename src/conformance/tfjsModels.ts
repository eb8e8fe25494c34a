/**
 * Rebuilds the reference networks (`models/<m>.weights.json`, format
 * `clarus-captum-reference/1/weights`) as plain TensorFlow.js functions, so the tfjs backend can be
 * checked against Captum on the very same weights. The builder reads the `architecture` list in
 * order and knows the layer types the fixtures use: Linear, ReLU, Sigmoid, Tanh, Conv2d, MaxPool2d,
 * AdaptiveAvgPool2d(1), a functional flatten, Embedding, a post-norm TransformerEncoder and a
 * functional mean over tokens.
 *
 * Inputs and outputs keep the torch/ONNX layout (images NCHW); convolutions run in NHWC inside, and
 * the flatten goes back to NCHW first so features come out in torch's channel-major order. Only ops
 * whose gradients have kernels on the cpu and wasm backends are used (no fused ops; the embedding
 * table is a constant, so its `gather` never needs the `UnsortedSegmentSum` gradient wasm lacks).
 *
 * @category conformance
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import * as tf from '@tensorflow/tfjs-core'
import type { Tap, TappedFunction } from '../backends/tfjs/model.js'
import type { PerExampleGrad } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { sizeOf } from '../core/tensor.js'
import { InlineTensor, WEIGHTS_FORMAT } from './format.js'
import { buildCausalLm, CAUSAL_LM_BLOCKS } from './tfjsCausalLm.js'

/** A reference network as a tfjs function; weights live until {@link TfjsReferenceModel.dispose}. */
export interface TfjsReferenceModel {
  /** The model name from the weight JSON (`mlp`, `cnn`, …). */
  readonly name: string
  /** Forward pass in the ONNX layout (one input; token ids as int32, other dtypes are cast). */
  readonly fn: (...inputs: tf.Tensor[]) => tf.Tensor
  /**
   * The same network exposing each named torch module's output as a layer (`fc1`, `conv2`,
   * `embedding`, `transformer.layers.0`, …), renamed through `layerNames` when given (e.g. to the
   * ONNX tensor names of the fixtures), in torch's layout.
   */
  readonly tapped: (layerNames?: Readonly<Record<string, string>>) => TappedFunction
  /**
   * The weight tensors the network reads, by torch parameter name (`fc3.weight`, …), for
   * `fromTfjs(…, { parameters })`; layer names renamed as in `tapped`. Linear weights are held
   * transposed ([in, out]); they and their biases carry their per-example factorisation when the
   * Linear follows another named module.
   */
  readonly parameters: (layerNames?: Readonly<Record<string, string>>) => Readonly<Record<string, { readonly tensor: tf.Tensor; readonly perExample?: PerExampleGrad }>>
  /** Releases the weight tensors; `fn` must not be called afterwards. */
  dispose(): void
}

/** The weight JSON. `architecture` entries are read by the builder, type by type. */
export const WeightsFile = t.intersection(
  [
    t.type({
      format: t.literal(WEIGHTS_FORMAT),
      model: t.string,
      architecture: t.array(t.intersection([t.type({ type: t.string }), t.UnknownRecord])),
      parameters: t.record(t.string, InlineTensor),
    }),
    t.partial({ description: t.string, layout: t.string, init: t.string }),
  ],
  'WeightsFile',
)
export type WeightsFile = t.TypeOf<typeof WeightsFile>

/** An int, or a pair written as a list (torch accepts both for kernel sizes, strides and paddings). */
const Pair = t.union([t.Int, t.tuple([t.Int, t.Int])])
const pair = (p: number | readonly [number, number]): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]])

const LinearSpec = t.type({ name: t.string, in_features: t.Int, out_features: t.Int })
const Conv2dSpec = t.intersection([
  t.type({ name: t.string, in_channels: t.Int, out_channels: t.Int, kernel_size: Pair }),
  t.partial({ stride: Pair, padding: Pair, dilation: Pair, groups: t.Int }),
])
const MaxPool2dSpec = t.intersection([
  t.type({ kernel_size: Pair }),
  t.partial({ stride: t.union([Pair, t.null]), padding: Pair, dilation: Pair, ceil_mode: t.boolean }),
])
const AdaptiveAvgPool2dSpec = t.type({ output_size: Pair })
const EmbeddingSpec = t.type({ name: t.string, num_embeddings: t.Int, embedding_dim: t.Int })
const EncoderLayerSpec = t.intersection([
  t.type({ d_model: t.Int, nhead: t.Int, dim_feedforward: t.Int }),
  t.partial({
    activation: t.literal('relu'),
    layer_norm_eps: t.number,
    batch_first: t.literal(true),
    norm_first: t.literal(false),
    dropout: t.number,
  }),
])
const TransformerEncoderSpec = t.type({ name: t.string, num_layers: t.Int, layer: EncoderLayerSpec })

/** Activations carry their layout: NHWC once a convolution has run, torch's layout otherwise. */
interface Act {
  readonly x: tf.Tensor
  readonly nhwc: boolean
  /** Exposes an internal tensor (in torch's NCHW layout) under a torch module name. */
  readonly tap?: Tap
}

/** `tap(name, x)` on the activation in torch's layout, keeping the step's own layout. */
const tapAct = (a: Act, name: string): Act => {
  if (a.tap === undefined) return a
  if (!a.nhwc) return { ...a, x: a.tap(name, a.x) }
  const nchw = a.tap(name, tf.transpose(a.x as tf.Tensor4D, [0, 3, 1, 2]))
  return { ...a, x: tf.transpose(nchw as tf.Tensor4D, [0, 2, 3, 1]) }
}
type Step = (a: Act) => Act

const toNhwc = (a: Act): tf.Tensor4D => (a.nhwc ? (a.x as tf.Tensor4D) : tf.transpose(a.x as tf.Tensor4D, [0, 2, 3, 1]))

/** `x Wᵀ + b` over the last axis of any-rank `x`, with `Wᵀ` pre-transposed to [in, out]. */
const linear = (x: tf.Tensor, wT: tf.Tensor2D, b: tf.Tensor1D | undefined): tf.Tensor => {
  const inF = wT.shape[0]
  const outF = wT.shape[1]
  const lead = x.shape.slice(0, -1)
  // x' dim -> (prod(lead) x in): tfjs matMul wants matching ranks, so fold the leading axes.
  const y2 = tf.matMul(x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]), wT)
  const y = b === undefined ? y2 : tf.add(y2, b)
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outF])
}

const layerNorm = (x: tf.Tensor, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor => {
  const mean = tf.mean(x, -1, true)
  const centered = tf.sub(x, mean)
  const variance = tf.mean(tf.square(centered), -1, true)
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), w), b)
}

/** Collects the weight tensors while the steps are built, so a failure half-way frees them. */
class Params {
  readonly owned: tf.Tensor[] = []
  /** Parameter name → the tensor the network reads (after `derive`). */
  readonly named = new Map<string, tf.Tensor>()
  constructor(private readonly json: WeightsFile) {}

  /** Parameter `name`, checked against `shape`; created once, outside any tidy. */
  get(name: string, shape: readonly number[]): E.Either<AttributionError, tf.Tensor> {
    const p = this.json.parameters[name]
    if (p === undefined) return E.left(err('BadModel', `the weight JSON has no parameter ${name}; the architecture needs one of shape [${shape.join(', ')}]`, ['parameters', name]))
    if (p.dtype !== 'float32') return E.left(err('BadModel', `parameter ${name} is ${p.dtype}; expected float32`, ['parameters', name, 'dtype']))
    if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
      return E.left(err('BadModel', `parameter ${name} has shape [${p.shape.join(', ')}]; the architecture needs [${shape.join(', ')}]`, ['parameters', name, 'shape']))
    }
    const flat = new Float32Array(sizeOf(shape))
    let k = 0
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) for (const x of v) walk(x)
      else flat[k++] = typeof v === 'number' ? v : Number(v)
    }
    walk(p.data)
    const tensor = tf.tensor(flat, [...shape], 'float32')
    this.owned.push(tensor)
    this.named.set(name, tensor)
    return E.right(tensor)
  }

  /** A tensor derived once from parameters (a transposed kernel); it replaces its source in `owned`. */
  derive<T extends tf.Tensor>(src: tf.Tensor, f: (s: tf.Tensor) => T): T {
    const out = tf.tidy(() => f(src))
    const i = this.owned.indexOf(src)
    if (i >= 0) this.owned.splice(i, 1)
    for (const [name, t] of this.named) if (t === src) this.named.set(name, out)
    src.dispose()
    this.owned.push(out)
    return out
  }

  /** Optional bias: absent from the JSON means `bias=False`. */
  bias(name: string, n: number): E.Either<AttributionError, tf.Tensor1D | undefined> {
    return name in this.json.parameters ? pipe(this.get(name, [n]), E.map((b) => b as tf.Tensor1D)) : E.right(undefined)
  }

  dispose(): void {
    for (const x of this.owned) x.dispose()
    this.owned.length = 0
  }
}

const spec = <A>(codec: t.Decoder<unknown, A>, u: unknown, i: number): E.Either<AttributionError, A> =>
  decodeWith(codec, u, ['architecture', String(i)])

const unsupported = (message: string, i: number, field = 'type'): E.Either<AttributionError, never> =>
  E.left(err('Unsupported', message, ['architecture', String(i), field]))

const linearStep = (P: Params, s: t.TypeOf<typeof LinearSpec>): E.Either<AttributionError, Step> =>
  pipe(
    E.Do,
    E.bind('w', () => P.get(`${s.name}.weight`, [s.out_features, s.in_features])),
    E.bind('b', () => P.bias(`${s.name}.bias`, s.out_features)),
    E.map(({ w, b }) => {
      // torch stores [out, in]; keep Wᵀ so the forward pass is one plain matMul.
      const wT = P.derive(w, (x) => tf.transpose(x as tf.Tensor2D))
      return (a: Act): Act => ({ x: linear(a.x, wT, b), nhwc: a.nhwc })
    }),
  )

const conv2dStep = (P: Params, s: t.TypeOf<typeof Conv2dSpec>, i: number): E.Either<AttributionError, Step> => {
  const [kh, kw] = pair(s.kernel_size)
  const [sh, sw] = pair(s.stride ?? 1)
  const [ph, pw] = pair(s.padding ?? 0)
  if ((s.groups ?? 1) !== 1) return unsupported('grouped Conv2d is not supported by the tfjs rebuild', i, 'groups')
  if (pair(s.dilation ?? 1).some((d) => d !== 1)) return unsupported('dilated Conv2d is not supported by the tfjs rebuild', i, 'dilation')
  // torch's symmetric "same" padding for odd kernels at stride 1 is tfjs 'same'; anything else is explicit.
  const pad: 'same' | [[number, number], [number, number], [number, number], [number, number]] =
    sh === 1 && sw === 1 && kh % 2 === 1 && kw % 2 === 1 && ph === (kh - 1) / 2 && pw === (kw - 1) / 2
      ? 'same'
      : [[0, 0], [ph, ph], [pw, pw], [0, 0]]
  return pipe(
    E.Do,
    E.bind('w', () => P.get(`${s.name}.weight`, [s.out_channels, s.in_channels, kh, kw])),
    E.bind('b', () => P.bias(`${s.name}.bias`, s.out_channels)),
    E.map(({ w, b }) => {
      // [out, in, kh, kw] -> [kh, kw, in, out]
      const k = P.derive(w, (x) => tf.transpose(x as tf.Tensor4D, [2, 3, 1, 0]))
      return (a: Act): Act => {
        const y = tf.conv2d(toNhwc(a), k, [sh, sw], pad)
        return { x: b === undefined ? y : tf.add(y, b), nhwc: true }
      }
    }),
  )
}

const maxPoolStep = (s: t.TypeOf<typeof MaxPool2dSpec>, i: number): E.Either<AttributionError, Step> => {
  const k = pair(s.kernel_size)
  const st = s.stride === undefined || s.stride === null ? k : pair(s.stride)
  if (pair(s.padding ?? 0).some((p) => p !== 0)) return unsupported('padded MaxPool2d is not supported by the tfjs rebuild', i, 'padding')
  if (pair(s.dilation ?? 1).some((d) => d !== 1)) return unsupported('dilated MaxPool2d is not supported by the tfjs rebuild', i, 'dilation')
  if (s.ceil_mode === true) return unsupported('MaxPool2d with ceil_mode is not supported by the tfjs rebuild', i, 'ceil_mode')
  // torch floors the output size, which is tfjs 'valid'.
  return E.right((a) => ({ x: tf.maxPool(toNhwc(a), k, st, 'valid'), nhwc: true }))
}

const transformerStep = (P: Params, s: t.TypeOf<typeof TransformerEncoderSpec>, i: number): E.Either<AttributionError, Step> => {
  const { d_model: d, nhead: h, dim_feedforward: ff } = s.layer
  const eps = s.layer.layer_norm_eps ?? 1e-5
  if (d % h !== 0) return unsupported(`d_model ${d} is not divisible by nhead ${h}`, i, 'layer')
  const dh = d / h
  const layers: E.Either<AttributionError, Step>[] = Array.from({ length: s.num_layers }, (_, l) => {
    const p = `${s.name}.layers.${l}`
    const lin = (name: string, outF: number, inF: number) =>
      pipe(
        P.get(`${p}.${name}.weight`, [outF, inF]),
        E.map((w) => P.derive(w, (x) => tf.transpose(x as tf.Tensor2D))),
        E.chain((wT) => pipe(P.bias(`${p}.${name}.bias`, outF), E.map((b) => ({ wT, b })))),
      )
    return pipe(
      E.Do,
      E.bind('inProj', () =>
        pipe(
          P.get(`${p}.self_attn.in_proj_weight`, [3 * d, d]),
          E.map((w) => P.derive(w, (x) => tf.transpose(x as tf.Tensor2D))),
          E.chain((wT) => pipe(P.bias(`${p}.self_attn.in_proj_bias`, 3 * d), E.map((b) => ({ wT, b })))),
        ),
      ),
      E.bind('outProj', () => lin('self_attn.out_proj', d, d)),
      E.bind('lin1', () => lin('linear1', ff, d)),
      E.bind('lin2', () => lin('linear2', d, ff)),
      E.bind('n1w', () => P.get(`${p}.norm1.weight`, [d])),
      E.bind('n1b', () => P.get(`${p}.norm1.bias`, [d])),
      E.bind('n2w', () => P.get(`${p}.norm2.weight`, [d])),
      E.bind('n2b', () => P.get(`${p}.norm2.bias`, [d])),
      E.map((w): Step => (a) => {
        const x = a.x // (N, L, d), batch_first
        const [n, len] = x.shape as [number, number, number]
        const qkv = linear(x, w.inProj.wT, w.inProj.b) // (N, L, 3d): rows of in_proj_weight stack W_q, W_k, W_v
        // q, k, v dim -> (N x h x L x dh)
        const heads = (j: number) =>
          tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, j * d], [n, len, d]), [n, len, h, dh]), [0, 2, 1, 3])
        const q = tf.div(heads(0), Math.sqrt(dh))
        const scores = tf.matMul(q as tf.Tensor4D, heads(1) as tf.Tensor4D, false, true) // (N x h x L x L)
        const ctx = tf.matMul(tf.softmax(scores) as tf.Tensor4D, heads(2) as tf.Tensor4D) // (N x h x L x dh)
        const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [n, len, d])
        const attn = linear(merged, w.outProj.wT, w.outProj.b)
        const x1 = layerNorm(tf.add(x, attn), w.n1w as tf.Tensor1D, w.n1b as tf.Tensor1D, eps)
        const hidden = linear(tf.relu(linear(x1, w.lin1.wT, w.lin1.b)), w.lin2.wT, w.lin2.b)
        return { x: layerNorm(tf.add(x1, hidden), w.n2w as tf.Tensor1D, w.n2b as tf.Tensor1D, eps), nhwc: false }
      }),
    )
  })
  return pipe(
    layers,
    E.sequenceArray,
    E.map((steps) => (a: Act) => steps.reduce((acc, f, l) => tapAct({ ...f(acc), ...(acc.tap ? { tap: acc.tap } : {}) }, `${s.name}.layers.${l}`), a)),
  )
}

/** One architecture entry → one step. */
const stepFor = (P: Params, entry: { type: string } & Record<string, unknown>, i: number): E.Either<AttributionError, Step> => {
  const type = entry.type
  switch (type) {
    case 'Linear':
      return pipe(spec(LinearSpec, entry, i), E.chain((s) => linearStep(P, s)))
    case 'ReLU':
      return E.right((a) => ({ x: tf.relu(a.x), nhwc: a.nhwc }))
    case 'Sigmoid':
      return E.right((a) => ({ x: tf.sigmoid(a.x), nhwc: a.nhwc }))
    case 'Tanh':
      return E.right((a) => ({ x: tf.tanh(a.x), nhwc: a.nhwc }))
    case 'Conv2d':
      return pipe(spec(Conv2dSpec, entry, i), E.chain((s) => conv2dStep(P, s, i)))
    case 'MaxPool2d':
      return pipe(spec(MaxPool2dSpec, entry, i), E.chain((s) => maxPoolStep(s, i)))
    case 'AdaptiveAvgPool2d':
      return pipe(
        spec(AdaptiveAvgPool2dSpec, entry, i),
        E.chain((s) =>
          pair(s.output_size).every((o) => o === 1)
            ? E.right<AttributionError, Step>((a) => ({ x: tf.mean(toNhwc(a), [1, 2], true), nhwc: true }))
            : unsupported('only AdaptiveAvgPool2d(1) is supported by the tfjs rebuild', i, 'output_size'),
        ),
      )
    case 'Embedding':
      return pipe(
        spec(EmbeddingSpec, entry, i),
        E.chain((s) => P.get(`${s.name}.weight`, [s.num_embeddings, s.embedding_dim])),
        E.map((table): Step => (a) => ({ x: tf.gather(table, a.x.dtype === 'int32' ? a.x : tf.cast(a.x, 'int32')), nhwc: false })),
      )
    case 'TransformerEncoder':
      return pipe(spec(TransformerEncoderSpec, entry, i), E.chain((s) => transformerStep(P, s, i)))
  }
  // Functional ops are recorded with a descriptive type ("flatten (functional torch.flatten(x, 1))").
  if (type.startsWith('flatten')) {
    const start = typeof entry['start_dim'] === 'number' ? entry['start_dim'] : 1
    if (start !== 1) return unsupported(`flatten from dimension ${start} is not supported by the tfjs rebuild`, i, 'start_dim')
    return E.right((a) => {
      // Back to NCHW first: torch flattens channel-major.
      const x = a.nhwc ? tf.transpose(a.x, [0, 3, 1, 2]) : a.x
      return { x: tf.reshape(x, [x.shape[0] ?? -1, -1]), nhwc: false }
    })
  }
  if (type.startsWith('mean')) {
    const dim = Number(/dim\s*=\s*(-?\d+)/.exec(type)?.[1] ?? 1)
    return E.right((a) => ({ x: tf.mean(a.x, dim), nhwc: false }))
  }
  return unsupported(`layer type ${JSON.stringify(type)} is not supported by the tfjs rebuild`, i)
}

/** A causal LM weight JSON (`tinylm`) as a tfjs function (see `tfjsCausalLm.ts`). */
const causalLmModel = (json: WeightsFile, P: Params): E.Either<AttributionError, TfjsReferenceModel> => {
  const lm = buildCausalLm(P, json.architecture)
  if (E.isLeft(lm)) {
    P.dispose()
    return lm
  }
  let disposed = false
  const run = (inputs: readonly tf.Tensor[], tap?: Tap): tf.Tensor => {
    if (disposed) throw new Error(`reference model ${json.model} was disposed`)
    if (inputs.length !== 1 || inputs[0] === undefined) throw new Error(`reference model ${json.model} takes one input (input_ids), got ${inputs.length}`)
    // With a tap, the caller (fromTfjs) owns the scope: tapped tensors must outlive this call.
    return tap ? lm.right.run(inputs[0], tap) : tf.tidy(() => lm.right.run(inputs[0]!))
  }
  return E.right({
    name: json.model,
    fn: (...inputs: tf.Tensor[]) => run(inputs),
    parameters: () => Object.fromEntries([...P.named].map(([n, tensor]) => [n, { tensor }])),
    tapped: (layerNames = {}) => ({
      layers: lm.right.modules.map((n) => layerNames[n] ?? n),
      fn: (tap: Tap, ...inputs: tf.Tensor[]) => run(inputs, (name, t) => tap(layerNames[name] ?? name, t)),
    }),
    dispose: () => {
      disposed = true
      P.dispose()
    },
  })
}

/**
 * Builds the network described by a reference weight JSON as a tfjs function.
 *
 * Captum: none; this is test infrastructure that recreates the torch modules of the fixtures
 * (`y = x Wᵀ + b` for Linear with `W` in torch's [out, in] layout; Conv2d kernels [out, in, kh, kw]).
 */
export const buildTfjsReferenceModel = (weightsJson: unknown): E.Either<AttributionError, TfjsReferenceModel> =>
  pipe(
    decodeWith(WeightsFile, weightsJson),
    E.chain((json): E.Either<AttributionError, TfjsReferenceModel> => {
      const P = new Params(json)
      if (json.architecture.some((e) => e.type === CAUSAL_LM_BLOCKS)) return causalLmModel(json, P)
      const steps: Step[] = []
      for (const [i, entry] of json.architecture.entries()) {
        const r = stepFor(P, entry, i)
        if (E.isLeft(r)) {
          P.dispose()
          return r
        }
        steps.push(r.right)
      }
      let disposed = false
      const names = json.architecture.map((e) => (typeof e['name'] === 'string' ? (e['name'] as string) : undefined))
      const run = (input: tf.Tensor | undefined, count: number, tap?: Tap): tf.Tensor => {
        if (disposed) throw new Error(`reference model ${json.model} was disposed`)
        if (input === undefined || count !== 1) throw new Error(`reference model ${json.model} takes one input, got ${count}`)
        // With a tap, the caller (fromTfjs) owns the scope: tapped tensors must outlive this call.
        const scope = (f: () => tf.Tensor): tf.Tensor => (tap ? f() : tf.tidy(f))
        return scope(() => {
          const out = steps.reduce((a, f, i) => {
            const next: Act = { ...f(a), ...(tap ? { tap } : {}) }
            return names[i] === undefined ? next : tapAct(next, names[i]!)
          }, { x: input, nhwc: false, ...(tap ? { tap } : {}) } as Act)
          // A network ending in a conv stage still answers in NCHW.
          return out.nhwc && out.x.rank === 4 ? tf.transpose(out.x, [0, 3, 1, 2]) : out.x
        })
      }
      const moduleNames = [
        ...names.filter((n): n is string => n !== undefined),
        ...json.architecture.flatMap((e) => (e.type === 'TransformerEncoder' && typeof e['name'] === 'string' && typeof e['num_layers'] === 'number'
          ? Array.from({ length: e['num_layers'] as number }, (_, l) => `${e['name'] as string}.layers.${l}`)
          : [])),
      ]
      return E.right({
        name: json.model,
        fn: (...inputs: tf.Tensor[]): tf.Tensor => run(inputs[0], inputs.length),
        parameters: (layerNames = {}) => {
          const renamed = (n: string): string => layerNames[n] ?? n
          // a Linear right after another named module: gradient of row i = aᵢ ⊗ gᵢ (Wᵀ is [in, out])
          const factors = new Map<string, PerExampleGrad>()
          json.architecture.forEach((e, i) => {
            const prev = names[i - 1]
            if (e.type !== 'Linear' || names[i] === undefined || prev === undefined) return
            const output = renamed(names[i]!)
            factors.set(`${names[i]!}.weight`, { kind: 'outer', output, input: renamed(prev), outputFirst: false, scale: 1 })
            factors.set(`${names[i]!}.bias`, { kind: 'rows', output, scale: 1 })
          })
          return Object.fromEntries([...P.named].map(([n, tensor]) => {
            const perExample = factors.get(n)
            return [n, { tensor, ...(perExample !== undefined ? { perExample } : {}) }]
          }))
        },
        tapped: (layerNames = {}) => ({
          layers: moduleNames.map((n) => layerNames[n] ?? n),
          fn: (tap: Tap, ...inputs: tf.Tensor[]) => run(inputs[0], inputs.length, (name, t) => tap(layerNames[name] ?? name, t)),
        }),
        dispose: () => {
          disposed = true
          P.dispose()
        },
      })
    }),
  )
