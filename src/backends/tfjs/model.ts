/**
 * `fromTfjs`: a TensorFlow.js model as a clarus {@link Model}. Four kinds are recognised by shape
 * (duck typing, so models from any copy of the tfjs packages work); `runners.ts` runs each:
 *
 * | kind | forward | capture | inject, `wrt: layer` | layer names | outputs (`of: output`) |
 * |---|---|---|---|---|---|
 * | function `(...xs) => y` | call | — | — | — | one |
 * | tapped function `{ layers, fn }` | call | tapped names | tapped names | `layers` | one |
 * | tfjs-layers `LayersModel` | `apply(xs, {training: false})` | sub-model with extra outputs, built once per capture list and cached | `tf.Sequential` only (layers applied one by one) | layer names | `outputs` |
 * | tfjs-converter `GraphModel` | `execute` (runs under a gradient tape; `executeAsync` cannot) | `execute(feeds, [output, ...names])` | the node is fed (`execute` cuts the graph there) | node names | `outputNodes` |
 *
 * Gradients are one `tf.valueAndGrads` over the model run, inside `tf.tidy`; every tensor not
 * handed to the caller is released. The leaves are the differentiated inputs and, for layers,
 * either the layer value fed in (one layer alone: the graph is cut there, as for `inject`) or a
 * zero tensor added where the model computes it (layers with inputs, or several layers: nothing
 * is cut, so each gradient is the total derivative). `vjpPlan.ts` checks the options first.
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as tf from '@tensorflow/tfjs-core'
import type { ForwardOptions, ForwardResult, Model, ModelSignature, ParameterInfo, Selector, VjpOf, VjpOptions, VjpResult } from '../../core/backend.js'
import { ClarusError, backendFailure, err, type AttributionError } from '../../core/errors.js'
import { declaredShapeProblem } from '../../core/declaredShape.js'
import { nonFiniteIn } from '../../core/finite.js'
import { givesRelevanceAtInputs } from '../../core/ruleSet.js'
import { tfjsBackend } from './tfjsBackend.js'
import { functionRunner, graphRunner, isGraphModel, isLayersModel, isTapped, layersRunner, NO_EXTRAS, tappedRunner, type FromTfjsOptions, type Runner, type TfjsModel } from './runners.js'
import { ofProblem, planWrt, seededName } from './vjpPlan.js'
import { ruleScope, ruleSetNames, ruleSetProblem } from './ruleSets.js'

export type { FromTfjsOptions, GraphModelLike, Tap, TappedFunction, TfjsFunction, TfjsModel } from './runners.js'

// ------------------------------------------------------------------------------------------------
// errors
// ------------------------------------------------------------------------------------------------

const OTHER_BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu']

/** A thrown tfjs error as a typed clarus error. */
const fromThrown = (e: unknown, phase: string): AttributionError => {
  if (e instanceof ClarusError) return e.error
  const msg = e instanceof Error ? e.message : String(e)
  const kernel = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(msg)
  if (kernel) {
    const [, k, b] = kernel
    const others = OTHER_BACKENDS.filter((x) => x !== b).map((x) => `'${x}'`).join(', ')
    return err('Unsupported', `the tfjs backend '${b}' has no kernel '${k}', which the ${phase} of this model needs. Switch tfjs backend (await tf.setBackend(…) with one of ${others}; 'cpu' has every kernel) or use the ONNX backend.`, ['model'])
  }
  const noGrad = /gradient function not found for (\w+)/.exec(msg)
  if (noGrad) {
    return err('Unsupported', `tfjs has no gradient for op '${noGrad[1]}'. If you imported only @tensorflow/tfjs-core, import 'clarus/tfjs' or '@tensorflow/tfjs' (they register all gradients); otherwise use a perturbation method, which needs only forward passes.`, ['model'])
  }
  if (/Cannot compute gradient of y=f\(x\)/.test(msg)) {
    return err('NotReachable', 'the explained output does not depend on the differentiated tensors (no path from them to the output)', ['wrt'])
  }
  if (/not found in the graph|not part of graph/.test(msg)) return err('UnknownTensor', msg, ['layers'])
  return backendFailure(`tfjs ${phase} failed: ${msg}`, e)
}

