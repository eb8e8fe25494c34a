/**
 * {@link fromTransformers}: a causal LM and its tokenizer that you loaded with transformers.js
 * (`@huggingface/transformers`) as a clarus {@link Model} and {@link Tokenizer}, ready for
 * `llmAttribution` and `llmGradientAttribution`.
 *
 * - **Forward passes** run your model through its own `forward`: transformers.js feeds its session
 *   what it declares (an empty KV cache, `use_cache_branch`, `num_logits_to_keep`, …), so every
 *   perturbation method works with nothing but the loaded model.
 * - **Gradients.** transformers.js runs ONNX Runtime inference sessions, which have no backward
 *   pass, so clarus re-reads the model's ONNX file with `fromOnnx` (which appends the backward graph)
 *   and sends `vjp`, and forward passes that capture or replace internal tensors (the embedding, for
 *   LayerIntegratedGradients), there. A loaded transformers.js model does not record where its file
 *   came from (the session keeps only its dtype and device), so give the folder as `modelPath` (the
 *   file is then found as transformers.js names it: `onnx/model` + the dtype's suffix + `.onnx`) or
 *   the file itself as `onnxFile`. Without either the model is forward-only, and gradient methods
 *   get an `Unsupported` error naming these options.
 * - **The tokenizer**: `encode` with or without special tokens, `decode` with special tokens kept,
 *   the vocabulary from `get_vocab()`, special ids from `all_special_ids`. transformers.js gives no
 *   character offsets, so `encodeWithOffsets` finds each token's decoded text in the input
 *   (case-insensitively, across whitespace only); a token it cannot place gets an empty span.
 *
 * clarus does not depend on transformers.js: it reads your objects through the small interfaces
 * below, and makes the tensors it feeds with the constructor of the tensors your tokenizer returns
 * (the model's sessions accept only that library copy's `Tensor` class; pass `Tensor` to choose).
 * It is exported from `clarus/onnx` (it reads ONNX files; the core entry loads no engine); the
 * tokenizer adapter alone, `transformersTokenizer`, from `clarus`.
 *
 * @example
 * ```ts
 * import { env, AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers'
 * env.allowRemoteModels = false
 * const hf = await AutoModelForCausalLM.from_pretrained('./models/my-lm', { dtype: 'fp32' })
 * const hfTok = await AutoTokenizer.from_pretrained('./models/my-lm')
 * const lm = await fromTransformers(hf, hfTok, { modelPath: './models/my-lm' })
 * ```
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Model, ModelSignature, TensorInfo } from '../../core/backend.js'
import { backendFailure, err, isAttributionError, type AttributionError } from '../../core/errors.js'
import { nonFiniteIn } from '../../core/finite.js'
import type { HostTensor } from '../../core/tensor.js'
import { hostBackend } from '../host/hostBackend.js'
import { fromOnnx, type FromOnnxOptions } from './model.js'
import type { Tokenizer } from '../../llm/types.js'
import { transformersTokenizer, type TransformersTokenizer } from '../../llm/transformersTokenizer.js'

/** The parts of a transformers.js `Tensor` clarus reads. */
export interface TransformersTensor {
  readonly type: string
  readonly dims: readonly number[]
  readonly data: unknown
  dispose?(): void
}

/** A transformers.js `Tensor` constructor (`new Tensor(type, data, dims)`). */
export type TransformersTensorConstructor = new (type: string, data: BigInt64Array, dims: number[]) => TransformersTensor

/** The parts of a transformers.js inference session clarus reads. */
export interface TransformersSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  /** Set by transformers.js when it creates the session: the dtype picks the file name's suffix. */
  readonly config?: { readonly dtype?: string }
}

/** What clarus uses of a model loaded with `AutoModelForCausalLM.from_pretrained`. */
export interface TransformersCausalLM {
  readonly config: { readonly model_type?: string | null; readonly is_encoder_decoder?: boolean }
  readonly sessions: Readonly<Record<string, TransformersSession>>
  forward(inputs: Record<string, TransformersTensor>): Promise<unknown>
}

