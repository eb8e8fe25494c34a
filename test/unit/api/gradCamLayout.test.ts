// LayerGradCam on channels-last layers (tfjs Conv2D default), its layout picked from LayerInfo, and
// the map upsampled inside the pipeline (`upsample` option / stage) as Captum's
// LayerAttribution.interpolate would do on the result.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { attribute, float32, interpolateAttribution, LayerGradCam, pipeline, stage, type HostTensor, type Model } from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { REFERENCE_DIR, right } from '../../helpers/reference.js'

const values = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

describe('NHWC layers (tfjs)', () => {
  let lm: tf.Sequential
  let nhwc: Model<tf.Tensor>
  let nchw: Model<tf.Tensor>
  let weights: tf.Tensor[]
  beforeAll(async () => {
    await tf.setBackend('cpu')
    // a Sequential model: gradients w.r.t. a layer need one (or a GraphModel, or a tapped function)
    lm = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 5, 2], filters: 3, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 1 }), biasInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 2 }) }),
        tf.layers.activation({ activation: 'relu', name: 'act' }),
        tf.layers.globalAveragePooling2d({ name: 'gap' }),
        tf.layers.dense({ units: 2, name: 'dense', kernelInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 3 }) }),
      ],
    })
    nhwc = fromTfjs(lm)
    weights = lm.getWeights()
    const [k, b, d, db] = weights as [tf.Tensor4D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D]
    // the same model, with its conv output exposed channels-first (a transpose in and out of the tap)
    nchw = fromTfjs({
      layers: ['conv'],
      fn: (tap, input) => {
        const c = tf.add(tf.conv2d(input as tf.Tensor4D, k, 1, 'same'), b)
        const back = tf.transpose(tap('conv', tf.transpose(c, [0, 3, 1, 2])), [0, 2, 3, 1])
        return tf.add(tf.matMul(tf.mean(tf.relu(back), [1, 2]) as tf.Tensor2D, d), db)
      },
    })
  })
  afterAll(() => {
    lm.dispose()
  })

  const x = float32([2, 6, 5, 2], Array.from({ length: 120 }, (_, i) => Math.sin(0.7 * i) + 0.2))

  it('LayerGradCam on a Conv2D picks NHWC from LayerInfo: the NCHW result transposed, (N, H, W, 1)', async () => {
    expect(nhwc.signature.layerInfo!.find((l) => l.name === 'conv')!.layout).toBe('NHWC')
    const before = tf.memory().numTensors
    const last = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1 })
    const first = await new LayerGradCam(nchw, 'conv').attribute(x, { target: 1 })
    expect(tf.memory().numTensors).toBe(before)
    expect(last.shape).toEqual([2, 6, 5, 1])
    expect(first.shape).toEqual([2, 1, 6, 5])
    // (N, 1, H, W) and (N, H, W, 1) hold the same numbers in the same order
    values(last).forEach((v, i) => expect(v).toBeCloseTo(values(first)[i]!, 5))
    expect(values(last).some((v) => Math.abs(v) > 1e-3)).toBe(true)
    // per-channel maps: (N, H, W, C) against (N, C, H, W)
    const perLast = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1, attrDimSummation: false })
    const perFirst = await new LayerGradCam(nchw, 'conv').attribute(x, { target: 1, attrDimSummation: false })
    expect(perLast.shape).toEqual([2, 6, 5, 3])
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let p = 0; p < 30; p++) {
      expect(perLast.data[(n * 30 + p) * 3 + c]).toBeCloseTo(perFirst.data[(n * 3 + c) * 30 + p] as number, 5)
    }
  })

  it('an explicit layout overrides LayerInfo (NCHW on an NHWC tensor averages the wrong dims)', async () => {
    const wrong = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1, layout: 'NCHW' })
    expect(wrong.shape).toEqual([2, 1, 5, 3])
    const act = await new LayerGradCam(nhwc, 'act').attribute(x, { target: 0, reluAttributions: true })
    expect(act.shape).toEqual([2, 6, 5, 1])
  })

  it('upsample inside the pipeline equals interpolateAttribution on the map (NHWC, bilinear and nearest)', async () => {
    const map = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1 })
    for (const mode of ['bilinear', 'nearest'] as const) {
      const up = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1, upsample: { size: [12, 7], mode } })
      expect(up.shape).toEqual([2, 12, 7, 1])
      expect(values(up)).toEqual(values(interpolateAttribution(map, [12, 7], { mode, layout: 'NHWC' })))
    }
    const same = await new LayerGradCam(nhwc, 'conv').attribute(x, { target: 1, upsample: { size: 'input' } })
    expect(values(same)).toEqual(values(map))
  })

  it('bad channelAxis and bad upsample sizes are typed errors', async () => {
    const r = await attribute(pipeline('cam', stage.grad({ layer: 'conv' }), stage.gradCam({ channelAxis: 4 })), nhwc, x, { target: 0 })()
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'ShapeMismatch', path: ['channelAxis'] })
    const e = await errorOf(new LayerGradCam(nhwc, 'conv').attribute(x, { target: 0, upsample: { size: [3] } }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/upsample: size \[3\] has 1 entry/)
    expect((await errorOf(new LayerGradCam(nhwc, 'conv').attribute(x, { target: 0, upsample: { size: [0, 2] } })))._tag).toBe('InvalidSpec')
    // the resized map no longer lines up with the layer, so nothing after upsample may read the anchor
    expect(() => pipeline('cam', stage.grad({ layer: 'conv' }), stage.gradCam({ channelAxis: -1 }), stage.upsample({ size: [12, 10], layout: 'NHWC' }), stage.multiplyByInputs())).toThrow(/BadPipeline.*'anchor'/)
    expect(() => pipeline('cam', stage.grad({ layer: 'conv' }), stage.gradCam({ channelAxis: -1 }), stage.multiplyByInputs())).not.toThrow()
    const flat = fromTfjs({ layers: ['h'], fn: (tap, v) => tf.sum(tap('h', tf.relu(v!)), 1, true) })
    // a flat layer under a flat input: no spatial dims on either side, so the (N, 1) map passes unchanged
    const flatX = float32([2, 3], [1, 2, 3, 4, 5, 6])
    const flatMap = await new LayerGradCam(flat, 'h').attribute(flatX, { target: 0, upsample: { size: 'input' } })
    expect(flatMap).toEqual(await new LayerGradCam(flat, 'h').attribute(flatX, { target: 0 }))
    // a flat layer under an image input cannot be laid over it
    const flatOfImage = fromTfjs({ layers: ['h'], fn: (tap, v) => tf.sum(tap('h', tf.relu(tf.reshape(v!, [2, -1]))), 1, true) })
    const noSpatial = await errorOf(new LayerGradCam(flatOfImage, 'h').attribute(float32([2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), { target: 0, upsample: { size: 'input' } }))
    expect(noSpatial._tag).toBe('ShapeMismatch')
    const unknown = await errorOf(new LayerGradCam(nhwc, 'cnv').attribute(x, { target: 0 }))
    expect(unknown._tag).toBe('UnknownTensor')
    expect(unknown.message).toMatch(/closest names: "conv"/)
  })
})

