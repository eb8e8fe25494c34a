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
import { sparseness, SparsenessOptions } from './complexity/sparseness.js'
import { complexity, ComplexityOptions } from './complexity/complexity.js'
import { completeness, CompletenessOptions } from './axiomatic/completeness.js'
import { deletion, insertion, FlipCurveOptions } from './faithfulness/flipCurves.js'
import { monotonicity, MonotonicityOptions } from './faithfulness/monotonicity.js'
import { faithfulnessCorrelation, FaithfulnessCorrelationOptions } from './faithfulness/faithfulnessCorrelation.js'
import { avgSensitivity, localLipschitzEstimate, maxSensitivity, QuantusSensitivityOptions } from './robustness/quantusSensitivity.js'

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
  sparseness: metric({ category: 'complexity', better: 'higher', explains: ['method', 'given'], stochastic: false }, SparsenessOptions, sparseness),
  complexity: metric({ category: 'complexity', better: 'lower', explains: ['method', 'given'], stochastic: false }, ComplexityOptions, complexity),
  completeness: metric({ category: 'axiomatic', better: 'lower', explains: ['method', 'given'], stochastic: false }, CompletenessOptions, completeness),
  // with the default MoRF order; with order: 'lerf' the better direction reverses
  deletion: metric({ category: 'faithfulness', better: 'lower', explains: ['method', 'given'], stochastic: false }, FlipCurveOptions, deletion),
  insertion: metric({ category: 'faithfulness', better: 'higher', explains: ['method', 'given'], stochastic: false }, FlipCurveOptions, insertion),
  monotonicity: metric({ category: 'faithfulness', better: 'higher', explains: ['method', 'given'], stochastic: false }, MonotonicityOptions, monotonicity),
  faithfulnessCorrelation: metric({ category: 'faithfulness', better: 'higher', explains: ['method', 'given'], stochastic: true }, FaithfulnessCorrelationOptions, faithfulnessCorrelation),
  maxSensitivity: metric({ category: 'robustness', better: 'lower', explains: ['method'], stochastic: true }, QuantusSensitivityOptions, (explained, o) => maxSensitivity(explained as Pipeline, o)),
  avgSensitivity: metric({ category: 'robustness', better: 'lower', explains: ['method'], stochastic: true }, QuantusSensitivityOptions, (explained, o) => avgSensitivity(explained as Pipeline, o)),
  localLipschitzEstimate: metric({ category: 'robustness', better: 'lower', explains: ['method'], stochastic: true }, QuantusSensitivityOptions, (explained, o) => localLipschitzEstimate(explained as Pipeline, o)),
} as const satisfies Readonly<Record<string, MetricInfo>>

export type MetricName = keyof typeof METRICS