export interface FromTransformersOptions {
  /**
   * The folder the model was loaded from (the path given to `from_pretrained`, or
   * `env.localModelPath` + the model id). The ONNX file is `<modelPath>/<subfolder>/<modelFileName><suffix>.onnx`,
   * the suffix being the one transformers.js used for the session's dtype (`''` for fp32,
   * `_quantized` for q8, …).
   */
  readonly modelPath?: string
  /** As `from_pretrained`'s `subfolder` (default `'onnx'`). */
  readonly subfolder?: string
  /** As `from_pretrained`'s `model_file_name` (default `'model'`). */
  readonly modelFileName?: string
  /** The ONNX file (path or bytes) to differentiate; overrides `modelPath`. */
  readonly onnxFile?: string | Uint8Array
  /** Passed to `fromOnnx` for the gradient model (session options, runtime module, bytesPerRow). */
  readonly onnx?: Pick<FromOnnxOptions, 'ort' | 'session' | 'bytesPerRow' | 'device'>
  /** The transformers.js `Tensor` class (default: the class of the tensors your tokenizer returns). */
  readonly Tensor?: TransformersTensorConstructor
}

/** A transformers.js causal LM as clarus sees it. */
export interface TransformersLM {
  /** Forward passes through your model; gradients through its ONNX file when one was given or found. */
  readonly model: Model<HostTensor>
  readonly tokenizer: Tokenizer
  /** Whether gradient methods can run (an ONNX file was read). */
  readonly differentiable: boolean
}

/** transformers.js's file-name suffix per dtype (its `DEFAULT_DTYPE_SUFFIX_MAPPING`). */
const DTYPE_SUFFIX: Readonly<Record<string, string>> = {
  fp32: '', fp16: '_fp16', int8: '_int8', uint8: '_uint8', q8: '_quantized', q4: '_q4', q4f16: '_q4f16',
  q2: '_q2', q2f16: '_q2f16', q1: '_q1', q1f16: '_q1f16', bnb4: '_bnb4',
}

/** The causal-LM inputs clarus fills, in the order it passes them. */
const FILLED = ['input_ids', 'attention_mask', 'position_ids'] as const

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => (typeof u === 'object' || typeof u === 'function') && u !== null
const bad = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(err('BadModel', message, path))
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const isTensorLike = (u: unknown): u is TransformersTensor => isObject(u) && typeof u['type'] === 'string' && Array.isArray(u['dims'])

/** The decoder session of a decoder-only causal LM, or why `model` is not one. */
const sessionOf = (model: TransformersCausalLM): E.Either<AttributionError, TransformersSession> => {
  if (!isObject(model) || typeof model.forward !== 'function' || !isObject(model.sessions) || !isObject(model.config)) {
    return bad('fromTransformers takes a model loaded with transformers.js (AutoModelForCausalLM.from_pretrained): this object has no forward, sessions or config', ['model'])
  }
  const names = Object.keys(model.sessions)
  if (model.config.is_encoder_decoder === true || names.some((n) => n.startsWith('decoder_model'))) {
    return bad(`this ${model.config.model_type ?? ''} model is an encoder-decoder (sessions: ${names.join(', ')}); fromTransformers takes decoder-only causal LMs (AutoModelForCausalLM)`, ['model'])
  }
  const s = model.sessions['model']
  if (s === undefined || !Array.isArray(s.inputNames) || !Array.isArray(s.outputNames)) {
    return bad(`the model has no "model" session (sessions: ${names.join(', ') || 'none'}); fromTransformers takes decoder-only causal LMs whose one ONNX file maps token ids to logits`, ['model', 'sessions'])
  }
  if (!s.inputNames.includes('input_ids')) {
    return bad(`the model's session takes no input_ids (inputs: ${s.inputNames.join(', ')}): a text causal LM takes token ids; a multimodal one that takes embeddings is not supported`, ['model', 'inputs'])
  }
  if (!s.outputNames.includes('logits')) {
    return bad(`the model returns no logits (outputs: ${s.outputNames.join(', ')}): load it with AutoModelForCausalLM, not AutoModel`, ['model', 'outputs'])
  }
  return E.right(s)
}

