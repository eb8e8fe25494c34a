/**
 * The check of inputs against a model's declared input shapes, shared by every backend and by
 * `attribute` (which runs it before any expansion, so the message shows the caller's shapes, not
 * the shapes of the interpolated or perturbed batches).
 *
 * @category core
 * @since 0.2.0
 */
import type { ModelSignature } from './backend.js'
import { err, type ShapeMismatch } from './errors.js'

const dim = (d: number | string | null): string => (typeof d === 'number' ? String(d) : '?')
const example = (dims: readonly (number | string | null)[]): string => `[${dims.slice(1).map(dim).join(', ')}]`

/**
 * A ShapeMismatch at `inputs.<i>` for the first input whose rank or fixed per-example dimensions
 * disagree with `signature` (dimension 0, the batch, is never checked), or undefined. Inputs the
 * signature does not describe (no shape) pass.
 */
export const declaredShapeProblem = (shapes: readonly (readonly number[])[], signature: ModelSignature): ShapeMismatch | undefined => {
  for (let i = 0; i < shapes.length && i < signature.inputs.length; i++) {
    const declared = signature.inputs[i]!
    const want = declared.shape
    if (want.length === 0) continue
    const got = shapes[i]!
    const fits = got.length === want.length && want.every((d, k) => k === 0 || typeof d !== 'number' || d === got[k])
    if (fits) continue
    const full = `[${want.map(dim).join(', ')}]`
    const known = want.slice(1).every((d) => typeof d === 'number')
    const detail = got.length === want.length - 1
      ? `but input ${i} has rank ${got.length}: it lacks the batch dimension (dimension 0 counts the examples)` +
        (known ? `; for one example, pass shape [1, ${want.slice(1).join(', ')}]` : '')
      : `but input ${i} has shape [${got.join(', ')}], examples of shape ${example(got)}`
    return err('ShapeMismatch',
      `inputs.${i}: the model's input ${JSON.stringify(declared.name)} is declared ${full}, so each example must have shape ${example(want)}, ${detail}`,
      ['inputs', String(i)])
  }
  return undefined
}
