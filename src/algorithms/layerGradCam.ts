/**
 * LayerGradCam (Selvaraju et al. 2017, arXiv:1610.02391): a layer's activation weighted by its
 * channel-averaged gradient, Σ_c mean(∂F/∂A_c) · A_c, one map per example at the layer's
 * resolution (see the `gradCam` stage for the exact shapes).
 *
 * Pipeline: `grad(layer) ∘ gradCam`.
 *
 * Captum: `LayerGradCam(forward_func, layer).attribute(inputs, target, additional_forward_args,
 * attribute_to_layer_input=False, relu_attributions=False, attr_dim_summation=True)`, as
 * `reluAttributions` and `attrDimSummation`. The layer is named by its tensor (its input tensor for
 * `attribute_to_layer_input`, which the LayerGradCam class resolves). Channels are dimension 1
 * (`layout: 'NCHW'`, the default) or the last one (`layout: 'NHWC'`, tfjs's Conv2D default; the
 * map is then (N, d₁, …, 1)). `upsample: { size, mode }` resizes the map as Captum's
 * `LayerAttribution.interpolate(map, size, mode)` would (`size: 'input'`: the input's spatial size),
 * by an `upsample` stage: `grad(layer) ∘ gradCam ∘ upsample`.
 *
 * Many layers: `layer` may be a list of layer tensors; one forward and one backward pass then give
 * one map per layer, in list order, each equal to a run with that layer alone (Captum reruns the
 * model per layer and returns a list).
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { LayerSelection } from '../dsl/layers.js'
import { InterpolateModeCodec, UpsampleSize } from '../dsl/stages/upsample.js'

/** Where the layer's channels are: `NCHW` (dim 1, the default) or `NHWC` (the last dim, tfjs's default for Conv2D). */
export const ChannelLayout = t.keyof({ NCHW: null, NHWC: null }, 'ChannelLayout')
export type ChannelLayout = t.TypeOf<typeof ChannelLayout>

/** Resize the map (Captum: `LayerAttribution.interpolate(map, size, mode)` on the result); `size: 'input'` is the input's spatial size. */
export const GradCamUpsample = t.readonly(t.intersection([t.type({ size: UpsampleSize }), t.partial({ mode: InterpolateModeCodec })]), 'GradCamUpsample')
export type GradCamUpsample = t.TypeOf<typeof GradCamUpsample>

export const LayerGradCamOptions = t.readonly(
  t.intersection([
    t.type({ layer: LayerSelection }),
    t.partial({
      reluAttributions: t.boolean,
      attrDimSummation: t.boolean,
      layout: ChannelLayout,
      upsample: GradCamUpsample,
    }),
  ]),
)
export type LayerGradCamOptions = t.TypeOf<typeof LayerGradCamOptions>

/** The LayerGradCam pipeline for a layer tensor or a list of them (Captum's defaults: signs kept, channels summed). */
export const layerGradCam = (o: LayerGradCamOptions): Pipeline =>
  pipeline(
    'LayerGradCam',
    stage.grad({ layer: o.layer }),
    stage.gradCam({
      ...(o.reluAttributions === true ? { relu: true } : {}),
      ...(o.attrDimSummation === false ? { sumChannels: false } : {}),
      ...(o.layout === 'NHWC' ? { channelAxis: -1 } : {}),
    }),
    ...(o.upsample !== undefined ? [stage.upsample({ ...o.upsample, ...(o.layout === 'NHWC' ? { layout: 'NHWC' as const } : {}) })] : []),
  )
