/**
 * Runs Captum's TCAV cases (area `concept`) with clarus's {@link tcav}. The case names layers by
 * torch module; clarus takes the ONNX tensors the fixture maps them to (`concept.layer_tensors`)
 * and reports back under the module names. MeanDifferenceClassifier cases train their CAVs with
 * clarus's closed-form `meanDifference` classifier (CAVs compared too); DefaultClassifier cases
 * score with the CAVs Captum trained (`concept.cavs`, given as `cavs`), since its sklearn SGD
 * fit cannot be replayed.
 *
 * @category conformance
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isHostTensor } from '../core/codecs.js'
import type { HostTensor } from '../core/tensor.js'
import type { Cav, Cavs } from '../concept/cav.js'
import type { ClassifierSpec } from '../concept/classifier.js'
import type { Concept } from '../concept/concept.js'
import { tcav, type TcavResult } from '../concept/tcav.js'
import { compareFields, type AreaCaseRunner } from './fields.js'
import type { ReferenceCase } from './load.js'

const rec = (u: unknown): Readonly<Record<string, unknown>> => (typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {})

const KNOWN_ARGS = new Set(['experimental_sets', 'target', 'additional_forward_args', 'processes'])

interface Parsed {
  readonly concepts: ReadonlyMap<number, Concept>
  readonly sets: readonly (readonly number[])[]
  readonly modules: readonly string[]
  readonly tensorOf: Readonly<Record<string, string>>
  readonly classifier: ClassifierSpec | undefined
  readonly givenCavs: Readonly<Record<string, unknown>> | undefined
  readonly attributeToLayerInput: boolean
  readonly target: number | null
}

const parse = (c: ReferenceCase): Parsed | string => {
  const unknown = Object.keys(c.args).find((k) => !KNOWN_ARGS.has(k))
  if (unknown !== undefined) return `TCAV argument ${unknown} is not supported`
  if (c.args['additional_forward_args'] !== null && c.args['additional_forward_args'] !== undefined) return 'TCAV with additional_forward_args is not run here'
  const ctor = rec(c.wave2['constructor'])
  if (ctor['layer_attr_method'] !== null && ctor['layer_attr_method'] !== undefined) return `TCAV layer_attr_method ${String(ctor['layer_attr_method'])} is not supported`
  const concept = rec(c.wave2['concept'])
  const concepts = new Map<number, Concept>()
  for (const x of Array.isArray(concept['concepts']) ? (concept['concepts'] as unknown[]) : []) {
    const o = rec(x)
    if (typeof o['id'] !== 'number' || typeof o['name'] !== 'string' || !isHostTensor(o['data'])) return 'a concept of this case is not understood'
    concepts.set(o['id'], { id: o['id'], name: o['name'], data: o['data'] })
  }
  const sets = concept['experimental_sets']
  if (!Array.isArray(sets) || !sets.every((s) => Array.isArray(s) && s.every((i) => concepts.has(i as number)))) return 'experimental_sets are not understood'
  const modules = concept['layers']
  const tensors = rec(concept['layer_tensors'])
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string' && typeof rec(tensors[m])['onnx_output'] === 'string')) return 'layers are not understood'
  const name = rec(concept['classifier'])['name']
  const target = c.args['target']
  if (target !== null && typeof target !== 'number') return 'only int or null targets are run here'
  return {
    concepts,
    sets: sets as number[][],
    modules: modules as string[],
    tensorOf: Object.fromEntries((modules as string[]).map((m) => [m, rec(tensors[m])['onnx_output'] as string])),
    classifier: name === 'MeanDifferenceClassifier' ? { _tag: 'meanDifference' } : undefined,
    givenCavs: name === 'DefaultClassifier' ? rec(concept['cavs']) : undefined,
    attributeToLayerInput: ctor['attribute_to_layer_input'] === true,
    target: target as number | null,
  }
}

/** Captum's CAVs (`{set: {module: {weights, classes, accs}}}`) as clarus {@link Cavs} keyed by tensor. */
const toCavs = (p: Parsed, given: Readonly<Record<string, unknown>>): Cavs | string => {
  const out: Record<string, Record<string, Cav>> = {}
  for (const ids of p.sets) {
    const key = ids.join('-')
    for (const m of p.modules) {
      const g = rec(rec(given[key])[m])
      const w = g['weights']
      const classes = g['classes']
      if (!isHostTensor(w) || w.dtype !== 'float32' || !Array.isArray(classes) || typeof g['accs'] !== 'number') return `the given CAV for ${key}/${m} is not understood`
      ;(out[key] ??= {})[p.tensorOf[m]!] = {
        concepts: ids.map((id) => ({ id, name: p.concepts.get(id)!.name })),
        layer: p.tensorOf[m]!,
        weights: w as HostTensor<'float32'>,
        classes: classes as number[],
        accuracy: g['accs'],
      }
    }
  }
  return out
}