/** The `Tensor` class of the user's transformers.js copy: given, or that of the tensors the tokenizer returns. */
const tensorClassOf = (tok: TransformersTokenizer, given: TransformersTensorConstructor | undefined): E.Either<AttributionError, TransformersTensorConstructor> => {
  if (given !== undefined) return E.right(given)
  const hint = 'pass fromTransformers(model, tokenizer, { Tensor }) with Tensor imported from @huggingface/transformers'
  if (typeof tok !== 'function') return bad(`the tokenizer cannot be called, so clarus cannot find transformers.js's Tensor class: ${hint}`, ['Tensor'])
  try {
    const out: unknown = (tok as unknown as (text: string) => unknown)('')
    const ids = isObject(out) ? out['input_ids'] : undefined
    if (isTensorLike(ids) && typeof (ids as object).constructor === 'function') return E.right((ids as object).constructor as TransformersTensorConstructor)
  } catch (e) {
    return bad(`calling the tokenizer failed (${messageOf(e)}), so clarus cannot find transformers.js's Tensor class: ${hint}`, ['Tensor'])
  }
  return bad(`the tokenizer returned no input_ids tensor, so clarus cannot find transformers.js's Tensor class: ${hint}`, ['Tensor'])
}

/** Where transformers.js read the session's file from, when the options tell the folder. */
const onnxFileOf = (session: TransformersSession, o: FromTransformersOptions): E.Either<AttributionError, string | Uint8Array | undefined> => {
  if (o.onnxFile !== undefined) return E.right(o.onnxFile)
  if (o.modelPath === undefined) return E.right(undefined)
  const dtype = session.config?.dtype ?? 'fp32'
  const suffix = DTYPE_SUFFIX[dtype]
  if (suffix === undefined) return bad(`the session's dtype ${JSON.stringify(dtype)} has no known file-name suffix: pass the file as { onnxFile }`, ['modelPath'])
  const dir = o.modelPath.replace(/[/\\]+$/u, '')
  return E.right(`${dir}/${o.subfolder ?? 'onnx'}/${o.modelFileName ?? 'model'}${suffix}.onnx`)
}

/** HostTensor ids (int32 or int64) as the BigInt64Array transformers.js's int64 tensors hold. */
const int64Of = (x: HostTensor): BigInt64Array | undefined =>
  x.data instanceof BigInt64Array ? x.data.slice() : x.data instanceof Int32Array ? BigInt64Array.from(x.data, (v) => BigInt(v)) : undefined

const noGradients = (what: string): AttributionError =>
  err('Unsupported', `${what} needs the model's ONNX file, which transformers.js does not keep: pass fromTransformers(model, tokenizer, { modelPath }) with the folder you loaded it from, or { onnxFile }; perturbation methods (FeatureAblation, ShapleyValues, Lime, …) need neither`, ['model'])

/**
 * A transformers.js causal LM and tokenizer as a clarus {@link Model} and {@link Tokenizer}. Errors:
 * `BadModel` when the model is not a decoder-only causal LM returning logits, the tokenizer has no
 * vocabulary, or the ONNX file cannot be read (with the path tried and the option to pass);
 * `Unsupported` when the ONNX file takes inputs clarus cannot fill (a KV-cache export). `dispose()`
 * releases what clarus loaded (the gradient model), never your transformers.js model.
 */