// ------------------------------------------------------------------------------------------------
// the shared driver
// ------------------------------------------------------------------------------------------------

/** Σ over non-batch dims of seeded ⊙ seed (a mask product: its gradient needs no gather kernels). */
const selectValue = (seeded: tf.Tensor, selector: Selector<tf.Tensor>, what: string): tf.Tensor => {
  if (seeded.rank === 0) throw new ClarusError(err('BadModel', `${what} is a scalar; it needs a batch dimension (one row per input row)`, ['output']))
  let picked: tf.Tensor
  if (selector.kind === 'fn') picked = selector.fn(seeded)
  else {
    const seed = selector.seed(seeded.shape)
    if (E.isLeft(seed)) throw new ClarusError(seed.left)
    const s = tfjsBackend.fromHost(seed.right)
    picked = tf.mul(seeded, s.dtype === 'float32' ? s : tf.cast(s, 'float32'))
  }
  return picked.rank <= 1 ? picked : tf.sum(picked, Array.from({ length: picked.rank - 1 }, (_, i) => i + 1))
}

/** The seeded tensor must be float: integer and boolean tensors are not differentiable. */
const notDifferentiable = (seeded: tf.Tensor, of: VjpOf | undefined): AttributionError =>
  of === undefined
    ? err('DTypeMismatch',
      `the model output is ${seeded.dtype}: integer and boolean outputs (argmax, comparisons, casts) are not differentiable, so gradient methods cannot explain them. ` +
        'Explain the float scores before that step (wrap the model to return them), or use a perturbation method (FeatureAblation, ShapleyValueSampling, KernelShap, …), which needs only forward passes',
      ['output'])
    : err('DTypeMismatch', `${seededName(of)} is ${seeded.dtype}: integer and boolean tensors are not differentiable; seed a float tensor`, ['of'])

/** The NonFinite error for the first bad element of `t`'s float output, or undefined (one download). */
const nonFiniteOutput = async (t: tf.Tensor): Promise<AttributionError | undefined> => {
  if (t.dtype !== 'float32') return undefined
  const flag = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))))
  const bad = (await flag.data())[0] === 1
  flag.dispose()
  if (!bad) return undefined
  return nonFiniteIn(await tfjsBackend.toHost(t), ['output'], 'the model output', 'check the inputs (and baselines) for extreme values and the model for unstable ops (log, division)')
}

/**
 * After a failed `tf.grads` at the outermost gradient level, releases the tensors the tape saved
 * for the backward pass and drops the tape: tfjs does this only when the gradient succeeds.
 */
const releaseTape = (): void => {
  const state = tf.engine().state as { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null }
  if (state.gradientDepth !== 0 || state.activeTape === null) return
  state.activeTape.forEach((node) => node.saved?.forEach((t) => t.dispose()))
  state.activeTape = null
}

/**
 * Checks each input against the model's declared input (rank, and every dimension but the batch
 * one). Only per-example dimensions are compared and reported: clarus may have stacked many
 * copies of the batch (steps, perturbations) into the first dimension, which is not the user's.
 */
const inputShapeProblem = (inputs: readonly tf.Tensor[], signature: ModelSignature): AttributionError | undefined =>
  declaredShapeProblem(inputs.map((t) => t.shape), signature)

const bytesPerElement = (t: tf.Tensor): number => (t.dtype === 'bool' ? 1 : 4)

/** An owned copy when `t` is one of the caller's tensors (so the caller never disposes one twice). */
const owned = (t: tf.Tensor, theirs: ReadonlySet<tf.Tensor>): tf.Tensor => (theirs.has(t) ? t.clone() : t)

/** `inputs` with the ones at `at` replaced by `xs` (in that order). */
const replaced = (inputs: readonly tf.Tensor[], at: readonly number[], xs: readonly tf.Tensor[]): tf.Tensor[] =>
  inputs.map((x, i) => {
    const k = at.indexOf(i)
    return k < 0 ? x : xs[k]!
  })

const wrap = <A>(f: () => Promise<E.Either<AttributionError, A>>): TaskEither<AttributionError, A> => () => f()

