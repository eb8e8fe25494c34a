/**
 * `verify`: checks, on the user's own model around the user's own inputs, every axiom a method
 * claims (its `METHODS` entry's `claims`, or the claims given with a custom pipeline or function),
 * with fast-check as the search engine. For each axiom, fast-check draws perturbations of the inputs
 * (within `radius`) and the axiom's own parameters (which features, which weights), measures the
 * axiom's error on each draw (see `axioms.ts` for the definitions), and on a failure shrinks the
 * draw to a small counterexample. The result is a {@link VerifyReport} value: per axiom, whether it
 * holds, fails or does not apply, the worst error measured, and the shrunk counterexample.
 *
 * @example
 * const report = await verify(model, 'integratedGradients', { inputs: x, target: 0, numRuns: 20 })()
 * if (E.isRight(report)) console.log(formatVerifyReport(report.right))
 *
 * @category verify
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import fc from 'fast-check'
import type { Model } from '../core/backend.js'
import { ClarusError, err, invalidSpec, isAttributionError, type AttributionError } from '../core/errors.js'
import { float32, type HostTensor } from '../core/tensor.js'
import { METHODS, type Axiom } from '../algorithms/registry.js'
import { attribute } from '../api/attribute.js'
import { callDataOf, type Pipeline } from '../dsl/spec.js'
import { AXIOMS, grid, type AxiomContext, type Params, type Runner } from './axioms.js'
import { asFloat, perRow, perturbed, rowsOf } from './host.js'

/**
 * A user-written attribution function to verify: attributions for `inputs` (one tensor per input,
 * same shapes), given one baseline row per example and the target.
 */
export type ExplainFn<T> = (
  model: Model<T>,
  inputs: readonly HostTensor[],
  call: { readonly baselines: readonly HostTensor[]; readonly target: number | undefined },
) => TE.TaskEither<AttributionError, readonly HostTensor[]>

/**
 * What to verify: a `METHODS` key (with options, default none), a pipeline with the axioms it
 * claims, or an attribution function with the axioms it claims.
 */
export type VerifyMethod<T> =
  | string
  | { readonly method: string; readonly options?: Readonly<Record<string, unknown>> }
  | { readonly pipeline: Pipeline; readonly claims: readonly Axiom[] }
  | { readonly name: string; readonly explain: ExplainFn<T>; readonly claims: readonly Axiom[] }

export interface VerifyOptions {
  /** The inputs to explain, one tensor per model input, (rows, …) each. */
  readonly inputs: HostTensor | readonly HostTensor[]
  /**
   * x′: a number for every scalar, or one tensor per input, shaped like it or with one row (used for
   * every example). For methods that draw baselines from a distribution: the distribution's rows.
   * Default 0.
   */
  readonly baselines?: number | HostTensor | readonly HostTensor[]
  /** Which output column F is (for a (rows, k) output); may be left out for one scalar per row. */
  readonly target?: number
  /** Draws per axiom (default 10). */
  readonly numRuns?: number
  /** Seed of fast-check and of stochastic methods (default 0): the same seed, the same report. */
  readonly seed?: number
  /** Largest error an axiom may show and still hold: one number, or per axiom (default 1e-3). */
  readonly tolerance?: number | Partial<Readonly<Record<Axiom, number>>>
  /** Largest change of any input scalar in the perturbations searched (default 0.1). */
  readonly radius?: number
  /**
   * The axioms to check (default: the ones the method claims). An axiom the method does not claim
   * may be checked too, to see how far from holding it is; the report marks which were claimed.
   */
  readonly axioms?: readonly Axiom[]
}

export type AxiomStatus = 'holds' | 'fails' | 'notApplicable' | 'error'

/** A failing draw after fast-check's shrinking. */
export interface Counterexample {
  /** The perturbation: each input scalar moved by up to `radius · scale`, from the noise stream `noiseSeed`. */
  readonly scale: number
  readonly noiseSeed: number
  /** The axiom's own parameters (feature indices, weights), and in words. */
  readonly parameters: Params
  readonly setting: string
  /** The error measured on it, and where. */
  readonly error: number
  readonly where: string
  /** Shrinking steps fast-check took to reach it. */
  readonly shrinks: number
}

