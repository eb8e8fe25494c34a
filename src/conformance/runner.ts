/**
 * The conformance runner: runs every case of a reference directory (the format of
 * `shared/reference`: `index.json` plus case files) on one backend, compares with the stored
 * expectation under each case's tolerance, and reports one line per case and a closing line
 * `N passed, M failed, K unsupported`.
 *
 * A case is *unsupported* when this version does not ship its algorithm or arguments, or the
 * backend cannot load its model (e.g. tfjs needs a weight JSON to rebuild the network).
 *
 * @category conformance
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { attribute } from '../api/attribute.js'
import type { Backend, Model } from '../core/backend.js'
import type { AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { AREA_CASES, type AreaContext } from './areas.js'
import { compareTensors } from './compare.js'
import type { ReferenceCase, ReferenceDir } from './load.js'
import { callForCase } from './methods.js'

/** How a backend loads a reference model (or says why it cannot). */
export interface ConformanceTarget<T> {
  readonly name: string
  readonly backend: Backend<T>
  readonly load: (ref: ReferenceDir, model: string) => Promise<E.Either<string, Model<T>>>
}

export type CaseStatus = 'pass' | 'fail' | 'unsupported'

export interface CaseReport {
  readonly id: string
  readonly status: CaseStatus
  readonly detail: string
  readonly ms: number
}

export interface ConformanceReport {
  readonly backend: string
  readonly cases: readonly CaseReport[]
  readonly passed: number
  readonly failed: number
  readonly unsupported: number
}

const fmt = (e: AttributionError): string => `${e._tag}: ${e.message}`

const runCase = async <T>(model: Model<T>, c: ReferenceCase): Promise<Omit<CaseReport, 'ms'>> => {
  const call = callForCase(c)
  if (call.kind === 'unsupported') return { id: c.id, status: 'unsupported', detail: call.reason }
  const limitOk = c.kind === 'limit' && (call.tolerance === 'sampling' ? c.samplingTolerance !== undefined : true)
  // monte_carlo: a seeded run with the case's sample count, held to the case's tolerance (made for that count)
  if (c.kind === 'limit' && !limitOk) return { id: c.id, status: 'unsupported', detail: `${c.kind} cases are not run yet` }
  const tolerance = call.tolerance === 'sampling' ? c.samplingTolerance! : c.tolerance
  const r = await attribute(call.pipeline, model, c.inputs, call.options)()
  if (E.isLeft(r)) {
    const unsupported = r.left._tag === 'Unsupported' || r.left._tag === 'UnsupportedOps'
    return { id: c.id, status: unsupported ? 'unsupported' : 'fail', detail: fmt(r.left) }
  }
  const expected = c.expected.attributions
  const got: readonly HostTensor[] = r.right.attributions
  if (got.length !== expected.length) return { id: c.id, status: 'fail', detail: `${got.length} attribution tensors, expected ${expected.length}` }
  const parts: string[] = []
  let ok = true
  expected.forEach((e, i) => {
    const cmp = compareTensors(got[i]!, e, tolerance)
    ok &&= cmp.ok
    parts.push(`attr${expected.length > 1 ? i : ''}${call.tolerance === 'sampling' ? ' (sampled)' : ''} max|Δ| ${cmp.maxAbsErr.toExponential(2)}${cmp.ok ? '' : ` (${cmp.message})`}`)
  })
  if (call.sampled !== undefined && c.samplingTolerance !== undefined) {
    const s = await attribute(call.sampled, model, c.inputs, call.options)()
    if (E.isLeft(s)) return { id: c.id, status: 'fail', detail: `sampled run: ${fmt(s.left)}` }
    expected.forEach((e, i) => {
      const cmp = compareTensors(s.right.attributions[i]!, e, c.samplingTolerance!)
      ok &&= cmp.ok
      parts.push(`sampled max|Δ| ${cmp.maxAbsErr.toExponential(2)}${cmp.ok ? '' : ` (${cmp.message})`}`)
    })
  }
  const d = c.expected.convergenceDelta
  if (d !== undefined) {
    if (r.right.delta === undefined) {
      ok = false
      parts.push('no delta returned')
    } else {
      const cmp = compareTensors(r.right.delta, d, c.deltaTolerance ?? c.tolerance)
      ok &&= cmp.ok
      parts.push(`delta max|Δ| ${cmp.maxAbsErr.toExponential(2)}${cmp.ok ? '' : ` (${cmp.message})`}`)
    }
  }
  return { id: c.id, status: ok ? 'pass' : 'fail', detail: parts.join(', ') }
}

