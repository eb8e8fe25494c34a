/**
 * Attacks as values, for the functions that run attacks many times (MinParamPerturbation,
 * AttackComparator): FGSM or PGD with fixed options, or any function from inputs to perturbed
 * inputs. A value names what to run; {@link runAttack} runs it on host tensors, with one option
 * overridden (the searched parameter) and the caller's labels as the default target.
 *
 * Captum: an attack there is any callable (`FGSM(model).perturb`, a torchvision transform, …) with
 * `attack_kwargs`; `{ _tag: 'FGSM', options }` is `FGSM(model, loss, bounds).perturb` with those
 * keyword arguments, and the evaluate call's target is passed on (Captum's
 * `additional_attack_arg_names=['target']`) unless the options fix one.
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { backendFailure, err, invalidSpec, isAttributionError, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { fgsmPrepared, FgsmOptions } from './fgsm.js'
import { broadcastTo } from './hostMath.js'
import type { CallPlan } from './modelCalls.js'
import { pgdPrepared, PgdOptions } from './pgd.js'
import { labelsFor, type MaskOption } from './prepare.js'

/** What a custom attack is called with besides the inputs. */
export interface AttackArgs {
  /** The labels of the call (one per example), when it has them. */
  readonly target: Int32Array | undefined
  /** Which attempt this is (0-based), when an attack is tried several times. */
  readonly attempt: number
  /** The searched parameter's value (MinParamPerturbation), when there is one. */
  readonly param: number | undefined
}

/**
 * Any attack: perturbed inputs (same shapes and dtypes). It gets copies, which it may change and
 * return. It may keep state across calls; the callers call it in a documented order.
 */
export type AttackFn = (inputs: readonly HostTensor[], args: AttackArgs) => readonly HostTensor[] | Promise<readonly HostTensor[]>

/** An attack as a value (see the module doc). FGSM/PGD options may leave out what the caller supplies. */
export type Attack =
  | { readonly _tag: 'FGSM'; readonly options?: Partial<FgsmOptions> }
  | { readonly _tag: 'PGD'; readonly options?: Partial<PgdOptions> }
  | { readonly _tag: 'custom'; readonly fn: AttackFn }

export const Attack = t.union(
  [
    t.readonly(t.intersection([t.type({ _tag: t.literal('FGSM') }), t.partial({ options: t.UnknownRecord })])),
    t.readonly(t.intersection([t.type({ _tag: t.literal('PGD') }), t.partial({ options: t.UnknownRecord })])),
    t.readonly(t.type({ _tag: t.literal('custom'), fn: t.Function })),
  ],
  'Attack',
) as unknown as t.Type<Attack, Attack, unknown>

/** The numeric options of each built-in attack that a search may vary. */
export const SEARCHABLE: Readonly<Record<'FGSM' | 'PGD', readonly string[]>> = {
  FGSM: ['epsilon'],
  PGD: ['radius', 'stepSize', 'stepNum'],
}

/** Why `argName` cannot be searched on `attack`, or undefined. */
export const searchProblem = (attack: Attack, argName: string): AttributionError | undefined =>
  attack._tag !== 'custom' && !SEARCHABLE[attack._tag].includes(argName)
    ? invalidSpec([{ path: ['argName'], message: `${attack._tag} has no numeric option ${JSON.stringify(argName)} to search; use one of ${SEARCHABLE[attack._tag].join(', ')}` }])
    : undefined

/** One run of `attack` on `xs` (host). `override` sets the searched option; `path` prefixes errors. */
export const runAttack = async <T>(
  model: Model<T>,
  plan: CallPlan,
  attack: Attack,
  xs: readonly HostTensor<'float32'>[],
  call: { readonly target: Int32Array | undefined; readonly attempt: number; readonly override?: { readonly name: string; readonly value: number } },
  path: readonly string[],
): Promise<E.Either<AttributionError, readonly HostTensor<'float32'>[]>> => {
  const rows = xs[0]?.shape[0] ?? 0
  if (attack._tag === 'custom') {
    try {
      // Copies, so an attack that writes to its inputs cannot change the caller's tensors.
      const copies = xs.map((x) => ({ ...x, shape: [...x.shape], data: x.data.slice() }))
      const out = await attack.fn(copies, { target: call.target, attempt: call.attempt, param: call.override?.value })
      const bad = xs.findIndex((x, i) => {
        const o = out[i]
        return o === undefined || o.dtype !== 'float32' || o.shape.length !== x.shape.length || o.shape.some((d, k) => d !== x.shape[k])
      })
      if (out.length !== xs.length || bad >= 0) {
        return E.left(err('ShapeMismatch', `the custom attack returned ${out.length} tensor(s) for ${xs.length} input(s)${bad >= 0 ? `; output ${bad} is not a float32 tensor shaped like input ${bad}` : ''}`, [...path]))
      }
      return E.right(out as readonly HostTensor<'float32'>[])
    } catch (e) {
      return E.left(isAttributionError(e) ? e : backendFailure(`the custom attack threw: ${e instanceof Error ? e.message : String(e)}`, e, [...path]))
    }
  }
  const given = attack.options ?? {}
  const target = given.target ?? (call.target === undefined ? undefined : Array.from(call.target))
  if (target === undefined) return E.left(err('BadTarget', `${attack._tag} needs class labels: give target in the attack's options or in the call`, [...path, 'options', 'target']))
  const merged = {
    ...given,
    target,
    ...(call.override ? { [call.override.name]: call.override.value } : {}),
    ...(attack._tag === 'PGD' && call.attempt > 0 ? { seed: ((given as Partial<PgdOptions>).seed ?? 0) + call.attempt } : {}),
  }
  const labels = labelsFor(target, rows, [...path, 'options', 'target'])
  if (E.isLeft(labels)) return labels
  const maskOption = given.mask as MaskOption | undefined
  const maskList = maskOption === undefined ? [] : Array.isArray(maskOption) ? (maskOption as readonly HostTensor[]) : [maskOption as HostTensor]
  const masks = xs.map((x, i) => (maskList[i] === undefined ? undefined : broadcastTo(maskList[i]!, x.shape)))
  if (maskOption !== undefined && (maskList.length !== xs.length || masks.some((m) => m === undefined))) {
    return E.left(err('ShapeMismatch', `the ${attack._tag} mask needs one tensor per input, each broadcastable to it`, [...path, 'options', 'mask']))
  }
  const prepared = { xs, rows, labels: labels.right, masks, plan }
  if (attack._tag === 'FGSM') {
    const o = decodeWith(FgsmOptions, merged, [...path, 'options'])
    return E.isLeft(o) ? o : fgsmPrepared(model, prepared, o.right)
  }
  const o = decodeWith(PgdOptions, merged, [...path, 'options'])
  return E.isLeft(o) ? o : pgdPrepared(model, prepared, o.right)
}
