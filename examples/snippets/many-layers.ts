import { LayerActivation, LayerGradCam } from 'clarus'
import { model, x } from './ocr-model.js'

const [early, late] = await new LayerGradCam(model, ['conv2d_58.tmp_0', 'conv2d_94.tmp_0']).attribute(x, { target: 0 })
const acts = await new LayerActivation(model, ['relu_0.tmp_0', 'relu_3.tmp_0']).attribute(x)    // HostTensor[]
const one = await new LayerGradCam(model, 'conv2d_94.tmp_0').attribute(x, { target: 0 })        // HostTensor
console.log(early?.shape, late?.shape, acts.map((a) => a.shape))  // [1, 1, 12, 96] [1, 1, 2, 96] [[1, 8, 24, 96], [1, 24, 12, 96]]
console.log(one.data.every((v, i) => Math.abs(Number(v) - Number(late?.data[i])) < 1e-6))   // true: the one-layer map, up to float32 rounding
