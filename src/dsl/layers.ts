/**
 * Naming the layers a stage works on: one internal tensor (`'conv1'`) or a list of them
 * (`['conv1', 'conv2']`). A list is handled in one pass: one forward pass captures every listed
 * layer, one backward pass differentiates w.r.t. all of them (the model contract's `capture` list
 * and `wrt` list), and the flow then holds one tensor per layer, in list order. Captum instead
 * reruns the model per layer for most layer classes; the values are the same (see each stage).
 *
 * A list must be non-empty and name each layer once; the single-string form is unchanged, so
 * pipelines serialised before lists existed decode and run as before.
 *
 * @category dsl
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { showValue } from '../core/codecs.js'
import type { Space } from './flow.js'

/** One layer (an internal tensor's name), or a non-empty list of distinct layers. */
export type LayerSelection = string | readonly string[]

/** The first problem with a list of layer names, or undefined when it is a usable list. */
const listProblem = (xs: readonly unknown[]): string | undefined => {
  if (xs.length === 0) return 'the list of layers is empty: name at least one layer (an internal tensor of the model), or give one name as a string'
  const bad = xs.findIndex((x) => typeof x !== 'string')
  if (bad >= 0) return `layer ${bad} of the list is ${showValue(xs[bad])}, not a layer name (a string)`
  const seen = new Set<unknown>()
  for (const x of xs) {
    if (seen.has(x)) return `layer ${JSON.stringify(x)} is listed twice: name each layer once`
    seen.add(x)
  }
  return undefined
}

/** Codec for {@link LayerSelection}: a string, or a non-empty list of distinct strings. */
export const LayerSelection = new t.Type<LayerSelection, LayerSelection, unknown>(
  'LayerSelection',
  (u): u is LayerSelection => typeof u === 'string' || (Array.isArray(u) && listProblem(u) === undefined),
  (u, c) => {
    if (typeof u === 'string') return t.success(u)
    if (!Array.isArray(u)) return t.failure(u, c, `expected a layer name (a string) or a list of layer names, got ${showValue(u)}`)
    const problem = listProblem(u)
    return problem === undefined ? t.success(u as readonly string[]) : t.failure(u, c, problem)
  },
  (a) => a,
)

/** The layers named, as a list (one entry for the single-string form). */
export const layerNames = (l: LayerSelection): readonly string[] => (typeof l === 'string' ? [l] : l)

/** The space of the values computed for `l`: one layer, or the list form (kept for one-element lists). */
export const layerSpace = (l: LayerSelection): Space => (typeof l === 'string' ? { kind: 'layer', name: l } : { kind: 'layer', names: l })

/** The layers a space holds, in order (none for input space). */
export const spaceLayers = (s: Space): readonly string[] => (s.kind === 'input' ? [] : s.names ?? [s.name])

/** The layers of a layer space as they were named (a string, or the list form); undefined for input space. */
export const spaceSelection = (s: Space): LayerSelection | undefined => (s.kind === 'input' ? undefined : s.names !== undefined ? s.names : s.name)

/** Whether a space is in the list form (its result is a list of tensors, one per layer). */
export const isLayerList = (s: Space): boolean => s.kind === 'layer' && s.names !== undefined

/** `l` as written in summaries and messages: `"conv1"` or `["conv1", "conv2"]`. */
export const showLayers = (l: LayerSelection): string => (typeof l === 'string' ? JSON.stringify(l) : `[${l.map((n) => JSON.stringify(n)).join(', ')}]`)

/** Do two layer selections name the same layers in the same form and order? */
export const sameLayers = (a: LayerSelection, b: LayerSelection): boolean =>
  typeof a === 'string' ? a === b : typeof b !== 'string' && a.length === b.length && a.every((n, i) => n === b[i])
