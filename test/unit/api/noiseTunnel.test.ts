// NoiseTunnel, GradientShap, InputBaselineXGradient and LayerGradientShap through the public API:
// the classes, Captum's delta layout, wrapping perturbation and layer methods, bad input, and no
// tfjs tensor left behind.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { captumDeltaOrder } from '../../../src/dsl/stages/sampleMean.js'
import {
  attribute, decodePipeline, describe as show, featureAblation, float32, GradientShap, integratedGradients, InputBaselineXGradient, IntegratedGradients, int32, KernelShap,
  LayerGradientShap, LayerIntegratedGradients, NoiseTunnel, type Target, noiseTunnel, Occlusion, pipeline, Saliency, saliency, stage, type Explainer, type HostTensor, type Model, type NoiseTunnelResult,
} from '../../../src/index.js'
import { basicMultiLayer } from '../../helpers/basicModels.js'
import { errorOf } from '../../helpers/errors.js'
import { multiLayer } from '../../helpers/hostModels.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

let mlp: Model<HostTensor>
beforeAll(async () => {
  await tf.setBackend('cpu')
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
})
afterAll(async () => {
  await mlp.dispose()
})

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
const dist = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i) / 2))
const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

describe('the classes', () => {
  it('NoiseTunnel wraps a class instance; its options and the wrapped method\'s sit side by side', async () => {
    const nt = new NoiseTunnel(new IntegratedGradients(mlp))
    const [attr, delta] = await nt.attribute(x, { target: 0, nSamples: 4, stdevs: 0.1, nSteps: 8, returnConvergenceDelta: true, seed: 1 })
    // typed from the wrapped class (npm run typecheck checks these): an input method mirrors its inputs
    expectTypeOf(attr).toEqualTypeOf<HostTensor>()
    expect(attr.shape).toEqual([2, 12])
    expect(delta.shape).toEqual([8])
    // known only as an Explainer, the result is the union of what a method can give
    expectTypeOf<NoiseTunnelResult<Explainer<HostTensor>, HostTensor>>().toEqualTypeOf<HostTensor | HostTensor[]>()
    // IG with 8 steps on a ReLU network: small deltas, one per example and sample
    data(delta).forEach((d) => expect(Math.abs(d)).toBeLessThan(0.5))
  })

  it('NoiseTunnel around a perturbation method (beyond Captum) and a layer method', async () => {
    const fa = await new NoiseTunnel(new Occlusion(mlp)).attribute(x, { target: 0, nSamples: 3, stdevs: 0.05, slidingWindowShapes: [3], seed: 2 })
    expect((fa as HostTensor).shape).toEqual([2, 12])
    const ks = await new NoiseTunnel(new KernelShap(mlp)).attribute(x, { target: 0, nSamples: 3, stdevs: 0.05, seed: 2 })
    expect((ks as HostTensor).shape).toEqual([2, 12])
    const layer = '/relu1/Relu_output_0'
    const lig = await new NoiseTunnel(new LayerIntegratedGradients(mlp, layer)).attribute(x, { target: 0, nSamples: 2, stdevs: 0.05, nSteps: 4, seed: 2 })
    const alone = await new LayerIntegratedGradients(mlp, layer).attribute(x, { target: 0, nSteps: 4 })
    expect((lig as HostTensor).shape).toEqual(alone.shape)
  })

  it('NoiseTunnel on a plain-function model with a forward-only method; a gradient method there is a typed error', async () => {
    const plain = fromFunction(multiLayer)
    const x3 = float32([2, 3], [1, 2, 3, 4, 5, 6])
    const r = await new NoiseTunnel(new Occlusion(plain)).attribute(x3, { target: 0, nSamples: 2, stdevs: 0, slidingWindowShapes: [1] })
    expect(data(r as HostTensor)).toEqual(data(await new Occlusion(plain).attribute(x3, { target: 0, slidingWindowShapes: [1] })))
    expect((await errorOf(new NoiseTunnel(new Saliency(plain)).attribute(x3, { target: 0 })))._tag).toBe('Unsupported')
  })

  it('GradientShap, InputBaselineXGradient and LayerGradientShap return Captum\'s shapes', async () => {
    const [gs, delta] = await new GradientShap(mlp).attribute(x, { target: 2, baselines: dist, nSamples: 5, returnConvergenceDelta: true })
    expect(gs.shape).toEqual([2, 12])
    expect(delta.shape).toEqual([10])
    const [ibxg, d1] = await new InputBaselineXGradient(mlp).attribute(x, { target: 2, baselines: 0, returnConvergenceDelta: true })
    expect(ibxg.shape).toEqual([2, 12])
    expect(d1.shape).toEqual([2])
    const [lgs, d2] = await new LayerGradientShap(mlp, '/relu1/Relu_output_0').attribute(x, { target: 2, baselines: dist, nSamples: 4, returnConvergenceDelta: true })
    expect(lgs.shape[0]).toBe(2)
    expect(d2.shape).toEqual([8])
  })

  it('multiplyByInputs: false gives the expected gradients alone (no (x − x′) factor)', async () => {
    const g = await new GradientShap(mlp, { multiplyByInputs: false }).attribute(x, { target: 2, baselines: dist, nSamples: 5, seed: 4 })
    const withX = await new GradientShap(mlp).attribute(x, { target: 2, baselines: dist, nSamples: 5, seed: 4 })
    expect(data(g)).not.toEqual(data(withX))
  })
})

