/**
 * Host-side helpers shared by the metrics' perturbation stages (`infidelityPerturb`,
 * `sensitivityPerturb`, `subsetPerturb`, `flipPerturb`): their common static check, the layout of a
 * chunk of perturbed copies, reading the explained points, baselines and attributions to the host,
 * copying rows, the flow of perturbed points, and calling a perturbation plug-in with its output
 * checked.
 *
 * @category dsl
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../core/errors.js'
import { hostGatherRows, sizeOf, type HostTensor } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind, type AbstractFlow, type Transfer } from '../abstract.js'
import { childRowKeys, type Flow, type RunContext } from '../flow.js'
import { pluginOf, type PerturbationRequest } from './plugins.js'

/** Rows `start..end` of a sample expansion of `flow` (step-major: row q = (k − start)·R + r copies row r). */
export interface SampleRows {
  /** The incoming row each new row copies. */
  readonly src: Int32Array
  /** The example of each new row. */
  readonly rowExample: Int32Array
  /** The sample index k of each new row. */
  readonly samples: Int32Array
  readonly rowKeys: Uint32Array
}

export const sampleRows = <T>(flow: Flow<T>, start: number, end: number): SampleRows => {
  const R = flow.rowExample.length
  const M = (end - start) * R
  const src = new Int32Array(M)
  const samples = new Int32Array(M)
  for (let q = 0; q < M; q++) {
    src[q] = q % R
    samples[q] = start + Math.floor(q / R)
  }
  return { src, rowExample: Int32Array.from(src, (r) => flow.rowExample[r]!), samples, rowKeys: childRowKeys(flow, start, end) }
}

/** The host copies of `ts` at rows `src`. */
export const hostRows = async <T>(ctx: RunContext<T>, ts: readonly T[], src: Int32Array): Promise<HostTensor[]> =>
  Promise.all(ts.map(async (t) => hostGatherRows(await ctx.backend.toHost(t), src)))

/**
 * The static check of a stage that perturbs the inputs an explanation was computed at: the flow
 * holds attributions (`notValues` otherwise) to the inputs (`notInputs` otherwise), after
 * `reference` and an explanation, and passes `extra` (undefined for none). The stage then holds the
 * perturbed points, one sample axis deeper, with F(x).
 */
export const explainedInputsTransfer = (f: AbstractFlow, notValues: string, notInputs: string, extra: string | undefined): Transfer =>
  firstProblem([
    wrongKind(f, ['values'], notValues),
    f.space.kind === 'input' ? undefined : notInputs,
    missingSlot(f, ['anchor', 'reference'], 'put reference first and then explain(method) or givenAttributions'),
    extra,
  ], () => ({ kind: 'points', space: f.space, depth: f.depth + 1, slots: new Set(['reference'] as const) }))

/** Every row of the explained points, their baselines and attributions on the host, and where each feature lives. */
export interface ExplainedRows {
  /** The explained points x (float32), every incoming row. */
  readonly xs: readonly HostTensor[]
  /** Their baselines x′. */
  readonly bs: readonly HostTensor[]
  /** The attributions a (the flow's value). */
  readonly as: readonly HostTensor[]
  /** Elements of each input per example. */
  readonly pers: readonly number[]
  /** Features per example: every element of every input. */
  readonly n: number
  /** Feature f is element `offsetOf[f]` of input `inputOf[f]` of its example. */
  readonly inputOf: Int32Array
  readonly offsetOf: Int32Array
}

/**
 * Reads every incoming row of the explained points, baselines and attributions of `flow` to the
 * host, for the stage `tag`; a Left when the flow lacks them, or an input is not float32 (`does`
 * says what the stage does to float32 inputs only).
 */