export const fromTransformers = async (
  model: TransformersCausalLM,
  tokenizer: TransformersTokenizer,
  options: FromTransformersOptions = {},
): Promise<E.Either<AttributionError, TransformersLM>> => {
  const session = sessionOf(model)
  if (E.isLeft(session)) return session
  const tok = transformersTokenizer(tokenizer)
  if (E.isLeft(tok)) return tok
  const Tensor = tensorClassOf(tokenizer, options.Tensor)
  if (E.isLeft(Tensor)) return Tensor
  const inputNames = FILLED.filter((n) => session.right.inputNames.includes(n))
  const file = onnxFileOf(session.right, options)
  if (E.isLeft(file)) return file

  let onnx: Model<HostTensor> | undefined
  let onnxIndex: number[] = []
  if (file.right !== undefined) {
    const where = typeof file.right === 'string' ? file.right : 'the given bytes'
    const m = await fromOnnx(file.right, { ...options.onnx, output: 'logits' })
    if (E.isLeft(m)) {
      return bad(`cannot use ${where} as the model's ONNX file for gradients: ${m.left.message}. ${options.onnxFile === undefined ? 'If transformers.js read another file (a subfolder, model_file_name or dtype of your own), pass it as { onnxFile }' : 'Check the path'}; leave out modelPath and onnxFile to use perturbation methods only`, ['onnxFile'])
    }
    const names = m.right.signature.inputs.map((i) => i.name)
    const others = names.filter((n) => !(inputNames as readonly string[]).includes(n))
    if (others.length > 0) {
      await m.right.dispose()
      return E.left(err('Unsupported', `${where} takes inputs clarus cannot fill for gradients: ${others.join(', ')} (clarus fills ${inputNames.join(', ')}). A KV-cache export (past_key_values) needs an export without the cache for gradients (e.g. optimum's task "text-generation" rather than "text-generation-with-past"); leave out modelPath and onnxFile to use perturbation methods only`, ['onnxFile']))
    }
    onnx = m.right
    onnxIndex = names.map((n) => (inputNames as readonly string[]).indexOf(n))
  }

  const vocab = onnx?.signature.outputs[0]?.shape.at(-1) ?? 'vocab'
  const signature: ModelSignature = {
    inputs: inputNames.map((name): TensorInfo => ({ name, dtype: 'int64', shape: ['batch', 'sequence'] })),
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', vocab] }],
    layers: onnx?.signature.layers ?? [],
    ...(onnx?.signature.layerInfo ? { layerInfo: onnx.signature.layerInfo } : {}),
    ...(onnx?.signature.parameters ? { parameters: onnx.signature.parameters } : {}),
  }
  const toOnnx = (inputs: readonly HostTensor[]): HostTensor[] => onnxIndex.map((i) => inputs[i]!)

  const runHf = async (inputs: readonly HostTensor[], allowNonFinite: boolean): Promise<E.Either<AttributionError, HostTensor>> => {
    if (inputs.length !== inputNames.length) {
      return E.left(err('ShapeMismatch', `got ${inputs.length} input tensors but the model takes ${inputNames.length} (${inputNames.join(', ')})`, ['inputs']))
    }
    const feeds: Record<string, TransformersTensor> = {}
    let out: unknown
    try {
      for (const [i, name] of inputNames.entries()) {
        const data = int64Of(inputs[i]!)
        if (data === undefined) return E.left(err('DTypeMismatch', `${name} must hold integers (int32 or int64); got ${inputs[i]!.dtype}`, ['inputs', String(i)]))
        feeds[name] = new Tensor.right('int64', data, [...inputs[i]!.shape])
      }
      out = await model.forward(feeds)
    } catch (e) {
      return E.left(isAttributionError(e) ? e : backendFailure(`the transformers.js model failed: ${messageOf(e)}`, e, ['model']))
    } finally {
      for (const f of Object.values(feeds)) f.dispose?.()
    }
    const outputs = isObject(out) ? Object.values(out).filter(isTensorLike) : []
    try {
      const logits = isObject(out) ? out['logits'] : undefined
      if (!isTensorLike(logits)) return bad('the transformers.js model returned no logits tensor', ['model', 'outputs'])
      if (logits.type !== 'float32' || !(logits.data instanceof Float32Array)) {
        return bad(`the model returned ${logits.type} logits; clarus reads float32 logits: load a variant whose logits are float32 (dtype 'fp32', 'q8', 'q4', …), not an fp16 one`, ['model', 'outputs', 'logits'])
      }
      const host: HostTensor = { dtype: 'float32', shape: [...logits.dims], data: logits.data.slice() }
      const nonFinite = allowNonFinite ? undefined : nonFiniteIn(host, ['output'], 'the model\'s logits', 'check the prompt for tokens the model cannot read, and the model variant (a low-precision one may overflow)')
      return nonFinite !== undefined ? E.left(nonFinite) : E.right(host)
    } finally {
      for (const t of outputs) t.dispose?.()
    }
  }

  const adapter: Model<HostTensor> = {
    backend: hostBackend,
    signature,
    ...(onnx?.bytesPerRow ? { bytesPerRow: (inputs: readonly HostTensor[]) => onnx.bytesPerRow!(toOnnx(inputs)) } : {}),
    forward: (inputs, opts = {}) => {
      const internal = (opts.capture?.length ?? 0) > 0 || Object.keys(opts.inject ?? {}).length > 0
      if (internal) return onnx ? onnx.forward(toOnnx(inputs), opts) : TE.left(noGradients('capturing or replacing an internal tensor (a layer method)'))
      return async () => {
        const y = await runHf(inputs, opts.allowNonFinite === true)
        return E.isLeft(y) ? y : E.right({ output: y.right, captured: {} })
      }
    },
    vjp: (inputs, selector, opts) => (onnx ? onnx.vjp(toOnnx(inputs), selector, opts) : TE.left(noGradients('a gradient method'))),
    dispose: () => onnx?.dispose() ?? Promise.resolve(),
  }
  return E.right({ model: adapter, tokenizer: tok.right, differentiable: onnx !== undefined })
}
