/**
 * NeuronGradientShap: GradientShap (see `gradientShap.ts`) where the explained scalar is one
 * neuron y_n of an internal tensor. With baselines b drawn from a distribution, noisy inputs
 * x̃ = x + ε and α ~ U(0, 1),
 *
 *   NGS(x) = E_{b, ε, α}[(x̃ − b) ⊙ ∂y_n/∂x (b + α(x̃ − b))],
 *
 * which with σ = 0 converges to the mean over the baseline rows of NeuronIntegratedGradients.
 *
 * Pipeline: `noise(draw) ∘ apply(randomPoint ∘ grad(neuron) ∘ quadrature ∘ scaleByDelta) ∘
 * sampleMean` — GradientShap's composition with the neuron seeded instead of the target.
 *
 * Captum: `NeuronGradientShap(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * neuron_selector, baselines, n_samples=5, stdevs=0.0, additional_forward_args,
 * attribute_to_neuron_input=False)`. `baselines` is the distribution ([B, …one example] per
 * input); no `target` and no delta. Random draws come from clarus's seeded generator (same
 * distribution, not torch's draws).
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { PositiveInt, Stdevs } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { gradientShapDefaults } from './gradientShap.js'
import { neuronOf, NeuronSelector } from './neuron.js'

export const NeuronGradientShapOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string, neuronSelector: NeuronSelector }),
    t.partial({ nSamples: PositiveInt, stdevs: Stdevs, multiplyByInputs: t.boolean }),
  ]),
)
export type NeuronGradientShapOptions = t.TypeOf<typeof NeuronGradientShapOptions>

/** The NeuronGradientShap pipeline (Captum's defaults: 5 samples, σ = 0, multiplied by x − b). */
export const neuronGradientShap = (o: NeuronGradientShapOptions): Pipeline => {
  const nSamples = o.nSamples ?? gradientShapDefaults.nSamples
  const stdevs = o.stdevs ?? gradientShapDefaults.stdevs
  const inner = pipeline(
    'NeuronInputBaselineXGradient',
    stage.randomPoint(),
    stage.grad({ neuron: neuronOf(o.layer, o.neuronSelector) }),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []),
  )
  return pipeline(
    'NeuronGradientShap',
    stage.noise({ nSamples, stdevs, baselines: 'draw' }),
    stage.apply(inner),
    stage.sampleMean({ type: 'smoothgrad' }),
  )
}