export interface AxiomCheck {
  readonly axiom: Axiom
  /** Whether the method claims it (an unclaimed axiom is checked only when `axioms` asks for it). */
  readonly claimed: boolean
  readonly statement: string
  readonly status: AxiomStatus
  /** Draws evaluated (fast-check runs, not counting shrinking). */
  readonly runs: number
  /** The largest error measured over every draw (shrinking included); NaN when nothing was measured. */
  readonly worstError: number
  readonly tolerance: number
  readonly counterexample?: Counterexample
  /** Why the axiom does not apply, or the error that stopped the check. */
  readonly reason?: string
}

export interface VerifyReport {
  readonly method: string
  readonly backend: string
  readonly claims: readonly Axiom[]
  readonly checks: readonly AxiomCheck[]
  /** No checked axiom fails or errors. */
  readonly ok: boolean
  readonly numRuns: number
  readonly seed: number
  readonly radius: number
}

const DEFAULT_TOLERANCE = 1e-3

interface Resolved<T> {
  readonly name: string
  readonly claims: readonly Axiom[]
  readonly run: Runner<T>
  readonly inputSpace: boolean | undefined
  readonly distribution: boolean
  /** The layer a METHODS layer method attributes to (its `layer` option), when it names one. */
  readonly layer?: string
}

const resolve = <T>(m: VerifyMethod<T>, seed: number): E.Either<AttributionError, Resolved<T>> => {
  const fromPipeline = (p: Pipeline, claims: readonly Axiom[], inputSpace: boolean | undefined): Resolved<T> => {
    const needs = callDataOf(p)
    const takesBaselines = needs.has('baselines') || needs.has('baselineDistribution')
    return {
      name: p.name,
      claims,
      inputSpace,
      distribution: needs.has('baselineDistribution'),
      run: async (model, inputs, call) => {
        const r = await attribute(p, model, inputs, {
          ...(call.target === undefined ? {} : { target: call.target }),
          ...(takesBaselines ? { baselines: call.baselines } : {}),
          seed,
        })()
        return E.map((a: { attributions: readonly HostTensor[] }) => a.attributions)(r)
      },
    }
  }
  if (typeof m === 'string' || 'method' in m) {
    const key = typeof m === 'string' ? m : m.method
    const info = Object.hasOwn(METHODS, key) ? METHODS[key] : undefined
    if (info === undefined) return E.left(invalidSpec([{ path: ['method'], message: `verify takes a METHODS key, a { pipeline, claims } or a { name, explain, claims }: ${JSON.stringify(key)} is not a key of METHODS` }]))
    const options = typeof m === 'string' ? {} : (m.options ?? {})
    const layer = info.family === 'layer' && typeof options['layer'] === 'string' ? { layer: options['layer'] } : {}
    try {
      return E.right({ ...fromPipeline(info.build(options), info.claims, info.family === 'primary'), name: key, ...layer })
    } catch (e) {
      if (e instanceof ClarusError) return E.left(e.error)
      throw e
    }
  }
  if ('pipeline' in m) return E.right(fromPipeline(m.pipeline, m.claims, undefined))
  return E.right({
    name: m.name,
    claims: m.claims,
    inputSpace: undefined,
    distribution: false,
    run: async (model, inputs, call) => {
      try {
        return await m.explain(model, inputs, call)()
      } catch (e) {
        return E.left(isAttributionError(e) ? e : err('Unsupported', `${m.name} threw: ${e instanceof Error ? e.message : String(e)}`, ['method']))
      }
    },
  })
}

/** Baselines laid out as `verify` uses them: one row per example, or the distribution's rows. */
const layoutBaselines = (xs: readonly HostTensor[], given: VerifyOptions['baselines'], distribution: boolean): E.Either<AttributionError, HostTensor[]> => {
  const list = given === undefined || typeof given === 'number' ? xs.map(() => given ?? 0) : 'dtype' in given ? [given] : given
  if (list.length !== xs.length) return E.left(err('BadBaseline', `verify got ${list.length} baselines for ${xs.length} inputs; give one per input`, ['baselines']))
  const out: HostTensor[] = []
  for (const [k, x] of xs.entries()) {
    const b = list[k]!
    if (typeof b === 'number') {
      out.push(float32(x.shape, new Float32Array(x.data.length).fill(b)))
      continue
    }
    const f = asFloat(b)
    if (perRow(f) !== perRow(x)) return E.left(err('BadBaseline', `baselines.${k} has ${perRow(f)} scalars per example, input ${k} has ${perRow(x)}; give a tensor shaped like the input or with one row`, ['baselines', String(k)]))
    if (distribution || rowsOf(f) === rowsOf(x)) out.push(f)
    else if (rowsOf(f) === 1) out.push(float32(x.shape, Float32Array.from({ length: x.data.length }, (_, i) => Number(f.data[i % f.data.length]))))
    else return E.left(err('BadBaseline', `baselines.${k} has ${rowsOf(f)} rows for ${rowsOf(x)} examples; give one row per example, or one row for all`, ['baselines', String(k)]))
  }
  return E.right(out)
}