describe('upsampled LayerGradCam on the Captum fixture cnn.layergradcam.conv2.t0 (ONNX)', () => {
  // Expected: F.interpolate(<the fixture's expected (2, 1, 16, 16) map>, size=(32, 32), mode) with
  // Debian python3-torch 1.13.1, at a few flat indices, and the sum of all 2048 values.
  const WANT = {
    nearest: { at: [[0, 0.00246456102], [1, 0.00246456102], [33, 0.00246456102], [100, -0.00590231176], [517, -0.00393090816], [1023, -0.00591784948], [1029, 0.00103100808], [1724, -0.00481729861], [2047, -0.00587036926]], sum: -10.08308219909668 },
    bilinear: { at: [[0, 0.00246456102], [1, 0.00146108167], [33, 0.000441268523], [100, -0.00625474565], [517, -0.00512082968], [1023, -0.00591784948], [1029, 0.00110564276], [1724, -0.00484307483], [2047, -0.00587036926]], sum: -10.083081245422363 },
  } as const
  let cnn: Model<HostTensor>
  let input: HostTensor
  beforeAll(async () => {
    cnn = right(await fromOnnx(path.join(REFERENCE_DIR, 'models/cnn.onnx'), { session: { intraOpNumThreads: 1 } }))
    const c = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'cases/cnn/cnn.layergradcam.conv2.t0.json'), 'utf8')) as { inputs: { shape: number[]; data: unknown }[] }
    const x = c.inputs[0]!
    input = float32(x.shape, (x.data as number[]).flat(3) as number[])
  })
  afterAll(async () => {
    await cnn.dispose()
  })

  it.each(['nearest', 'bilinear'] as const)('%s to the input size (32 × 32)', async (mode) => {
    const up = await new LayerGradCam(cnn, '/conv2/Conv_output_0').attribute(input, { target: 0, upsample: { size: 'input', mode } })
    expect(up.shape).toEqual([2, 1, 32, 32])
    // the fixture's tolerance: abs 1.05e-6 + rel 1e-3
    for (const [i, v] of WANT[mode].at) expect(Math.abs(up.data[i] as number - v)).toBeLessThanOrEqual(1.05e-6 + 1e-3 * Math.abs(v))
    expect(values(up).reduce((a, b) => a + b, 0)).toBeCloseTo(WANT[mode].sum, 3)
  })
})
