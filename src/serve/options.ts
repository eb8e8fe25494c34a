/**
 * The explanation service's settings: an io-ts codec, its defaults, and the decoder that fills
 * them in. Every limit is a plain number so a deployment can write them in JSON or on the command
 * line (`clarus serve`).
 *
 * @category serve
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, PositiveInt } from '../core/codecs.js'
import type { InvalidSpec } from '../core/errors.js'

/**
 * What {@link createServer} accepts. Only `models` is required; see {@link SERVE_DEFAULTS} for the
 * rest.
 *
 * @category serve
 * @since 0.6.0
 */
export const ServeOptions = t.intersection([
  t.type({
    /** The folder of model files (`.onnx`, tfjs `model.json`) a request may name; nothing outside it is served. */
    models: t.string,
  }),
  t.partial({
    /** When set, every route except `GET /health` needs `Authorization: Bearer <token>`. */
    token: t.string,
    /** Largest request body in bytes; a larger one is answered 413. */
    bodyLimitBytes: PositiveInt,
    /** Largest `nSteps` (integration steps) a request may ask for. */
    maxSteps: PositiveInt,
    /** Largest `nSamples` / `ntSamples` (noise or coalition samples) a request may ask for. */
    maxSamples: PositiveInt,
    /** Most perturbed copies of an example a perturbation method may evaluate (features, windows, coalitions). */
    maxPerturbations: PositiveInt,
    /**
     * Wall-clock limit per request in milliseconds, counted from its arrival (queueing included);
     * it is passed on to `attribute` as `timeoutMs`. Past it the answer is 504.
     */
    timeoutMs: PositiveInt,
    /** Attributions running at once; further requests wait their turn in arrival order. */
    maxConcurrent: PositiveInt,
  }),
], 'ServeOptions')

/**
 * @category serve
 * @since 0.6.0
 */
export type ServeOptions = t.TypeOf<typeof ServeOptions>

/**
 * {@link ServeOptions} with every default filled in.
 *
 * @category serve
 * @since 0.6.0
 */
export type ResolvedServeOptions = Required<Omit<ServeOptions, 'token'>> & Pick<ServeOptions, 'token'>

/**
 * Defaults: 8 MiB bodies, at most 1 000 steps, 1 000 samples and 10 000 perturbations, 60 s per
 * request and 4 attributions at once.
 *
 * @category serve
 * @since 0.6.0
 */
export const SERVE_DEFAULTS = {
  bodyLimitBytes: 8 * 1024 * 1024,
  maxSteps: 1000,
  maxSamples: 1000,
  maxPerturbations: 10_000,
  timeoutMs: 60_000,
  maxConcurrent: 4,
} as const

/**
 * Decodes `u` as {@link ServeOptions} and fills in the defaults; an `InvalidSpec` names every bad
 * field.
 *
 * @category serve
 * @since 0.6.0
 */
export const decodeServeOptions = (u: unknown): E.Either<InvalidSpec, ResolvedServeOptions> =>
  E.map((o: ServeOptions): ResolvedServeOptions => {
    const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ServeOptions
    return { ...SERVE_DEFAULTS, ...given }
  })(decodeWith(ServeOptions, u))