/** F per example: the target column of the model's output. */
const explainedOf = <T>(model: Model<T>, target: number | undefined) => async (xs: readonly HostTensor[]): Promise<E.Either<AttributionError, Float64Array>> => {
  const b = model.backend
  const ts = xs.map((x) => b.fromHost(x))
  try {
    const r = await model.forward(ts)()
    if (E.isLeft(r)) return r
    const out = await b.toHost(r.right.output)
    b.dispose(r.right.output)
    for (const v of Object.values(r.right.captured)) b.dispose(v)
    const rows = rowsOf(xs[0]!)
    const per = out.data.length / rows
    if (target === undefined && per !== 1) return E.left(err('BadTarget', `the model gives ${per} outputs per example: pass target (the output column to explain)`, ['target']))
    const col = target ?? 0
    if (col < 0 || col >= per) return E.left(err('BadTarget', `target ${col} is out of range: the model gives ${per} outputs per example`, ['target']))
    return E.right(Float64Array.from({ length: rows }, (_, r) => Number(out.data[r * per + col])))
  } finally {
    for (const t of ts) b.dispose(t)
  }
}

const toleranceOf = (t: VerifyOptions['tolerance'], a: Axiom): number => (typeof t === 'number' ? t : (t?.[a] ?? DEFAULT_TOLERANCE))

/** Thrown inside a property to stop the search on a typed error (not an axiom failure). */
class Stop extends Error {
  constructor(readonly error: AttributionError) {
    super(error.message)
  }
}

/** The most fast-check runs `verify` takes per axiom (each run calls the method and the model several times). */
export const MAX_VERIFY_RUNS = 10_000

/** Checks every claimed axiom of `method` on `model` around `options.inputs`; see the module doc. */
export const verify = <T>(model: Model<T>, method: VerifyMethod<T>, options: VerifyOptions): TE.TaskEither<AttributionError, VerifyReport> => async () => {
  const seed = options.seed ?? 0
  const numRuns = options.numRuns ?? 10
  const radius = options.radius ?? 0.1
  if (!Number.isInteger(numRuns) || numRuns < 1 || numRuns > MAX_VERIFY_RUNS) {
    return E.left(invalidSpec([{ path: ['numRuns'], message: `numRuns must be a positive integer, at most ${MAX_VERIFY_RUNS} (each run calls the method several times), got ${numRuns}` }]))
  }
  if (!(radius >= 0) || !Number.isFinite(radius)) return E.left(invalidSpec([{ path: ['radius'], message: `radius must be a finite number ≥ 0, got ${radius}` }]))
  if (options.target !== undefined && !(Number.isInteger(options.target) && options.target >= 0)) {
    return E.left(err('BadTarget', `target must be an output column index (an integer ≥ 0), got ${options.target}`, ['target']))
  }
  const tolerances = typeof options.tolerance === 'number' ? { all: options.tolerance } : (options.tolerance ?? {})
  const badTolerance = Object.entries(tolerances).filter(([, v]) => !(typeof v === 'number' && v >= 0))
  if (badTolerance.length > 0) return E.left(invalidSpec(badTolerance.map(([k, v]) => ({ path: k === 'all' ? ['tolerance'] : ['tolerance', k], message: `a tolerance is a number ≥ 0, got ${String(v)}` }))))
  const resolved = resolve(method, seed)
  if (E.isLeft(resolved)) return resolved
  const m = resolved.right
  const given = 'dtype' in options.inputs ? [options.inputs as HostTensor] : (options.inputs as readonly HostTensor[])
  if (given.length === 0) return E.left(err('EmptyInput', 'verify needs inputs: pass at least one tensor', ['inputs']))
  const inputs = given.map(asFloat)
  const baselines = layoutBaselines(inputs, options.baselines, m.distribution)
  if (E.isLeft(baselines)) return baselines
  const explained = explainedOf(model, options.target)
  // The unperturbed call first: a model, target or method that cannot run here is an error, not a failed axiom.
  const f0 = await explained(inputs)
  if (E.isLeft(f0)) return f0
  const reference = await m.run(model, inputs, { baselines: baselines.right, target: options.target })
  if (E.isLeft(reference)) return reference
  const probeInputs = inputs.map((x) => model.backend.fromHost(x))
  const probe = await model.forward(probeInputs)()
  for (const t of probeInputs) model.backend.dispose(t)
  if (E.isLeft(probe)) return probe
  const outShape = model.backend.shapeOf(probe.right.output)
  model.backend.dispose(probe.right.output)
  for (const v of Object.values(probe.right.captured)) model.backend.dispose(v)
  const inputSpace = m.inputSpace ?? (reference.right.length === inputs.length && reference.right.every((a, k) => a.shape.join() === inputs[k]!.shape.join()))
  const ctx: AxiomContext<T> = {
    model,
    run: m.run,
    inputs,
    baselines: baselines.right,
    distribution: m.distribution,
    target: options.target,
    outputColumns: outShape.length === 2 ? outShape[1] : undefined,
    inputSpace,
    ...(m.layer !== undefined && !inputSpace && reference.right.length === 1 ? { layer: { name: m.layer, size: perRow(reference.right[0]!) } } : {}),
    explained,
  }
  const wanted = options.axioms ?? m.claims
  const checks: AxiomCheck[] = []
  for (const axiom of wanted) checks.push({ ...(await check(ctx, axiom, toleranceOf(options.tolerance, axiom), { numRuns, seed, radius })), claimed: m.claims.includes(axiom) })
  return E.right({
    method: m.name,
    backend: model.backend.name,
    claims: m.claims,
    checks,
    ok: checks.every((c) => c.status === 'holds' || c.status === 'notApplicable'),
    numRuns,
    seed,
    radius,
  })
}