describe('targets inside apply follow the call\'s examples', () => {
  const x3 = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i + 2)))
  const same = async (target: Target): Promise<void> => {
    const alone = await attribute(integratedGradients({ nSteps: 6 }), mlp, x3, { target })()
    const nt = await attribute(noiseTunnel(integratedGradients({ nSteps: 6 }), { nSamples: 2, stdevs: 0 }), mlp, x3, { target })()
    if (E.isLeft(alone) || E.isLeft(nt)) throw new Error(E.isLeft(alone) ? alone.left.message : E.isLeft(nt) ? nt.left.message : '')
    data(nt.right.attributions[0]!).forEach((v, i) => expect(v).toBeCloseTo(data(alone.right.attributions[0]!)[i]!, 6))
  }
  it('a per-example list, a per-example mask, and a shared mask whose length equals the number of examples', async () => {
    await same([0, 2, 1])
    await same({ mask: float32([3, 3], [1, 0, 0, 0, 0, 1, 0.5, 0.5, 0]) })
    // shape [3] with 3 examples: shared by every example (one weight per output), not per example
    await same({ mask: float32([3], [0.2, -1, 0.5]) })
  })
})

describe('deltas in Captum\'s order', () => {
  it('example-major within each batch of samples, batches one after the other', () => {
    // S = 3 samples, R = 2 examples; our rows are k·R + r
    expect(Array.from(captumDeltaOrder(3, 2, 3))).toEqual([0, 2, 4, 1, 3, 5])
    expect(Array.from(captumDeltaOrder(3, 2, 2))).toEqual([0, 2, 1, 3, 4, 5])
  })

  it('NoiseTunnel(IG) with σ = 0: every sample\'s delta is the method\'s own, example-major', async () => {
    const ig = await new IntegratedGradients(mlp).attribute(x, { target: 1, nSteps: 6, returnConvergenceDelta: true })
    const [, d] = await new NoiseTunnel(new IntegratedGradients(mlp)).attribute(x, { target: 1, nSteps: 6, nSamples: 3, stdevs: 0, returnConvergenceDelta: true })
    const own = data(ig[1])
    data(d).forEach((v, i) => expect(v).toBeCloseTo(own[Math.floor(i / 3)]!, 6))
  })
})