/** The `parameters` option as tensors by name and as `signature.parameters`. */
const parametersOf = (given: FromTfjsOptions['parameters']): { readonly tensors: ReadonlyMap<string, tf.Tensor>; readonly info: readonly ParameterInfo[] } | undefined => {
  if (given === undefined) return undefined
  const tensors = new Map<string, tf.Tensor>()
  const info: ParameterInfo[] = []
  for (const [name, p] of Object.entries(given)) {
    // duck-typed (a tensor from another copy of tfjs is not an instanceof this one's Tensor)
    const wrapped = 'tensor' in p ? p : undefined
    const tensor = wrapped === undefined ? (p as tf.Tensor) : wrapped.tensor
    const perExample = wrapped?.perExample
    tensors.set(name, tensor)
    info.push({ name, dtype: 'float32', shape: [...tensor.shape], ...(perExample !== undefined ? { perExample } : {}) })
  }
  return { tensors, info }
}

/** One taped run differentiated w.r.t. any tensors it reads (parameters closed over by the model included). */
const gradientsOf = (f: () => tf.Tensor, xs: tf.Tensor[]): { value: tf.Tensor; grads: tf.Tensor[] } =>
  (tf.engine() as unknown as { gradients: (g: () => tf.Tensor, ys: tf.Tensor[]) => { value: tf.Tensor; grads: tf.Tensor[] } }).gradients(f, xs)