const check = async <T>(ctx: AxiomContext<T>, axiom: Axiom, tolerance: number, o: { numRuns: number; seed: number; radius: number }): Promise<Omit<AxiomCheck, 'claimed'>> => {
  const def = AXIOMS[axiom]
  const base = { axiom, statement: def.statement, tolerance }
  const why = def.notApplicable(ctx)
  if (why !== undefined) return { ...base, status: 'notApplicable', runs: 0, worstError: NaN, reason: why }
  let worst = NaN
  const measure = async (s: { scale: number; noiseSeed: number; p: Params }) => {
    const r = await def.measure(ctx, perturbed(ctx.inputs, o.radius, s.scale, s.noiseSeed), s.p)
    if (E.isLeft(r)) throw new Stop(r.left)
    if (!(r.right.error <= worst)) worst = r.right.error
    return r.right
  }
  const draw = fc.record({
    scale: grid(0, 1),
    noiseSeed: fc.integer({ min: 0, max: 1_000_000 }),
    p: def.params(ctx),
  })
  const details = await fc.check(
    fc.asyncProperty(draw, async (s) => (await measure(s)).error <= tolerance),
    { numRuns: o.numRuns, seed: o.seed, examples: [[{ scale: 0, noiseSeed: 0, p: fc.sample(def.params(ctx), { numRuns: 1, seed: o.seed })[0]! }]] },
  )
  if (!details.failed) return { ...base, status: 'holds', runs: details.numRuns, worstError: worst }
  if (details.errorInstance instanceof Stop) return { ...base, status: 'error', runs: details.numRuns, worstError: worst, reason: `${details.errorInstance.error._tag}: ${details.errorInstance.error.message}` }
  const s = details.counterexample?.[0]
  if (s === undefined) return { ...base, status: 'error', runs: details.numRuns, worstError: worst, reason: `the search stopped without a counterexample: ${String(details.errorInstance)}` }
  const again = await def.measure(ctx, perturbed(ctx.inputs, o.radius, s.scale, s.noiseSeed), s.p)
  const m = E.isRight(again) ? again.right : { error: NaN, where: again.left.message }
  return {
    ...base,
    status: 'fails',
    runs: details.numRuns,
    worstError: worst,
    counterexample: { scale: s.scale, noiseSeed: s.noiseSeed, parameters: s.p, setting: def.describe(ctx, s.p), error: m.error, where: m.where, shrinks: details.numShrinks },
  }
}
