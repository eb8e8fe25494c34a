import { NoiseTunnel, IntegratedGradients, Occlusion, GradientShap, float32 } from 'clarus'
import { model, x } from './ocr-model.js'

const nt = new NoiseTunnel(new IntegratedGradients(model))
const [attr, deltas] = await nt.attribute(x, {
  target: 0, ntType: 'smoothgrad_sq', nSamples: 4, stdevs: 0.1, nSteps: 8, returnConvergenceDelta: true, seed: 7,
})
const smoothOcclusion = await new NoiseTunnel(new Occlusion(model)).attribute(x, {
  target: 0, nSamples: 2, stdevs: 0.05, slidingWindowShapes: [3, 16, 32], strides: [3, 16, 32],
})

// GradientShap: baselines are a distribution of reference rows, [B, …one example]: here a white and a black page
const page = 3 * 48 * 192
const background = float32([2, 3, 48, 192], [...Array<number>(page).fill(1), ...Array<number>(page).fill(-1)])
const shap = await new GradientShap(model).attribute(x, { target: 0, baselines: background, nSamples: 8, seed: 0 })
console.log(attr.shape, smoothOcclusion.shape, shap.shape, deltas.shape)   // 3 × [1, 3, 48, 192]; a delta per noisy copy: [4]
