import { LayerAttribution, LayerGradCam, findLayers, interpolateAttribution } from 'clarus'
import { model, x } from './ocr-model.js'

const conv = findLayers(model, { opType: 'Conv', last: true })[0]!.name                      // 'conv2d_94.tmp_0'
const cam = await new LayerGradCam(model, conv).attribute(x, { target: 0 })                   // (N, 1, 2, 96)
const smooth = interpolateAttribution(cam, [48, 192], { mode: 'bilinear' })                    // (N, 1, 48, 192)
const blocky = LayerAttribution.interpolate(cam, [48, 192])                                    // Captum's signature, 'nearest'
const inside = await new LayerGradCam(model, conv).attribute(x, { target: 0, upsample: { size: 'input', mode: 'bilinear' } })
console.log(smooth.shape, blocky.shape, inside.data.every((v, i) => v === smooth.data[i]))    // the same map both ways: true
