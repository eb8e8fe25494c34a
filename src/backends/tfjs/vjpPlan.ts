/**
 * What one tfjs `vjp` call differentiates and seeds, checked before anything runs: the `wrt`
 * forms (the attributed inputs, one layer, or a list of entries) as distinct leaves, the seeded
 * tensor (`of`), and the rule set. Every problem is a typed error whose path names the option
 * (`['wrt', <position>]`, `['of', 'index' | 'name']`); the rule set is checked in `ruleSets.ts`.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as tf from '@tensorflow/tfjs-core'
import { isWrtList, type VjpOf, type Wrt, type WrtEntry } from '../../core/backend.js'
import { err, type AttributionError } from '../../core/errors.js'
import type { Runner } from './runners.js'

/** A tensor a gradient is taken w.r.t.; one leaf serves every entry that names it. */
export type Leaf = WrtEntry

export interface WrtPlan {
  /** Distinct leaves, inputs first (in input order for the `inputs` form), then layers. */
  readonly inputs: readonly number[]
  readonly layers: readonly string[]
  /** Parameters (`{ kind: 'param' }` entries), after the layers. */
  readonly params: readonly string[]
  /** Per returned gradient, its leaf's position in `[...inputs, ...layers, ...params]`. */
  readonly pick: readonly number[]
}

const leafKey = (l: Leaf): string => `${l.kind} ${l.kind === 'input' ? l.index : l.name}`

/** The entries as distinct leaves, with each entry's position among them. */
const planOfEntries = (entries: readonly Leaf[]): WrtPlan => {
  const inputs = [...new Set(entries.flatMap((e) => (e.kind === 'input' ? [e.index] : [])))]
  const layers = [...new Set(entries.flatMap((e) => (e.kind === 'layer' ? [e.name] : [])))]
  const params = [...new Set(entries.flatMap((e) => (e.kind === 'param' ? [e.name] : [])))]
  const pick = entries.map((e) => (e.kind === 'input' ? inputs.indexOf(e.index) : e.kind === 'layer' ? inputs.length + layers.indexOf(e.name) : inputs.length + layers.length + params.indexOf(e.name)))
  return { inputs, layers, params, pick }
}

/** The leading run of float32 inputs: what the `inputs` form differentiates. */
const leadingFloats = (inputs: readonly tf.Tensor[]): number => {
  let n = 0
  while (n < inputs.length && inputs[n]!.dtype === 'float32') n++
  return n
}

/** A `wrt` entry problem as an error at that entry. */
const atEntry = (k: number, e: AttributionError): AttributionError => ({ ...e, message: `wrt[${k}]: ${e.message}`, path: ['wrt', String(k)] })

/**
 * Whether the runner can differentiate w.r.t. `layer`: as `inject` (and `capture` for the value),
 * since a layer leaf is fed into the model.
 */
const layerProblem = (runner: Runner, layer: string, position: number | undefined): AttributionError | undefined => {
  const bad = runner.check([layer], [layer])
  if (bad === undefined) return undefined
  const e = bad._tag === 'Unsupported' ? { ...bad, message: `gradients w.r.t. a layer: ${bad.message}`, path: ['wrt'] } : bad
  return position === undefined ? e : atEntry(position, e)
}

/**
 * The leaves of `wrt`, or the first problem: an empty list, an input index out of range or an
 * input that is not float32, a layer the model kind cannot differentiate or does not have.
 * `inputs` form: the leading run of float32 inputs (`count` is not needed: later float inputs are
 * differentiated too and ignored by callers).
 */
export const planWrt = (wrt: Wrt | readonly WrtEntry[], inputs: readonly tf.Tensor[], runner: Runner, params: readonly string[] = []): E.Either<AttributionError, WrtPlan> => {
  if (!isWrtList(wrt)) {
    if (wrt.kind === 'layer') {
      const bad = layerProblem(runner, wrt.name, undefined)
      return bad === undefined ? E.right(planOfEntries([wrt])) : E.left(bad)
    }
    const n = leadingFloats(inputs)
    if (n === 0) {
      return E.left(err('DTypeMismatch', `input 0 has dtype ${inputs[0]?.dtype ?? 'none'}: gradients exist only for float32 inputs. For token ids, attribute to the embedding layer (a layer method) instead.`, ['inputs', '0']))
    }
    return E.right(planOfEntries(Array.from({ length: n }, (_, index) => ({ kind: 'input' as const, index }))))
  }
  if (wrt.length === 0) return E.left(err('MissingInput', 'wrt is an empty list: name at least one { kind: \'input\', index } or { kind: \'layer\', name }', ['wrt']))
  const seen = new Set<string>()
  for (const [k, e] of wrt.entries()) {
    if (e.kind === 'param') {
      if (!params.includes(e.name)) {
        return E.left(atEntry(k, params.length === 0
          ? err('Unsupported', `gradients w.r.t. parameter ${JSON.stringify(e.name)}: this model declares no parameters; pass them as fromTfjs(model, { parameters: { name: tensor } }) (or load an ONNX model)`)
          : err('UnknownTensor', `no parameter named ${JSON.stringify(e.name)}; parameters: ${params.join(', ')}`)))
      }
      continue
    }
    if (seen.has(leafKey(e))) continue
    seen.add(leafKey(e))
    if (e.kind === 'input') {
      if (!Number.isInteger(e.index) || e.index < 0 || e.index >= inputs.length) {
        return E.left(atEntry(k, err('MissingInput', `there is no input ${e.index}: vjp was given ${inputs.length} input(s), numbered from 0`)))
      }
      const x = inputs[e.index]!
      if (x.dtype !== 'float32') {
        return E.left(atEntry(k, err('DTypeMismatch', `input ${e.index} has dtype ${x.dtype}: gradients exist only for float32 inputs; differentiate a float layer computed from it (e.g. the embedding output)`)))
      }
    } else {
      const bad = layerProblem(runner, e.name, k)
      if (bad !== undefined) return E.left(bad)
    }
  }
  return E.right(planOfEntries(wrt))
}

/** Why the runner cannot seed `of`, or undefined. */
export const ofProblem = (of: VjpOf | undefined, runner: Runner): AttributionError | undefined => {
  if (of === undefined) return undefined
  if (of.kind === 'output') {
    const i = of.index
    if (!Number.isInteger(i) || i < 0) return err('UnknownTensor', `of.index must be a whole number ≥ 0, got ${i}`, ['of', 'index'])
    if (runner.outputCount === undefined) {
      return i === 0
        ? undefined
        : err('Unsupported', `of: { kind: 'output', index: ${i} }: a ${runner.kind} model returns one tensor, so only index 0 exists. Use a LayersModel or GraphModel with several outputs, or wrap the function to return the output you want`, ['of', 'index'])
    }
    return i < runner.outputCount ? undefined : err('UnknownTensor', `of.index ${i} is out of range: the model has ${runner.outputCount} output(s)`, ['of', 'index'])
  }
  const bad = runner.check([of.name], [])
  return bad === undefined ? undefined : { ...bad, message: `of (the seeded tensor): ${bad.message}`, path: ['of', 'name'] }
}

/** What the seeded tensor is called in messages. */
export const seededName = (of: VjpOf | undefined): string =>
  of === undefined ? 'the model output' : of.kind === 'output' ? `model output ${of.index}` : `tensor ${JSON.stringify(of.name)}`