const makeModel = (runner: Runner, parameters?: FromTfjsOptions['parameters']): Model<tf.Tensor> => {
  const params = parametersOf(parameters)
  const signature: ModelSignature = params === undefined ? runner.signature : { ...runner.signature, parameters: params.info }
  const forward = (inputs: readonly tf.Tensor[], options: ForwardOptions<tf.Tensor> = {}): TaskEither<AttributionError, ForwardResult<tf.Tensor>> =>
    wrap(async () => {
      const capture = options.capture ?? []
      const inject = options.inject ?? {}
      const bad = runner.check(capture, Object.keys(inject)) ?? inputShapeProblem(inputs, runner.signature)
      if (bad) return E.left(bad)
      const theirs = new Set([...inputs, ...Object.values(inject)])
      let out: tf.Tensor[]
      try {
        out = tf.tidy(() => {
          const r = runner.run(inputs, { ...NO_EXTRAS, capture, inject })
          return [owned(r.output, theirs), ...capture.map((n) => owned(r.captured[n]!, theirs))]
        })
      } catch (e) {
        return E.left(fromThrown(e, 'forward pass'))
      }
      const output = out[0]!
      const nonFinite = options.allowNonFinite === true ? undefined : await nonFiniteOutput(output)
      if (nonFinite !== undefined) {
        out.forEach((t) => t.dispose())
        return E.left(nonFinite)
      }
      return E.right({ output, captured: Object.fromEntries(capture.map((n, i) => [n, out[i + 1]!])) })
    })

  const vjp = (inputs: readonly tf.Tensor[], selector: Selector<tf.Tensor>, options: VjpOptions<tf.Tensor>): TaskEither<AttributionError, VjpResult<tf.Tensor>> =>
    wrap(async () => {
      if (inputs.length === 0) return E.left(err('MissingInput', 'vjp needs at least one input', ['inputs']))
      const capture = options.capture ?? []
      const inject = options.inject ?? {}
      const of = options.of
      const problem = ruleSetProblem(options.ruleSet, runner) ?? runner.check(capture, Object.keys(inject)) ?? inputShapeProblem(inputs, runner.signature)
      if (problem) return E.left(problem)
      const planned = planWrt(options.wrt, inputs, runner, [...(params?.tensors.keys() ?? [])])
      if (E.isLeft(planned)) return planned
      const badOf = ofProblem(of, runner)
      if (badOf) return E.left(badOf)
      const { inputs: inputLeaves, layers, params: paramLeaves, pick } = planned.right
      if (paramLeaves.length > 0 && (layers.length > 0 || options.ruleSet !== undefined)) {
        return E.left(err('Unsupported', 'on the tfjs backend, parameter gradients come with input gradients only: differentiate layers, or use a rule set, in a separate call', ['wrt']))
      }
      // One layer alone is fed as the leaf (the graph is cut there, like inject); layers with
      // inputs, or several layers, get a zero leaf added where the model computes them.
      const cutLayer = layers.length === 1 && inputLeaves.length === 0 ? layers[0] : undefined
      if (options.ruleSet !== undefined && givesRelevanceAtInputs(options.ruleSet) && layers.length > 0 && cutLayer === undefined) {
        return E.left(err('Unsupported',
          `rule set ${JSON.stringify(options.ruleSet.name)} has input-layer rules (flat, wSquare, zBox), which give relevance at the differentiated tensors; on the tfjs backend that works for the inputs or for one layer alone, not for layers together with inputs or several layers: differentiate one of them per call`,
          ['wrt']))
      }
      const ofTensor = of?.kind === 'tensor' ? of.name : undefined
      const ofOutput = of?.kind === 'output' ? [of.index] : []
      const ruleNames = ruleSetNames(options.ruleSet).filter((n) => n !== cutLayer)
      const runCapture = [...new Set([...capture.filter((n) => n !== cutLayer), ...(ofTensor === undefined ? [] : [ofTensor]), ...ruleNames])]
      // A rule set rewrites the gradients of this call's tape only (see ruleSets.ts): nothing global to restore.
      const rules = options.ruleSet === undefined ? undefined : ruleScope(options.ruleSet, options.referenceRows, inputs[0]!.shape[0] ?? 0)
      const taped = <F extends (...leaves: tf.Tensor[]) => tf.Tensor>(f: F): F => (rules === undefined ? f : rules.around(f))
      const theirs = new Set([...inputs, ...Object.values(inject)])
      const kept: tf.Tensor[] = []
      const keep = (t: tf.Tensor): tf.Tensor => {
        const o = tf.keep(owned(t, theirs))
        kept.push(o)
        return o
      }
      let output: tf.Tensor | undefined
      let captured: Record<string, tf.Tensor> = {}
      let res: { value: tf.Tensor; grads: tf.Tensor[] }
      const outerLevel = (tf.engine().state as { gradientDepth: number }).gradientDepth === 0
      try {
        res = tf.tidy(() => {
          const once = (xs: readonly tf.Tensor[], feedInject: tf.NamedTensorMap, shift: tf.NamedTensorMap): tf.Tensor => {
            const r = runner.run(xs, { capture: runCapture, inject: feedInject, shift, outputs: ofOutput, ...(rules === undefined ? {} : { named: rules.record }) })
            rules?.modelDone()
            const seeded = ofTensor !== undefined ? r.captured[ofTensor]! : ofOutput.length > 0 ? r.outputs[0]! : r.output
            if (seeded.dtype !== 'float32') throw new ClarusError(notDifferentiable(seeded, of))
            output = keep(r.output)
            captured = Object.fromEntries(capture.filter((n) => n !== cutLayer).map((n) => [n, keep(r.captured[n]!)]))
            return selectValue(seeded, selector, seededName(of))
          }
          if (paramLeaves.length > 0) {
            return gradientsOf(() => once(inputs, inject, {}), [...inputLeaves.map((i) => inputs[i]!), ...paramLeaves.map((n) => params!.tensors.get(n)!)])
          }
          if (layers.length === 0) {
            return tf.valueAndGrads(taped((...xs: tf.Tensor[]) => once(replaced(inputs, inputLeaves, xs), inject, {})))(inputLeaves.map((i) => inputs[i]!))
          }
          if (cutLayer !== undefined) {
            // The layer's value (injected, or from a first pass), then the model with the layer fed.
            const h = inject[cutLayer] ?? runner.run(inputs, { ...NO_EXTRAS, capture: [cutLayer], inject }).captured[cutLayer]!
            const r = tf.valueAndGrads(taped((hh: tf.Tensor) => once(inputs, { ...inject, [cutLayer]: hh }, {})))([h])
            if (capture.includes(cutLayer)) captured = { ...captured, [cutLayer]: keep(h) }
            return r
          }
          // A first pass for the layers' shapes; the zero leaves then shift them in one taped run.
          const computed = layers.filter((n) => inject[n] === undefined)
          const first = computed.length > 0 ? runner.run(inputs, { ...NO_EXTRAS, capture: computed, inject }).captured : {}
          const zeros = layers.map((n) => tf.zerosLike(inject[n] ?? first[n]!))
          const n = inputLeaves.length
          return tf.valueAndGrads(taped((...leaves: tf.Tensor[]) =>
            once(replaced(inputs, inputLeaves, leaves.slice(0, n)), inject, Object.fromEntries(layers.map((l, k) => [l, leaves[n + k]!]))),
          ))([...inputLeaves.map((i) => inputs[i]!), ...zeros])
        })
      } catch (e) {
        kept.forEach((t) => t.dispose())
        if (outerLevel) releaseTape()
        return E.left(fromThrown(e, layers.length === 0 ? 'gradient' : `gradient w.r.t. ${layers.map((l) => JSON.stringify(l)).join(', ')}`))
      }
      const out = output!
      const nonFinite = options.allowNonFinite === true ? undefined : await nonFiniteOutput(out)
      if (nonFinite !== undefined) {
        kept.forEach((t) => t.dispose())
        res.value.dispose()
        res.grads.forEach((g) => g.dispose())
        return E.left(nonFinite)
      }
      // One gradient per requested entry; a leaf named twice is handed out as a copy the second time.
      const used = new Set<number>()
      const grads = pick.map((k) => {
        const g = res.grads[k]!
        if (!used.has(k)) {
          used.add(k)
          return g
        }
        return g.clone()
      })
      // tf.keep'd tensors stay alive past every tidy; ownership passes to the caller here.
      return E.right({ output: out, value: res.value, grads, captured })
    })

  // Causal LMs (see Model.nextTokenLogProbs): the log-softmax and the next-token pick run as tfjs ops,
  // so LLM scoring reads [batch, seq] numbers instead of downloading [batch, seq, vocab] logits.
  const nextTokenLogProbs = (inputs: readonly tf.Tensor[]): TaskEither<AttributionError, tf.Tensor> =>
    wrap(async () => {
      const ids = inputs[0]
      if (ids === undefined || ids.rank !== 2) return E.left(err('ShapeMismatch', 'next-token log-probabilities need token ids [batch, seq] as the first input', ['inputs']))
      const bad = runner.check([], []) ?? inputShapeProblem(inputs, runner.signature)
      if (bad) return E.left(bad)
      let lp: tf.Tensor
      try {
        lp = tf.tidy(() => {
          const logits = runner.run(inputs, NO_EXTRAS).output
          if (logits.rank !== 3 || logits.dtype !== 'float32') {
            throw new ClarusError(err('BadModel', `a causal LM must return float32 logits [batch, seq, vocab]; got ${logits.dtype} [${logits.shape.join(', ')}] for input [${ids.shape.join(', ')}]`, ['model', 'outputs']))
          }
          const [n, l, v] = logits.shape as [number, number, number]
          // the token each position predicts: ids[:, 1:] and a 0 for the last position (ignored)
          const next = tf.concat([tf.slice(tf.cast(ids, 'int32'), [0, 1], [n, l - 1]), tf.zeros([n, 1], 'int32')], 1)
          return tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(next, v)), -1)
        })
      } catch (e) {
        return E.left(fromThrown(e, 'next-token log-probabilities'))
      }
      const nonFinite = await nonFiniteOutput(lp)
      if (nonFinite !== undefined) {
        lp.dispose()
        return E.left(nonFinite)
      }
      return E.right(lp)
    })

  return {
    backend: tfjsBackend,
    signature,
    nextTokenLogProbs,
    bytesPerRow: (inputs) => {
      const rows = Math.max(1, inputs[0]?.shape[0] ?? 1)
      return (64 * inputs.reduce((s, t) => s + t.size * bytesPerElement(t), 0)) / rows
    },
    forward,
    vjp,
    dispose: () => {
      runner.dispose()
      return Promise.resolve()
    },
  }
}