export const readExplainedRows = async <T>(ctx: RunContext<T>, flow: Flow<T>, tag: string, does: string): Promise<E.Either<AttributionError, ExplainedRows>> => {
  const anchor = flow.anchor
  if (anchor === undefined || flow.reference === undefined || anchor.baseline === undefined) {
    return E.left(err('BadPipeline', `${tag} needs the explained points, their baselines and F(x): put reference first and then explain(method) or givenAttributions`, ['stages']))
  }
  const all = Int32Array.from({ length: flow.rowExample.length }, (_, r) => r)
  const xs = await hostRows(ctx, anchor.value, all)
  const bs = await hostRows(ctx, anchor.baseline, all)
  const as = await hostRows(ctx, flow.value, all)
  for (let j = 0; j < xs.length; j++) {
    if (xs[j]!.dtype !== 'float32') return E.left(err('DTypeMismatch', `input ${j} is ${xs[j]!.dtype}: ${does} float32 inputs only`, ['inputs', String(j)]))
  }
  const pers = xs.map((x) => sizeOf(x.shape.slice(1)))
  const n = pers.reduce((a, c) => a + c, 0)
  const inputOf = new Int32Array(n)
  const offsetOf = new Int32Array(n)
  let f0 = 0
  pers.forEach((per, j) => {
    for (let e = 0; e < per; e++) {
      inputOf[f0] = j
      offsetOf[f0++] = e
    }
  })
  return E.right({ xs, bs, as, pers, n, inputOf, offsetOf })
}

/** New float32 tensors whose row q is row `src[q]` of `from` (`pers[j]` elements a row of input j). */
export const copyRows = (from: readonly HostTensor[], pers: readonly number[], src: Int32Array): HostTensor[] => {
  const M = src.length
  const out: HostTensor[] = pers.map((per, j) => ({ dtype: 'float32', shape: [M, ...from[j]!.shape.slice(1)], data: new Float32Array(M * per) }))
  for (let q = 0; q < M; q++) {
    const r = src[q]!
    pers.forEach((per, j) => (out[j]!.data as Float32Array).set((from[j]!.data as Float32Array).subarray(r * per, (r + 1) * per), q * per))
  }
  return out
}

/** The flow of a chunk of perturbed points `hs` (rows `rows`), carrying F(x) from `flow`. */
export const perturbedFlow = <T>(ctx: RunContext<T>, flow: Flow<T>, rows: SampleRows, hs: readonly HostTensor[]): Flow<T> => ({
  value: hs.map((h) => ctx.track(ctx.backend.fromHost(h))),
  rowExample: rows.rowExample,
  rowKeys: rows.rowKeys,
  space: flow.space,
  reference: flow.reference,
})

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, k) => d === b[k])

/**
 * Calls the named perturbation plug-in and checks what it returns: one float32 tensor per input,
 * shaped like the rows it was given (`perturbation` too when `needPerturbation`). Throws a typed
 * error (the interpreter turns it into a Left).
 */
export const callPerturbation = <T>(
  ctx: RunContext<T>,
  name: string,
  req: PerturbationRequest,
  needPerturbation: boolean,
): { readonly perturbed: readonly HostTensor[]; readonly perturbation: readonly HostTensor[] } => {
  const fn = pluginOf(ctx.callData.plugins, 'perturbations', name)
  const out = fn(req)
  const check = (ts: readonly HostTensor[] | undefined, what: string): readonly HostTensor[] => {
    if (ts === undefined || ts.length !== req.inputs.length) {
      throw err('BadPipeline', `the perturbation plug-in ${JSON.stringify(name)} returned ${ts?.length ?? 'no'} ${what} tensor(s) for ${req.inputs.length} input(s): return one per input`, ['plugins', 'perturbations', name])
    }
    ts.forEach((t, j) => {
      const want = req.inputs[j]!.shape
      if (t.dtype !== 'float32' || !sameShape(t.shape, want) || t.data.length !== sizeOf(want)) {
        throw err('ShapeMismatch', `the perturbation plug-in ${JSON.stringify(name)} returned ${what} ${j} as ${t.dtype} [${t.shape.join(', ')}]; expected float32 [${want.join(', ')}] (the rows it was given)`, ['plugins', 'perturbations', name])
      }
    })
    return ts
  }
  const perturbed = check(out.perturbed, 'perturbed')
  const perturbation = needPerturbation ? check(out.perturbation, 'perturbation') : []
  return { perturbed, perturbation }
}
