/**
 * What wave-2 case runners share: the context they get ({@link AreaContext}), their outcome, and
 * {@link compareFields}, which compares a result field by field with the case's expectation. The
 * registry of runners is in `areas.ts` (kept apart so that runners never import the registry).
 *
 * @category conformance
 * @since 0.5.0
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import { isHostTensor } from '../core/codecs.js'
import type { HostTensor } from '../core/tensor.js'
import { compareTensors } from './compare.js'
import type { ReferenceCase, ReferenceDir } from './load.js'
import type { ConformanceTarget } from './runner.js'

/** What a wave-2 case runner gets besides its case. */
export interface AreaContext<T> {
  readonly ref: ReferenceDir
  readonly target: ConformanceTarget<T>
  /** Loads a reference model by its index name (cached for the whole run, disposed at its end). */
  readonly model: (name: string) => Promise<E.Either<string, Model<T>>>
}

/** The outcome of one wave-2 case: unsupported (with why), or compared (with one line of detail). */
export type AreaOutcome =
  | { readonly kind: 'unsupported'; readonly reason: string }
  | { readonly kind: 'compared'; readonly ok: boolean; readonly detail: string }

/** Runs one wave-2 case of its algorithm on the target's backend. */
export type AreaCaseRunner = <T>(c: ReferenceCase, ctx: AreaContext<T>) => Promise<AreaOutcome>


export interface Tol {
  readonly abs: number
  readonly rel: number
}

/** The case's `tolerances[field]`, or undefined (the field must then match exactly). */
export const fieldTolerance = (c: ReferenceCase, field: string): Tol | undefined => {
  const all = c.wave2['tolerances']
  if (typeof all !== 'object' || all === null) return undefined
  const t = (all as Record<string, unknown>)[field]
  if (typeof t !== 'object' || t === null) return undefined
  const { abs, rel } = t as { abs?: unknown; rel?: unknown }
  return typeof abs === 'number' && typeof rel === 'number' ? { abs, rel } : undefined
}

/** The case's expected fields (`expected.<field>`, tensors as host tensors). */
export const expectedFields = (c: ReferenceCase): Readonly<Record<string, unknown>> => {
  const e = c.wave2['expected']
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {}
}

const EXACT: Tol = { abs: 0, rel: 0 }

const asTensor = (u: unknown): HostTensor | undefined => {
  if (isHostTensor(u)) return u
  return undefined
}

interface Walk {
  ok: boolean
  maxAbsErr: number
  problems: string[]
}

const walk = (got: unknown, want: unknown, tol: Tol, at: string, w: Walk): void => {
  const fail = (m: string): void => {
    w.ok = false
    if (w.problems.length < 3) w.problems.push(`${at}: ${m}`)
  }
  const wt = asTensor(want)
  if (wt !== undefined) {
    const gt = asTensor(got)
    if (gt === undefined) return fail('expected a tensor')
    const exact = wt.dtype !== 'float32'
    const cmp = compareTensors(gt, wt, exact ? EXACT : tol)
    if (!Number.isNaN(cmp.maxAbsErr)) w.maxAbsErr = Math.max(w.maxAbsErr, cmp.maxAbsErr)
    if (!cmp.ok) fail(cmp.message)
    return
  }
  if (want === null || typeof want === 'string' || typeof want === 'boolean') {
    if (got !== want) fail(`got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
    return
  }
  if (typeof want === 'number') {
    if (typeof got !== 'number') return fail(`got ${JSON.stringify(got)}, expected the number ${want}`)
    const diff = Number.isNaN(want) ? (Number.isNaN(got) ? 0 : NaN) : got === want ? 0 : Math.abs(got - want)
    if (!Number.isNaN(diff)) w.maxAbsErr = Math.max(w.maxAbsErr, diff)
    if (!(diff <= tol.abs + tol.rel * Math.abs(want))) fail(`got ${got}, expected ${want}`)
    return
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return fail('expected a list')
    if (got.length !== want.length) return fail(`${got.length} item(s), expected ${want.length}`)
    want.forEach((x, i) => walk(got[i], x, tol, `${at}[${i}]`, w))
    return
  }
  if (typeof want === 'object') {
    if (typeof got !== 'object' || got === null || Array.isArray(got) || isHostTensor(got)) return fail('expected a record')
    const g = got as Record<string, unknown>
    const keys = Object.keys(want)
    const extra = Object.keys(g).filter((k) => !keys.includes(k))
    const missing = keys.filter((k) => !(k in g))
    if (extra.length > 0 || missing.length > 0) fail(`keys differ: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`)
    for (const k of keys) if (k in g) walk(g[k], (want as Record<string, unknown>)[k], tol, `${at}.${k}`, w)
    return
  }
  fail(`cannot compare a ${typeof want}`)
}

/**
 * Compares clarus's result fields `got` with the case's `expected.<field>` for each of `fields`
 * (default: every field in `got`). Float tensors and numbers are held to `tolerances[field]`
 * (exact where the case gives none); ids, tokens, indices, booleans and integer tensors must match
 * exactly; lists and records are compared item by item (same keys). Returns one line per field.
 */
export const compareFields = (
  c: ReferenceCase,
  got: Readonly<Record<string, unknown>>,
  fields: readonly string[] = Object.keys(got),
): { readonly ok: boolean; readonly detail: string } => {
  const expected = expectedFields(c)
  let ok = true
  const parts: string[] = []
  for (const f of fields) {
    if (!(f in expected)) {
      ok = false
      parts.push(`${f}: not in the case's expected fields`)
      continue
    }
    if (!(f in got)) {
      ok = false
      parts.push(`${f}: not computed`)
      continue
    }
    const w: Walk = { ok: true, maxAbsErr: 0, problems: [] }
    walk(got[f], expected[f], fieldTolerance(c, f) ?? EXACT, f, w)
    ok &&= w.ok
    parts.push(w.ok ? `${f} max|Δ| ${w.maxAbsErr.toExponential(2)}` : `${f} FAILED (${w.problems.join('; ')})`)
  }
  return { ok, detail: parts.join(', ') }
}