/**
 * Wraps a TensorFlow.js model (a function, a tfjs-layers `LayersModel` or a tfjs-converter
 * `GraphModel`) as a clarus {@link Model} on the {@link tfjsBackend}.
 *
 * Gradients (`vjp` w.r.t. inputs) are taken for the **leading run of float32 inputs**: `grads[i]`
 * is ∂(Σ value)/∂`inputs[i]` for `i < k`, where `inputs[k]` is the first input that is not
 * float32. Attributed inputs come first, so they are all differentiated; additional forward
 * arguments after them are passed through unchanged (a float one before the first integer one is
 * differentiated too, which costs a little and is ignored by callers). If `inputs[0]` is not
 * float32 the call fails with `DTypeMismatch` (differentiate an embedding layer instead). The ONNX
 * backend follows the same rule. A `wrt` list instead names each input (by index; it must be
 * float32) and layer, and gets one gradient per entry from one `tf.valueAndGrads`; several layers
 * on a GraphModel are ordered by its topology (without a readable one, that is `Unsupported`).
 *
 * `value` is Σ over non-batch dims of `seeded ⊙ seed` for a `linear` selector (a mask product, so
 * no gather kernels are needed on any tfjs backend), or `fn(seeded)` summed the same way. The
 * seeded tensor is the explained output unless `of` names another output (LayersModel, GraphModel;
 * a function or tapped function has only output 0) or a layer. A `ruleSet` replaces the gradient of
 * each matched kernel for this call only (DeepLift `rescale` with `referenceRows: 'halves'`,
 * `guided`, `deconv`, `identity`, `gradient`, the LRP rules; see `ruleSets.ts`); kernels on the
 * gradient path it leaves without a rule are one `UnsupportedOps` error at `['ruleSet']`. Under the
 * input-layer LRP rules (flat, wSquare, zBox) each `grads` entry is the relevance at that tensor, as
 * on ONNX (the inputs, or one layer alone, per call). `{ kind: 'param', name }` entries
 * differentiate w.r.t. the tensors given as `options.parameters` (default for a LayersModel: its
 * trainable weights by original name, e.g. `dense_Dense1/kernel`), with input entries but not with
 * layers or a rule set: one taped run, `tf.engine().gradients` over the closed-over tensors.
 *
 * `bytesPerRow` estimates 64 × the bytes of one row of all inputs (activations and their
 * gradients of a mid-size network); it only sizes chunks.
 *
 * Errors: a kernel a tfjs backend lacks (e.g. `DepthwiseConv2dNativeBackpropInput` and
 * `UnsortedSegmentSum` on wasm) → `Unsupported` naming the kernel and the backend; NaN or
 * Infinity in the output → `NonFinite`; capture, inject or `wrt: layer` on a model kind that
 * cannot do it → `Unsupported`; an unknown layer → `UnknownTensor`; a bad `wrt` entry or `of` →
 * a typed error at `['wrt', <position>]` or `['of', …]`.
 *
 * `dispose()` drops cached sub-models; it never disposes the user's model or weights.
 *
 * Captum: the model passed to an attribution class; `forward_func` with `additional_forward_args`.
 *
 * @example
 * const model = fromTfjs((x: tf.Tensor) => tf.matMul(x, w))
 * @category backends
 * @since 0.1.0
 */
export const fromTfjs = (model: TfjsModel, options: FromTfjsOptions = {}): Model<tf.Tensor> => {
  if (typeof model === 'function') return makeModel(functionRunner(model, options), options.parameters)
  if (isTapped(model)) return makeModel(tappedRunner(model, options), options.parameters)
  if (isGraphModel(model)) return makeModel(graphRunner(model, options), options.parameters)
  if (isLayersModel(model)) {
    // a LayersModel's trainable weights are its parameters unless given (names as originally created: dense_1/kernel, …)
    const own = options.parameters ?? Object.fromEntries(model.trainableWeights.map((w) => [w.originalName, w.read()]))
    return makeModel(layersRunner(model, options), own)
  }
  throw new TypeError('fromTfjs: expected a function, a tapped function { layers, fn }, a tfjs-layers LayersModel or a tfjs-converter GraphModel')
}
