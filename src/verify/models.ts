/**
 * Model combinators: new {@link Model}s built from existing ones on the Model contract alone, with
 * no backend code and no change to the wrapped models. `verify` uses them to build the functions
 * an axiom talks about (a linear combination of two outputs, a model that ignores a feature, a model
 * symmetric in two features, a functionally equal re-implementation) around the user's own model.
 *
 * Every wrapper forwards capture, inject, rule sets and reference rows unchanged, so layer methods
 * and modified-backprop methods run through it. A wrapper owns nothing: `dispose` is a no-op, the
 * caller keeps disposing the models it made.
 *
 * @category verify
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { isWrtList, type Backend, type Model, type Selector, type VjpOptions, type VjpResult, type ForwardResult, type WrtEntry } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import { float32, sizeOf, type HostTensor } from '../core/tensor.js'

/** One term of {@link combineModels}: `weight · model(x)`, or `weight · model(x)[:, output]` when `output` is given. */
export interface ModelTerm<T> {
  readonly model: Model<T>
  readonly weight: number
  /** Column of a (rows, k) output to keep (as a (rows, 1) output); left out: the whole output. */
  readonly output?: number
}

const disposeRecord = <T>(m: Model<T>, r: Readonly<Record<string, T>>): void => {
  for (const v of Object.values(r)) m.backend.dispose(v)
}

/**
 * `C(x) = Σ_i w_i · F_i(x)` (each `F_i` a whole output or one output column). Forward runs every
 * model and adds the weighted outputs; `vjp` seeds each model with the combined seed scaled by its
 * weight (and placed at its column), so values and gradients add up exactly as the chain rule says.
 * Captured layer tensors are the first model's: layer attributions of the combination are
 * meaningful when the models compute that layer identically (e.g. two outputs of one model).
 * A functional (`fn`) selector cannot be split over the terms and is an `Unsupported` error.
 */
