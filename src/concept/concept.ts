/**
 * Concepts as values (TCAV, Kim et al. 2018). A {@link Concept} is an integer id, a name and its
 * examples: one host tensor `[n, …one model input]`, a list of such batches, or an async iterable
 * of batches (a data source that reads images from disk, say). An *experimental set* is a list of
 * concepts whose CAVs are trained together; its key is the ids joined by `-` (Captum's
 * `concepts_to_str`), so `[striped(0), random(2)]` is `"0-2"`.
 *
 * Captum: `captum.concept.Concept(id, name, data_iter)`; clarus keeps the id and name but lets
 * the data be plain tensors as well as an iterator.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { hostTensorProblem, isHostTensor } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'

/** A concept's examples: one batch, a list of batches, or an async source of batches (each `[n, …]`). */
export type ConceptData = HostTensor | readonly HostTensor[] | AsyncIterable<HostTensor>

/** A named set of examples that share a human concept ("striped", "dotted", random images, …). */
export interface Concept {
  /** Identifies the concept in set keys and CAV classes; unique among the concepts of one call. */
  readonly id: number
  readonly name: string
  readonly data: ConceptData
}

/** Concepts whose CAVs are learned together (the first is usually the concept, the rest random or contrasting ones). */
export type ExperimentalSet = readonly Concept[]

/** Builds a {@link Concept}. */
export const concept = (id: number, name: string, data: ConceptData): Concept => ({ id, name, data })

/** The key of an experimental set: its concept ids joined by `-`, in the set's order (Captum's `concepts_to_str`). */
export const setKey = (set: readonly { readonly id: number }[]): string => set.map((c) => String(c.id)).join('-')

const isAsyncIterable = (u: unknown): u is AsyncIterable<HostTensor> =>
  typeof u === 'object' && u !== null && typeof (u as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'

/** Each batch of a concept's data, in order (a single tensor is one batch). */
export async function* batchesOf(data: ConceptData): AsyncGenerator<HostTensor> {
  if (isHostTensor(data)) {
    yield data
    return
  }
  if (Array.isArray(data)) {
    for (const b of data as readonly HostTensor[]) yield b
    return
  }
  if (isAsyncIterable(data)) {
    for await (const b of data) yield b
    return
  }
  throw new TypeError('concept data must be a host tensor, a list of them or an async iterable of them')
}

/** What is wrong with one concept value from untyped code, or undefined. */
const conceptProblem = (c: unknown, path: readonly string[]): AttributionError | undefined => {
  if (typeof c !== 'object' || c === null) return invalidSpec([{ path, message: `expected a concept { id, name, data }, got ${JSON.stringify(c)}` }])
  const o = c as Record<string, unknown>
  const bad = (field: string, message: string): AttributionError => invalidSpec([{ path: [...path, field], message }])
  if (typeof o['id'] !== 'number' || !Number.isSafeInteger(o['id'])) return bad('id', `expected an integer concept id, got ${JSON.stringify(o['id'])}`)
  if (typeof o['name'] !== 'string') return bad('name', `expected the concept's name as a string, got ${JSON.stringify(o['name'])}`)
  const d = o['data']
  if (isHostTensor(d) || isAsyncIterable(d)) return undefined
  if (Array.isArray(d)) {
    const i = d.findIndex((b) => !isHostTensor(b))
    if (i < 0) return undefined
    const p = hostTensorProblem(d[i])
    return bad('data', `batch ${i} is not a host tensor${p === undefined ? '' : ` (${p.message})`}`)
  }
  const p = hostTensorProblem(d)
  return bad('data', `expected a host tensor [n, …], a list of them, or an async iterable of them${p === undefined ? '' : ` (${p.message})`}`)
}

/**
 * Checks the experimental sets of a call: at least one set, each with at least two concepts, every
 * concept well formed, no id repeated inside a set, and one id never naming two different concepts
 * (ids key the cached activations and the CAV classes). Returns the distinct concepts by id.
 */
export const checkExperimentalSets = (sets: unknown): E.Either<AttributionError, ReadonlyMap<number, Concept>> => {
  if (!Array.isArray(sets) || sets.length === 0) {
    return E.left(err('EmptyInput', 'experimentalSets must be a non-empty list of concept lists, e.g. [[striped, random0], [striped, random1]]', ['experimentalSets']))
  }
  const byId = new Map<number, Concept>()
  for (let s = 0; s < sets.length; s++) {
    const set: unknown = sets[s]
    const path = ['experimentalSets', String(s)]
    if (!Array.isArray(set) || set.length < 2) {
      return E.left(err('EmptyInput', `experimental set ${s} must list at least two concepts (a concept and what it is contrasted with, e.g. random images); got ${Array.isArray(set) ? set.length : typeof set}`, path))
    }
    const seen = new Set<number>()
    for (let i = 0; i < set.length; i++) {
      const problem = conceptProblem(set[i], [...path, String(i)])
      if (problem !== undefined) return E.left(problem)
      const c = set[i] as Concept
      if (seen.has(c.id)) return E.left(invalidSpec([{ path: [...path, String(i), 'id'], message: `concept id ${c.id} appears twice in experimental set ${s}` }]))
      seen.add(c.id)
      const prior = byId.get(c.id)
      if (prior !== undefined && prior !== c && (prior.name !== c.name || prior.data !== c.data)) {
        return E.left(invalidSpec([{ path: [...path, String(i), 'id'], message: `concept id ${c.id} names two different concepts (${JSON.stringify(prior.name)} and ${JSON.stringify(c.name)}); give each concept its own id` }]))
      }
      byId.set(c.id, prior ?? c)
    }
  }
  return E.right(byId)
}