/** A wave-2 case: its algorithm's runner from {@link AREA_CASES}, or unsupported. */
const runAreaCase = async <T>(c: ReferenceCase, ctx: AreaContext<T>): Promise<Omit<CaseReport, 'ms'>> => {
  const run = AREA_CASES[c.algorithm]
  if (run === undefined) return { id: c.id, status: 'unsupported', detail: `${c.algorithm} (${c.area ?? 'attribution'}) is not implemented in this version` }
  try {
    const m = await ctx.model(c.model)
    if (E.isLeft(m)) return { id: c.id, status: 'unsupported', detail: m.left }
    const out = await run(c, ctx)
    return out.kind === 'unsupported'
      ? { id: c.id, status: 'unsupported', detail: out.reason }
      : { id: c.id, status: out.ok ? 'pass' : 'fail', detail: out.detail }
  } catch (e) {
    return { id: c.id, status: 'fail', detail: `threw: ${e instanceof Error ? e.message : String(e)}` }
  }
}

/** What {@link runReference} and `runConformance` take besides the cases and the target. */
export interface RunConformanceOptions {
  /** Only case ids this matches. */
  readonly filter?: RegExp
  /** Gets one line per case. */
  readonly log?: (line: string) => void
  /** The first word of a case's line (default: its status in capitals; the CLI marks known gaps `KNOWN-GAP`, see knownGaps.ts). */
  readonly label?: (r: Omit<CaseReport, 'ms'>) => string
}

/**
 * Runs every case of a loaded fixture directory (optionally only ids matching `filter`) on
 * `target`. Platform-free: a browser page runs it on fetched files (`memoryFiles`); under Node,
 * `runConformance(dir, …)` loads the directory from disk first.
 */
export const runReference = async <T>(
  ref: ReferenceDir,
  target: ConformanceTarget<T>,
  options: RunConformanceOptions = {},
): Promise<E.Either<AttributionError, ConformanceReport>> => {
  const models = new Map<string, E.Either<string, Model<T>>>()
  const reports: CaseReport[] = []
  const log = options.log ?? (() => undefined)
  const loadModel = async (name: string): Promise<E.Either<string, Model<T>>> => {
    let m = models.get(name)
    if (m === undefined) {
      m = await target.load(ref, name)
      models.set(name, m)
    }
    return m
  }
  const ctx: AreaContext<T> = { ref: ref, target, model: loadModel }
  try {
    for (const lazy of ref.cases) {
      if (options.filter && !options.filter.test(lazy.entry.id)) continue
      const t0 = performance.now()
      let report: Omit<CaseReport, 'ms'>
      const c = lazy.load()
      if (E.isLeft(c)) report = { id: lazy.entry.id, status: 'fail', detail: `cannot read the case: ${c.left.message}` }
      else if (c.right.area !== undefined) report = await runAreaCase(c.right, ctx)
      else {
        const call = callForCase(c.right)
        if (call.kind === 'unsupported') report = { id: c.right.id, status: 'unsupported', detail: call.reason }
        else {
          const m = await loadModel(c.right.model)
          report = E.isLeft(m) ? { id: c.right.id, status: 'unsupported', detail: m.left } : await runCase(m.right, c.right)
        }
      }
      const ms = performance.now() - t0
      reports.push({ ...report, ms })
      log(`${(options.label?.(report) ?? report.status.toUpperCase()).padEnd(11)} ${report.id}  ${report.detail}  [${ms.toFixed(0)} ms]`)
    }
  } finally {
    for (const m of models.values()) if (E.isRight(m)) await m.right.dispose()
  }
  const count = (s: CaseStatus): number => reports.filter((r) => r.status === s).length
  return E.right({ backend: target.name, cases: reports, passed: count('pass'), failed: count('fail'), unsupported: count('unsupported') })
}

/** The model file of a reference model, relative to the fixture root. */
export const modelFile = (ref: ReferenceDir, model: string): string | undefined => {
  const f = ref.index.models[model]?.onnx
  return typeof f === 'string' ? f : undefined
}