export const combineModels = <T>(terms: readonly ModelTerm<T>[]): Model<T> => {
  const first = terms[0]
  if (first === undefined) throw new RangeError('combineModels needs at least one term')
  const b = first.model.backend
  const picked = terms.some((t) => t.output !== undefined)
  /** The weighted term output (a new tensor). */
  const termOutput = (t: ModelTerm<T>, out: T): T => {
    if (t.output === undefined) return b.scale(out, t.weight)
    const shape = b.shapeOf(out)
    const col = b.slice(out, [0, t.output], [shape[0]!, 1])
    const r = b.scale(col, t.weight)
    b.dispose(col)
    return r
  }
  const sumInto = (acc: T | undefined, v: T): T => {
    if (acc === undefined) return v
    const s = b.add(acc, v)
    b.dispose(acc)
    b.dispose(v)
    return s
  }
  const checkShape = (out: T, t: ModelTerm<T>, i: number): AttributionError | undefined => {
    const shape = b.shapeOf(out)
    if (t.output === undefined) return picked ? err('ShapeMismatch', `combineModels: term ${i} keeps its whole output while another picks a column; give every term an output column`, ['terms', String(i)]) : undefined
    return shape.length === 2 && t.output >= 0 && t.output < shape[1]! ? undefined : err('BadTarget', `combineModels: term ${i} picks output column ${t.output}, but the model's output has shape [${shape.join(', ')}]; pick a column of a (rows, k) output`, ['terms', String(i), 'output'])
  }
  const forward = (inputs: readonly T[], options?: Parameters<Model<T>['forward']>[1]): TE.TaskEither<AttributionError, ForwardResult<T>> => async () => {
    let acc: T | undefined
    let captured: Readonly<Record<string, T>> = {}
    for (const [i, t] of terms.entries()) {
      const r = await t.model.forward(inputs, i === 0 ? options : { ...options, capture: [] })()
      if (E.isLeft(r)) {
        if (acc !== undefined) b.dispose(acc)
        disposeRecord(first.model, captured)
        return r
      }
      const bad = checkShape(r.right.output, t, i)
      if (bad !== undefined) {
        b.dispose(r.right.output)
        if (acc !== undefined) b.dispose(acc)
        disposeRecord(first.model, { ...captured, ...r.right.captured })
        return E.left(bad)
      }
      acc = sumInto(acc, termOutput(t, r.right.output))
      b.dispose(r.right.output)
      if (i === 0) captured = r.right.captured
      else disposeRecord(t.model, r.right.captured)
    }
    return E.right({ output: acc!, captured })
  }
  /** The selector a term's model gets: the combined seed, weighted and placed at the term's column. */
  const termSelector = (t: ModelTerm<T>, sel: Selector<T> & { kind: 'linear' }, seedsOutput: boolean): Selector<T> => ({
    kind: 'linear',
    seed: (shape) => {
      if (!seedsOutput) return sel.seed(shape)
      if (t.output === undefined) return E.map((s: HostTensor) => float32(s.shape, Float32Array.from(s.data as ArrayLike<number>, (v) => Number(v) * t.weight)))(sel.seed(shape))
      const rows = shape[0]!
      const k = shape[1]!
      return E.map((s: HostTensor) => {
        const data = new Float32Array(rows * k)
        for (let r = 0; r < rows; r++) data[r * k + t.output!] = t.weight * Number(s.data[r])
        return float32(shape, data)
      })(sel.seed([rows, 1]))
    },
  })
  const vjp = (inputs: readonly T[], selector: Selector<T>, options: VjpOptions<T>): TE.TaskEither<AttributionError, VjpResult<T>> => async () => {
    if (selector.kind !== 'linear') return E.left(err('Unsupported', 'a combined model takes index or mask targets only: a target function cannot be split over the combined models', ['target']))
    // An internal tensor seeded (neuron methods) is the first model's: the combination does not change it.
    const seedsOutput = options.of === undefined || options.of.kind === 'output'
    const active = seedsOutput ? terms : [first]
    let output: T | undefined
    let value: T | undefined
    let grads: T[] | undefined
    let captured: Readonly<Record<string, T>> = {}
    const release = (): void => {
      for (const v of [output, value, ...(grads ?? [])]) if (v !== undefined) b.dispose(v)
      disposeRecord(first.model, captured)
    }
    for (const [i, t] of active.entries()) {
      const r = await t.model.vjp(inputs, termSelector(t, selector, seedsOutput), i === 0 ? options : { ...options, capture: [] })()
      if (E.isLeft(r)) {
        release()
        return r
      }
      const bad = checkShape(r.right.output, t, i)
      if (bad !== undefined) {
        for (const v of [r.right.output, r.right.value, ...r.right.grads]) b.dispose(v)
        disposeRecord(t.model, r.right.captured)
        release()
        return E.left(bad)
      }
      output = sumInto(output, termOutput(t, r.right.output))
      b.dispose(r.right.output)
      value = sumInto(value, r.right.value)
      grads = grads === undefined ? [...r.right.grads] : grads.map((g, j) => sumInto(g, r.right.grads[j]!))
      if (i === 0) captured = r.right.captured
      else disposeRecord(t.model, r.right.captured)
    }
    return E.right({ output: output!, value: value!, grads: grads!, captured })
  }
  return {
    backend: b,
    signature: picked ? { ...first.model.signature, outputs: [{ name: 'combined', dtype: 'float32', shape: [null, 1] }] } : first.model.signature,
    ...(terms.every((t) => t.model.bytesPerRow !== undefined) ? { bytesPerRow: (xs: readonly T[]) => terms.reduce((s, t) => s + t.model.bytesPerRow!(xs), 0) } : {}),
    forward,
    vjp,
    dispose: async () => {},
  }
}

/**
 * A model whose `input`-th input is rewritten by `rewrite` before `model` sees it, with the
 * gradient w.r.t. that input mapped back by `pullBack` (the transposed Jacobian of the rewrite).
 * Gradients w.r.t. layers are unchanged (layers come after the rewrite).
 */
const withInputMap = <T>(model: Model<T>, input: number, rewrite: (x: T) => T, pullBack: (g: T) => T): Model<T> => {
  const b = model.backend
  const mapped = (inputs: readonly T[]): readonly T[] => inputs.map((x, i) => (i === input ? rewrite(x) : x))
  const release = (inputs: readonly T[], orig: readonly T[]): void => inputs.forEach((x, i) => x !== orig[i] && b.dispose(x))
  const touches = (wrt: VjpOptions<T>['wrt'], k: number): boolean => {
    if (!isWrtList(wrt)) return wrt.kind === 'inputs' && k === input && (wrt.count === undefined || input < wrt.count)
    const e: WrtEntry | undefined = wrt[k]
    return e !== undefined && e.kind === 'input' && e.index === input
  }
  return {
    backend: b,
    signature: model.signature,
    ...(model.bytesPerRow ? { bytesPerRow: model.bytesPerRow } : {}),
    forward: (inputs, options) => async () => {
      const xs = mapped(inputs)
      try {
        return await model.forward(xs, options)()
      } finally {
        release(xs, inputs)
      }
    },
    vjp: (inputs, selector, options) => async () => {
      const xs = mapped(inputs)
      try {
        const r = await model.vjp(xs, selector, options)()
        if (E.isLeft(r)) return r
        const grads = r.right.grads.map((g, k) => {
          if (!touches(options.wrt, k)) return g
          const p = pullBack(g)
          if (p !== g) b.dispose(g)
          return p
        })
        return E.right({ ...r.right, grads })
      } finally {
        release(xs, inputs)
      }
    },
    dispose: async () => {},
  }
}