/** clarus's result in the case's field layout (module names, Captum's keys). */
const fieldsOf = (p: Parsed, r: TcavResult, withCavs: boolean): Record<string, unknown> => {
  const scores: Record<string, Record<string, unknown>> = {}
  const perInput: Record<string, Record<string, unknown>> = {}
  const cavs: Record<string, Record<string, unknown>> = {}
  const flat: number[] = []
  for (const ids of p.sets) {
    const key = ids.join('-')
    scores[key] = {}
    perInput[key] = {}
    cavs[key] = {}
    for (const m of p.modules) {
      const tensor = p.tensorOf[m]!
      const s = r.scores[key]![tensor]!
      scores[key]![m] = { sign_count: s.signCount, magnitude: s.magnitude }
      perInput[key]![m] = r.perInputScores[key]![tensor]!
      const cav = r.cavs[key]![tensor]!
      cavs[key]![m] = { accs: cav.accuracy, classes: [...cav.classes], weights: cav.weights }
      flat.push(...s.signCount.data, ...s.magnitude.data)
    }
  }
  return {
    scores,
    per_input_tcav_scores: perInput,
    scores_flat: { dtype: 'float32', shape: [flat.length], data: Float32Array.from(flat) } satisfies HostTensor,
    ...(withCavs ? { cavs } : {}),
  }
}

/** The TCAV runner registered in `AREA_CASES`. */
export const runTcavCase: AreaCaseRunner = async (c, ctx) => {
  const p = parse(c)
  if (typeof p === 'string') return { kind: 'unsupported', reason: p }
  if (p.classifier === undefined && p.givenCavs === undefined) return { kind: 'unsupported', reason: 'TCAV with this classifier is not run here' }
  const cavs = p.givenCavs === undefined ? undefined : toCavs(p, p.givenCavs)
  if (typeof cavs === 'string') return { kind: 'unsupported', reason: cavs }
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return { kind: 'unsupported', reason: m.left }
  const x = c.inputs[0]
  if (x === undefined) return { kind: 'unsupported', reason: 'the case has no inputs' }
  const r = await tcav(m.right, x, {
    layers: p.modules.map((mod) => p.tensorOf[mod]!),
    experimentalSets: p.sets.map((ids) => ids.map((id) => p.concepts.get(id)!)),
    target: p.target,
    attributeToLayerInput: p.attributeToLayerInput,
    ...(p.classifier !== undefined ? { classifier: p.classifier } : {}),
    ...(cavs !== undefined ? { cavs } : {}),
  })()
  if (E.isLeft(r)) {
    const unsupported = r.left._tag === 'Unsupported' || r.left._tag === 'UnsupportedOps'
    return unsupported ? { kind: 'unsupported', reason: r.left.message } : { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  }
  const withCavs = p.classifier !== undefined
  return { kind: 'compared', ...compareFields(c, fieldsOf(p, r.right, withCavs), ['scores_flat', 'scores', 'per_input_tcav_scores', ...(withCavs ? ['cavs'] : [])]) }
}