describe('bad input is a typed error', () => {
  it('GradientShap without baselines, or with a distribution of the wrong example shape', async () => {
    const none = await errorOf(new GradientShap(mlp).attribute(x, { target: 0 }))
    expect(none._tag).toBe('BadBaseline')
    expect(none.path[0]).toBe('baselines')
    const wrong = await errorOf(new GradientShap(mlp).attribute(x, { target: 0, baselines: float32([3, 11], new Float32Array(33)) }))
    expect(wrong._tag).toBe('BadBaseline')
  })

  it('negative or non-finite stdevs, and a stdevs list of the wrong length', async () => {
    const neg = await errorOf(new NoiseTunnel(new Saliency(mlp)).attribute(x, { target: 0, stdevs: -1 }))
    expect(neg._tag).toBe('InvalidSpec')
    expect(neg.message).toMatch(/stdevs/)
    expect((await errorOf(new GradientShap(mlp).attribute(x, { target: 0, baselines: dist, stdevs: Number.NaN })))._tag).toBe('InvalidSpec')
    const len = await errorOf(new NoiseTunnel(new Saliency(mlp)).attribute(x, { target: 0, stdevs: [0.1, 0.2] }))
    expect(len._tag).toBe('ShapeMismatch')
    expect(len.path).toEqual(['stdevs'])
  })

  it('asking for the delta of a method that has none', async () => {
    const e = await errorOf(new NoiseTunnel(new Saliency(mlp)).attribute(x, { target: 0, returnConvergenceDelta: true }))
    expect(e._tag).toBe('InvalidSpec')
    expect(e.message).toMatch(/no convergence delta/)
  })

  it('noise on an integer input is a DTypeMismatch naming stdevs; stdev 0 for it works', async () => {
    const twoInputs = fromFunction(([a, b]) => float32([a!.shape[0]!, 1], Array.from({ length: a!.shape[0]! }, (_, i) => (a!.data as Float32Array)[i]! + Number((b!.data as Int32Array)[i]!))))
    const a = float32([2, 1], [1, 2])
    const b = int32([2, 1], [3, 4])
    const bad = await attribute(noiseTunnel(featureAblation(), { nSamples: 2, stdevs: 0.1 }), twoInputs, [a, b], { target: null })()
    expect(E.isLeft(bad) && bad.left._tag).toBe('DTypeMismatch')
    expect(E.isLeft(bad) && bad.left.path).toEqual(['stdevs', '1'])
    const ok = await attribute(noiseTunnel(featureAblation(), { nSamples: 2, stdevs: [0.1, 0] }), twoInputs, [a, b], { target: null, seed: 1 })()
    expect(E.isRight(ok)).toBe(true)
  })

  it('a perturbation method spliced inside noise is a BadPipeline that points to apply; wrapped, it runs', () => {
    const flat = { _tag: 'Pipeline', name: 'x', stages: [{ _tag: 'noise', nSamples: 2, stdevs: 0.1 }, ...featureAblation().stages, { _tag: 'sampleMean', type: 'smoothgrad' }] }
    const r = decodePipeline(flat)
    expect(E.isLeft(r) && r.left._tag).toBe('BadPipeline')
    expect(E.isLeft(r) && r.left.message).toMatch(/apply/)
    expect(E.isLeft(r) && r.left.path).toEqual(['stages', '1'])
    expect(E.isRight(decodePipeline(JSON.parse(JSON.stringify(noiseTunnel(featureAblation())))))).toBe(true)
  })

  it('a broken inner pipeline is reported with its path inside apply', () => {
    const inner = { _tag: 'Pipeline', name: 'broken', stages: [{ _tag: 'multiplyByInputs' }] }
    const r = decodePipeline({ _tag: 'Pipeline', name: 'outer', stages: [{ _tag: 'noise', nSamples: 2, stdevs: 0.1 }, { _tag: 'apply', pipeline: inner }, { _tag: 'sampleMean', type: 'vargrad' }] })
    expect(E.isLeft(r) && r.left._tag).toBe('BadPipeline')
    expect(E.isLeft(r) && r.left.message).toMatch(/broken.*pipeline\.stages\.0/)
    const badParams = decodePipeline({ _tag: 'Pipeline', name: 'outer', stages: [{ _tag: 'noise', nSamples: 2, stdevs: 0.1 }, { _tag: 'apply', pipeline: { ...inner, stages: [{ _tag: 'interpolate', nSteps: -1, method: 'gausslegendre' }] } }, { _tag: 'sampleMean', type: 'vargrad' }] })
    expect(E.isLeft(badParams) && badParams.left._tag).toBe('InvalidSpec')
    expect(E.isLeft(badParams) && badParams.left.message).toMatch(/stages\.1\.pipeline\.stages\.0\.nSteps/)
  })
})

describe('NoiseTunnel is a value', () => {
  it('prints, round-trips through JSON, and nests (NoiseTunnel of NoiseTunnel)', async () => {
    const p = noiseTunnel(noiseTunnel(saliency({ abs: false }), { nSamples: 2, stdevs: 0.1 }), { nSamples: 2, stdevs: 0.1, ntType: 'vargrad' })
    expect(show(p)).toMatch(/apply\(NoiseTunnel\(Saliency\)/)
    expect(decodePipeline(JSON.parse(JSON.stringify(p)))).toEqual(E.right(p))
    const r = await attribute(p, mlp, x, { target: 0, seed: 3 })()
    expect(E.isRight(r) && r.right.attributions[0]!.shape).toEqual([2, 12])
    expect(E.isRight(r) && r.right.meta.modelRows).toBe(2 * 2 * 2)
  })

  it('a hand-written composition: SmoothGrad over a layer, spliced without apply', async () => {
    const layer = '/relu1/Relu_output_0'
    const p = pipeline('SmoothLayerGrad', stage.noise({ nSamples: 3, stdevs: 0.1 }), stage.grad({ layer }), stage.sampleMean({ type: 'smoothgrad' }))
    const r = await attribute(p, mlp, x, { target: 0, seed: 1 })()
    expect(E.isRight(r)).toBe(true)
  })
})

describe('tfjs: no tensor outlives the call', () => {
  it('NoiseTunnel(IG), GradientShap and a failed call', async () => {
    const model = fromTfjs(basicMultiLayer)
    const xt = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]])
    const zeros = tf.zeros([2, 3])
    const before = tf.memory().numTensors
    const nt = await attribute(noiseTunnel(new IntegratedGradients(model).pipelineFor({ nSteps: 5, returnConvergenceDelta: true }), { nSamples: 4, stdevs: 0.2, nSamplesBatchSize: 3 }), model, xt, { target: 0, seed: 2 })()
    expect(E.isRight(nt)).toBe(true)
    const gs = await attribute(new GradientShap(model).pipelineFor({ nSamples: 6 }), model, xt, { target: 0, baselines: zeros, seed: 2 })()
    expect(E.isRight(gs)).toBe(true)
    const bad = await attribute(new GradientShap(model).pipelineFor({ nSamples: 6 }), model, xt, { target: 9, baselines: float32([1, 3], [0, 0, 0]) })()
    expect(E.isLeft(bad)).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([xt, zeros])
  })
})