/** Per-example size of a tensor of shape (rows, …). */
const perRow = (shape: readonly number[]): number => sizeOf(shape.slice(1))

/** A (1, …) tensor like one example of `x`: `other` everywhere, `atValue` at scalar `index` (row-major). */
const markedRow = <T>(b: Backend<T>, x: T, index: number, other: number, atValue: number): T => {
  const shape = b.shapeOf(x)
  const data = new Float32Array(perRow(shape)).fill(other)
  data[index] = atValue
  return b.fromHost(float32([1, ...shape.slice(1)], data))
}

/**
 * `F̃(x) = F(x with feature `index` of input `input` set to `value`)`: a model that does not depend
 * on that feature at all (its gradient there is exactly 0). `index` counts the scalars of one example
 * in row-major order.
 */
export const withConstantFeature = <T>(model: Model<T>, at: { readonly input: number; readonly index: number; readonly value: number }): Model<T> => {
  const b = model.backend
  const marked = (x: T, other: number, atValue: number): T => markedRow(b, x, at.index, other, atValue)
  return withInputMap(
    model,
    at.input,
    (x) => {
      const keep = marked(x, 1, 0)
      const fill = marked(x, 0, at.value)
      const kept = b.mul(x, keep)
      const r = b.add(kept, fill)
      for (const v of [keep, fill, kept]) b.dispose(v)
      return r
    },
    (g) => {
      const keep = marked(g, 1, 0)
      const r = b.mul(g, keep)
      b.dispose(keep)
      return r
    },
  )
}

/** Swaps scalars `i` and `j` of every example of `x` (row-major per-example order). */
const swapFeatures = <T>(model: Model<T>, x: T, i: number, j: number): T => {
  const b = model.backend
  const shape = b.shapeOf(x)
  const rows = shape[0]!
  const d = perRow(shape)
  const [lo, hi] = i < j ? [i, j] : [j, i]
  const flat = b.reshape(x, [rows, d])
  const col = (from: number, size: number): T[] => (size > 0 ? [b.slice(flat, [0, from], [rows, size])] : [])
  const parts = [...col(0, lo), ...col(hi, 1), ...col(lo + 1, hi - lo - 1), ...col(lo, 1), ...col(hi + 1, d - hi - 1)]
  const joined = b.concat(parts, 1)
  const r = b.reshape(joined, shape)
  for (const p of [flat, joined, ...parts]) b.dispose(p)
  return r
}

/**
 * `F_s(x) = F(P x)`, where P swaps features `i` and `j` of input `input` (row-major per-example
 * indices). P is its own inverse, so the input gradient is P applied to the wrapped gradient.
 */
export const withSwappedFeatures = <T>(model: Model<T>, at: { readonly input: number; readonly i: number; readonly j: number }): Model<T> => {
  if (at.i === at.j) return withInputMap(model, at.input, (x) => x, (g) => g)
  const swap = (x: T): T => swapFeatures(model, x, at.i, at.j)
  return withInputMap(model, at.input, swap, swap)
}

/** `F(x) + F(P x)`: a model symmetric in features `i` and `j` of input `input` by construction. */
export const symmetrized = <T>(model: Model<T>, at: { readonly input: number; readonly i: number; readonly j: number }): Model<T> =>
  combineModels([{ model, weight: 1 }, { model: withSwappedFeatures(model, at), weight: 1 }])

/**
 * A re-implementation of `model` that computes the same function through another graph:
 * `(1 + c) · F(P(P x)) − c · F(x)`, with P a feature swap (so P∘P is the identity) and `c` any
 * number. Equal to `F` up to float rounding, so an implementation-invariant method must give it the
 * same attributions.
 */
