/**
 * Typed errors. Every failure clarus reports is one of these values: a `_tag` saying what is wrong,
 * a `path` to the spec field, input or graph node at fault (io-ts style), and a `message` that says
 * what to do about it. Functional APIs return them in `Either`/`TaskEither`; the Captum-style
 * facade throws them wrapped in {@link ClarusError}.
 *
 * @category core
 * @since 0.1.0
 */

/** One graph node that has no gradient rule (or is otherwise unsupported). */
export interface UnsupportedNode {
  readonly name: string
  readonly opType: string
  readonly domain: string
  readonly opset: number
}

interface Base<Tag extends string> {
  readonly _tag: Tag
  readonly message: string
  readonly path: readonly string[]
}

/** A spec or option object failed to decode; `issues` lists every bad field. */
export interface InvalidSpec extends Base<'InvalidSpec'> {
  readonly issues: readonly { readonly path: readonly string[]; readonly message: string }[]
}
export type ShapeMismatch = Base<'ShapeMismatch'>
export type BadTarget = Base<'BadTarget'>
export type BadBaseline = Base<'BadBaseline'>
export type DTypeMismatch = Base<'DTypeMismatch'>
export type NonFinite = Base<'NonFinite'>
export type EmptyInput = Base<'EmptyInput'>
export type MissingInput = Base<'MissingInput'>
export type UnknownTensor = Base<'UnknownTensor'>
export type NotReachable = Base<'NotReachable'>
/** The graph has nodes clarus cannot differentiate; `nodes` lists all of them, not just the first. */
export interface UnsupportedOps extends Base<'UnsupportedOps'> {
  readonly nodes: readonly UnsupportedNode[]
}
/** The backend cannot do what was asked (a missing kernel, an unsupported target kind, …). */
export type Unsupported = Base<'Unsupported'>
/** The model or runtime failed while running; `cause` holds the original error. */
export interface BackendFailure extends Base<'BackendFailure'> {
  readonly cause?: unknown
}
export type Cancelled = Base<'Cancelled'>
export type BadModel = Base<'BadModel'>
/** A pipeline whose stages do not fit together (an unmatched expansion, a stage in the wrong space, …). */
export type BadPipeline = Base<'BadPipeline'>

export type AttributionError =
  | InvalidSpec
  | ShapeMismatch
  | BadTarget
  | BadBaseline
  | DTypeMismatch
  | NonFinite
  | EmptyInput
  | MissingInput
  | UnknownTensor
  | NotReachable
  | UnsupportedOps
  | Unsupported
  | BackendFailure
  | Cancelled
  | BadModel
  | BadPipeline

export type ErrorTag = AttributionError['_tag']

type Simple = Exclude<AttributionError, InvalidSpec | UnsupportedOps | BackendFailure>

/** Builds one of the simple error values. */
export const err = <Tag extends Simple['_tag']>(
  tag: Tag,
  message: string,
  path: readonly string[] = [],
): Extract<AttributionError, { _tag: Tag }> =>
  ({ _tag: tag, message, path }) as Extract<AttributionError, { _tag: Tag }>

export const unsupportedOps = (nodes: readonly UnsupportedNode[], path: readonly string[] = []): UnsupportedOps => ({
  _tag: 'UnsupportedOps',
  path,
  nodes,
  message:
    `clarus cannot differentiate ${nodes.length} node(s) of this graph: ` +
    nodes.map((n) => `${n.name || '<unnamed>'} (${n.domain ? n.domain + '.' : ''}${n.opType}, opset ${n.opset})`).join('; ') +
    '. Use a perturbation method (FeatureAblation, Occlusion, ShapleyValueSampling, …), which needs only forward passes, ' +
    'or give a gradient rule for these op types: fromOnnx(model, { session: { extraGradRules } }).',
})

export const backendFailure = (message: string, cause?: unknown, path: readonly string[] = []): BackendFailure => ({
  _tag: 'BackendFailure',
  message,
  path,
  cause,
})

export const invalidSpec = (
  issues: readonly { readonly path: readonly string[]; readonly message: string }[],
): InvalidSpec => ({
  _tag: 'InvalidSpec',
  path: issues[0]?.path ?? [],
  issues,
  message: 'invalid options: ' + issues.map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`).join('; '),
})

/** An `Error` carrying a typed {@link AttributionError}; thrown by the Captum-style facade only. */
export class ClarusError extends Error {
  readonly error: AttributionError
  constructor(error: AttributionError) {
    super(`${error._tag}: ${error.message}`)
    this.name = 'ClarusError'
    this.error = error
  }
}

/** True when `u` is a clarus error value. */
export const isAttributionError = (u: unknown): u is AttributionError =>
  typeof u === 'object' && u !== null && '_tag' in u && 'message' in u && 'path' in u
