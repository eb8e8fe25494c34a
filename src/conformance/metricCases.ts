/**
 * Maps Captum's metric cases (`infidelity`, `sensitivity_max`) of a reference directory to a clarus
 * metric pipeline and call options. The fixtures fix the perturbations (`args.perturbation`, one
 * row per example and sample, example-major as Captum's `repeat_interleave` lays them out), so they
 * are passed as a perturbation plug-in that looks rows up by (example, sample): the result is then
 * exact, whatever the chunking.
 *
 * @category conformance
 * @since 0.4.0
 */
import { METHODS } from '../algorithms/registry.js'
import { isHostTensor } from '../core/codecs.js'
import type { Target } from '../core/target.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { PerturbationFn } from '../dsl/perturbation/plugins.js'
import { infidelity } from '../metrics/faithfulness/infidelity.js'
import { sensitivityMax } from '../metrics/robustness/sensitivityMax.js'
import type { ReferenceCase } from './load.js'
import type { CaseCall } from './methods.js'

const KNOWN = {
  infidelity: new Set(['target', 'n_perturb_samples', 'normalize', 'perturbation', 'attributions', 'max_examples_per_batch']),
  sensitivity_max: new Set(['target', 'n_perturb_samples', 'norm_ord', 'perturbation', 'max_examples_per_batch']),
} as const

/** Explanation arguments this runner passes on to the explained method (Captum's names → clarus's). */
const EXPLANATION_ARGS: Readonly<Record<string, string>> = { n_steps: 'nSteps', method: 'method', abs: 'abs' }

/**
 * A plug-in that returns the fixture's perturbation rows: row e·n + s for example e, sample s.
 * `subtract`: infidelity's x̃ = x − I (its perturbation is returned too); else sensitivity's x̃ = x + δ.
 */
const fixedPerturbation = (rows: HostTensor, n: number, subtract: boolean): PerturbationFn => (req) => {
  const per = sizeOf(rows.shape.slice(1))
  const p = rows.data as Float32Array
  const x = req.inputs[0]!
  const xd = x.data as Float32Array
  const M = req.examples.length
  const I = new Float32Array(M * per)
  const out = new Float32Array(M * per)
  for (let q = 0; q < M; q++) {
    const from = (req.examples[q]! * n + req.samples[q]!) * per
    for (let e = 0; e < per; e++) {
      I[q * per + e] = p[from + e]!
      out[q * per + e] = subtract ? xd[q * per + e]! - p[from + e]! : xd[q * per + e]! + p[from + e]!
    }
  }
  return { perturbed: [{ dtype: 'float32', shape: [...x.shape], data: out }], perturbation: [{ dtype: 'float32', shape: [...x.shape], data: I }] }
}

const targetOf = (u: unknown): Target | undefined =>
  u === null || u === undefined ? null : typeof u === 'number' && Number.isInteger(u) ? u : Array.isArray(u) && u.every((v) => typeof v === 'number') ? (u as number[]) : undefined

/** The call for a metric case; undefined when the case is not a metric. */
export const metricCallForCase = (c: ReferenceCase): CaseCall | undefined => {
  if (c.algorithm !== 'infidelity' && c.algorithm !== 'sensitivity_max') return undefined
  const unknown = Object.keys(c.args).find((k) => !KNOWN[c.algorithm as keyof typeof KNOWN].has(k))
  if (unknown !== undefined) return { kind: 'unsupported', reason: `${c.algorithm} argument ${unknown} is not supported` }
  const n = c.args['n_perturb_samples']
  const rows = c.args['perturbation']
  const target = targetOf(c.args['target'])
  if (typeof n !== 'number' || !isHostTensor(rows) || target === undefined || c.inputs.length !== 1) {
    return { kind: 'unsupported', reason: `${c.algorithm}: this case's n_perturb_samples, perturbation, target or inputs are not understood` }
  }
  const mepb = c.args['max_examples_per_batch']
  const batch = typeof mepb === 'number' ? { maxExamplesPerBatch: mepb } : {}
  if (c.algorithm === 'infidelity') {
    const attributions = c.args['attributions']
    if (!isHostTensor(attributions)) return { kind: 'unsupported', reason: 'infidelity: attributions of this form are not understood' }
    return {
      kind: 'call',
      pipeline: infidelity('given', { perturbation: { _tag: 'custom', name: 'fixture' }, nPerturbSamples: n, normalize: c.args['normalize'] === true, ...batch }),
      options: { target, attributions: [attributions], plugins: { perturbations: { fixture: fixedPerturbation(rows, n, true) } } },
    }
  }
  const e = c.explanation
  const name = e === undefined ? undefined : Object.keys(METHODS).find((k) => METHODS[k]!.captumName === e.algorithm)
  if (e === undefined || name === undefined) return { kind: 'unsupported', reason: `sensitivity_max of ${e?.algorithm ?? 'an unnamed explanation'} is not supported` }
  const unknownExpl = Object.keys(e.args).find((k) => k !== 'target' && k !== 'baselines' && EXPLANATION_ARGS[k] === undefined)
  if (unknownExpl !== undefined || (e.args['baselines'] !== null && e.args['baselines'] !== undefined)) {
    return { kind: 'unsupported', reason: `sensitivity_max: explanation argument ${unknownExpl ?? 'baselines'} is not supported` }
  }
  const method = METHODS[name]!.build(Object.fromEntries(Object.entries(e.args).flatMap(([k, v]) => (EXPLANATION_ARGS[k] !== undefined ? [[EXPLANATION_ARGS[k], v]] : []))))
  const norm = c.args['norm_ord']
  return {
    kind: 'call',
    pipeline: sensitivityMax(method, {
      nPerturbSamples: n,
      perturbation: { _tag: 'custom', name: 'fixture' },
      ...(norm === 'fro' || norm === 'inf' || typeof norm === 'number' ? { normOrd: norm } : {}),
      ...batch,
    }),
    options: { target, plugins: { perturbations: { fixture: fixedPerturbation(rows, n, false) } } },
  }
}
