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
 * `attribute_to_layer_input`); channels are dimension 1 (NCHW).
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const LayerGradCamOptions = t.readonly(t.intersection([t.type({ layer: t.string }), t.partial({ reluAttributions: t.boolean, attrDimSummation: t.boolean })]))
export type LayerGradCamOptions = t.TypeOf<typeof LayerGradCamOptions>

/** The LayerGradCam pipeline for a layer tensor (Captum's defaults: signs kept, channels summed). */
export const layerGradCam = (o: LayerGradCamOptions): Pipeline =>
  pipeline(
    'LayerGradCam',
    stage.grad({ layer: o.layer }),
    stage.gradCam({ ...(o.reluAttributions === true ? { relu: true } : {}), ...(o.attrDimSummation === false ? { sumChannels: false } : {}) }),
  )