export const reimplemented = <T>(model: Model<T>, at: { readonly input: number; readonly i: number; readonly j: number; readonly c: number }): Model<T> =>
  combineModels([
    { model: withSwappedFeatures(withSwappedFeatures(model, at), at), weight: 1 + at.c },
    { model, weight: -at.c },
  ])

/**
 * `F̃ = G ∘ pin ∘ h`, where h computes the layer `layer` of `model`, G the rest, and `pin` holds the
 * layer's scalar `index` (row-major per example) at `value`: a model whose output does not depend
 * on that neuron. The layer of F̃ is h's value (captured before pinning; an injected value is
 * pinned before G sees it). Gradients are supported w.r.t. that layer only (`Unsupported`
 * otherwise): with the layer injected, they are G's gradient with the pinned neuron's entry zeroed.
 */
export const withConstantNeuron = <T>(model: Model<T>, at: { readonly layer: string; readonly index: number; readonly value: number }): Model<T> => {
  const b = model.backend
  const marked = (h: T, other: number, atValue: number): T => markedRow(b, h, at.index, other, atValue)
  const pin = (h: T): T => {
    const keep = marked(h, 1, 0)
    const fill = marked(h, 0, at.value)
    const kept = b.mul(h, keep)
    const r = b.add(kept, fill)
    for (const v of [keep, fill, kept]) b.dispose(v)
    return r
  }
  /** The layer's value for these inputs (as injected, or computed): a new tensor the caller owns. */
  const layerValue = async (inputs: readonly T[], options: Parameters<Model<T>['forward']>[1]): Promise<E.Either<AttributionError, T>> => {
    const given = options?.inject?.[at.layer]
    if (given !== undefined) return E.right(b.scale(given, 1))
    const r = await model.forward(inputs, { ...options, capture: [at.layer] })()
    if (E.isLeft(r)) return r
    b.dispose(r.right.output)
    const h = r.right.captured[at.layer]
    for (const [k, v] of Object.entries(r.right.captured)) if (k !== at.layer) b.dispose(v)
    return h === undefined ? E.left(err('UnknownTensor', `the model has no layer ${JSON.stringify(at.layer)} to pin a neuron of`, ['layer'])) : E.right(h)
  }
  /** Options with the pinned layer injected, and the layer's own capture left to the wrapper. */
  const pinned = <O extends Parameters<Model<T>['forward']>[1]>(options: O, p: T): O => ({ ...options, inject: { ...options?.inject, [at.layer]: p }, capture: (options?.capture ?? []).filter((n) => n !== at.layer) })
  const withLayer = (captured: Readonly<Record<string, T>>, h: T, options: Parameters<Model<T>['forward']>[1]): Readonly<Record<string, T>> => {
    if ((options?.capture ?? []).includes(at.layer)) return { ...captured, [at.layer]: h }
    b.dispose(h)
    return captured
  }
  const onlyLayer = (wrt: VjpOptions<T>['wrt']): boolean => (isWrtList(wrt) ? wrt.every((e) => e.kind === 'layer' && e.name === at.layer) : wrt.kind === 'layer' && wrt.name === at.layer)
  return {
    backend: b,
    signature: model.signature,
    ...(model.bytesPerRow ? { bytesPerRow: model.bytesPerRow } : {}),
    forward: (inputs, options) => async () => {
      const h = await layerValue(inputs, options)
      if (E.isLeft(h)) return h
      const p = pin(h.right)
      const r = await model.forward(inputs, pinned(options, p))()
      b.dispose(p)
      if (E.isLeft(r)) {
        b.dispose(h.right)
        return r
      }
      return E.right({ output: r.right.output, captured: withLayer(r.right.captured, h.right, options) })
    },
    vjp: (inputs, selector, options) => async () => {
      if (!onlyLayer(options.wrt)) return E.left(err('Unsupported', `a model with a pinned neuron of ${at.layer} differentiates w.r.t. that layer only`, ['wrt']))
      const h = await layerValue(inputs, options)
      if (E.isLeft(h)) return h
      const p = pin(h.right)
      const r = await model.vjp(inputs, selector, pinned(options, p))()
      b.dispose(p)
      if (E.isLeft(r)) {
        b.dispose(h.right)
        return r
      }
      const grads = r.right.grads.map((g) => {
        const keep = marked(g, 1, 0)
        const z = b.mul(g, keep)
        b.dispose(keep)
        b.dispose(g)
        return z
      })
      return E.right({ ...r.right, grads, captured: withLayer(r.right.captured, h.right, options) })
    },
    dispose: async () => {},
  }
}
