/**
 * METRICS: every metric by name, like METHODS for the attribution methods — its options codec,
 * a builder from (what it explains, options) to a pipeline, and the metadata a report or a test
 * table needs (Quantus's category, which direction is better, Captum's name).
 *
 * A metric is a pipeline like any method: JSON, printable with `describe`, run by `evaluate`
 * (or `attribute`) chunked under the memory budget, seeded, with progress and cancellation.
 *
 * @category metrics
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { decodeWith } from '../core/codecs.js'
import { ClarusError, err } from '../core/errors.js'
import type { Pipeline } from '../dsl/spec.js'
import { infidelity, InfidelityOptions, type Explained } from './faithfulness/infidelity.js'
import { sensitivityMax, SensitivityMaxOptions } from './robustness/sensitivityMax.js'

/** Quantus's taxonomy of metrics. */
export type MetricCategory = 'faithfulness' | 'robustness' | 'localisation' | 'complexity' | 'randomisation' | 'axiomatic'

export interface MetricInfo {
  /** Captum's function name, when Captum has the metric. */
  readonly captumName?: string
  readonly category: MetricCategory
  /** Whether a lower or a higher score means a better explanation. */
  readonly better: 'lower' | 'higher'
  /** What the metric can evaluate: a method it runs, and/or the call's precomputed attributions. */
  readonly explains: readonly ('method' | 'given')[]
  /** Whether the score depends on the seed. */
  readonly stochastic: boolean
  /** The options codec (Captum's names camelCased). */
  readonly options: t.Decoder<unknown, unknown>
  /**
   * The metric's pipeline for `explained` (a method, or `'given'` for the call's attributions) and
   * options decoded with `options`; bad options, or an explanation the metric cannot take, throw a
   * {@link ClarusError} naming every bad field.
   */
  readonly build: (explained: Explained, options?: unknown) => Pipeline
}

type Meta = Omit<MetricInfo, 'options' | 'build'>

const metric = <O>(meta: Meta, options: t.Decoder<unknown, O>, build: (explained: Explained, o: O) => Pipeline): MetricInfo => ({
  ...meta,
  options,
  build: (explained, u = {}) => {
    if (!meta.explains.includes(explained === 'given' ? 'given' : 'method')) {
      throw new ClarusError(err('BadPipeline', explained === 'given'
        ? 'this metric re-runs the explained method at perturbed inputs: give it a method (a pipeline), not precomputed attributions'
        : 'this metric takes precomputed attributions only: pass \'given\' and options.attributions', ['explained']))
    }
    const o = decodeWith(options, u)
    if (E.isLeft(o)) throw new ClarusError(o.left)
    return build(explained, o.right)
  },
})

export const METRICS = {
  infidelity: metric({ captumName: 'infidelity', category: 'faithfulness', better: 'lower', explains: ['method', 'given'], stochastic: true }, InfidelityOptions, infidelity),
  sensitivityMax: metric(
    { captumName: 'sensitivity_max', category: 'robustness', better: 'lower', explains: ['method'], stochastic: true },
    SensitivityMaxOptions,
    (explained, o) => sensitivityMax(explained as Pipeline, o),
  ),
} as const satisfies Readonly<Record<string, MetricInfo>>

export type MetricName = keyof typeof METRICS
