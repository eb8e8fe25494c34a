/**
 * Host-side helpers shared by the metrics' perturbation stages (`infidelityPerturb`,
 * `sensitivityPerturb`): the layout of a chunk of perturbed copies, reading the anchor to the host,
 * and calling a perturbation plug-in with its output checked.
 *
 * @category dsl
 * @since 0.4.0
 */
import { err } from '../../core/errors.js'
import { hostGatherRows, sizeOf, type HostTensor } from '../../core/tensor.js'
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
