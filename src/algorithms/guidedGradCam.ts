/**
 * GuidedGradCam (Selvaraju et al. 2017, arXiv:1610.02391): guided backpropagation weighted by the
 * Grad-CAM map of a convolutional layer, upsampled to the input,
 *
 *   GuidedGradCam(x) = GuidedBackprop(x) ⊙ upsample(relu(Σ_c mean(∂F/∂A_c) · A_c)).
 *
 * Pipeline: `grad(rules GuidedBackprop) ∘ weightBy(LayerGradCam(layer, relu, upsampled to the input))`.
 *
 * Captum: `GuidedGradCam(model, layer).attribute(inputs, target, additional_forward_args,
 * interpolate_mode="nearest", attribute_to_layer_input=False)`, `interpolateMode` here. The map is
 * resized to the spatial size of the first input and multiplied into every input (Captum resizes
 * per input and returns an empty tensor for an input it cannot resize; here such an input is a
 * ShapeMismatch error). The layer is named by its tensor (its input for `attribute_to_layer_input`).
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { GUIDED_BACKPROP, RuleSetCodec } from '../core/ruleSet.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { InterpolateModeCodec } from '../dsl/stages/upsample.js'
import { ChannelLayout, layerGradCam } from './layerGradCam.js'

export const GuidedGradCamOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string }),
    t.partial({ interpolateMode: InterpolateModeCodec, layout: ChannelLayout, ruleSet: RuleSetCodec }),
  ]),
)
export type GuidedGradCamOptions = t.TypeOf<typeof GuidedGradCamOptions>

/** The GuidedGradCam pipeline (Captum's default: nearest-neighbour upsampling). */
export const guidedGradCam = (o: GuidedGradCamOptions): Pipeline =>
  pipeline(
    'GuidedGradCam',
    stage.grad({ ruleSet: o.ruleSet ?? GUIDED_BACKPROP }),
    stage.weightBy({
      pipeline: layerGradCam({
        layer: o.layer,
        reluAttributions: true,
        ...(o.layout !== undefined ? { layout: o.layout } : {}),
        upsample: { size: 'input', mode: o.interpolateMode ?? 'nearest' },
      }),
    }),
  )
