import * as tf from '@tensorflow/tfjs-core'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { beforeAll, describe, expect, it } from 'vitest'
import { Saliency, type HostTensor } from '../../../src/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { splitLinearFused, type TopologyNode } from '../../../src/backends/tfjs/linearFused.js'
import { ASSETS, CLASSES, FACES, HAPPY, LOGITS, loadFace, loadGraph, toInput, useCpu } from '../../../examples/emotion.js'

beforeAll(useCpu)

const logitsOf = (g: { execute: (feeds: tf.NamedTensorMap, out: string) => tf.Tensor | tf.Tensor[] }, x: tf.Tensor): Float32Array =>
  tf.tidy(() => (g.execute({ input_1: x }, LOGITS) as tf.Tensor).dataSync() as Float32Array)

describe('the committed emotion model (examples/assets/emotion)', () => {
  it('reads the laughing face from its JPEG as happy, the clown as not happy', () => {
    const { x } = toInput([loadFace(FACES[0].file), loadFace(FACES[2].file)])
    const g = loadGraph()
    const xt = tf.tensor(x.data as Float32Array, [...x.shape])
    const p = tf.tidy(() => (g.predict(xt) as tf.Tensor).dataSync() as Float32Array)
    const argmax = (row: number): string => CLASSES[Array.from(p.slice(row * 7, row * 7 + 7)).reduce((b, v, i, a) => (v > a[b]! ? i : b), 0)]!
    expect(argmax(0)).toBe('happy')
    expect(p[HAPPY]).toBeGreaterThan(0.9)
    expect(argmax(1)).not.toBe('happy')

    xt.dispose()
    g.dispose()
  })

  it('splits its five bias-only fused convolutions for gradients; the split graph computes the same logits', () => {
    const json = JSON.parse(readFileSync(path.join(ASSETS, 'emotion.json'), 'utf8')) as { modelTopology: { node: TopologyNode[] }; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }
    const split = splitLinearFused(json.modelTopology.node)
    expect(split.length - json.modelTopology.node.length).toBe(5)
    expect(split.filter((n) => n.op === '_FusedConv2D').length).toBe(4) // the ones with a ReLU stay fused
    const w = readFileSync(path.join(ASSETS, json.weightsManifest[0]!.paths[0]!))
    const artifacts = { format: 'graph-model', weightSpecs: json.weightsManifest[0]!.weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }
    const original = loadGraphModelSync({ ...artifacts, modelTopology: json.modelTopology })
    const twin = loadGraphModelSync({ ...artifacts, modelTopology: { ...json.modelTopology, node: split } })
    const { x } = toInput([loadFace(FACES[0].file), loadFace(FACES[2].file)])
    const xt = tf.tensor(x.data as Float32Array, [...x.shape])
    const a = logitsOf(twin, xt)
    const b = logitsOf(original, xt)
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-4)
    expect(a[HAPPY]! - b[HAPPY + 7]!).toBeGreaterThan(1) // negative control: the faces' logits differ
    tf.dispose([xt])
    original.dispose()
    twin.dispose()
  })

  it('gives a saliency map of the happy logit with the input shape, computes no filter gradient, and leaks no tensors', async () => {
    const g = loadGraph()
    const atStart = tf.memory().numTensors
    const model = fromTfjs(g, { outputName: LOGITS })
    const { x } = toInput([loadFace(FACES[0].file)])
    const saliency = new Saliency(model)
    const first = await saliency.attribute(x, { target: HAPPY })   // builds the split twin (its own weights)
    const before = tf.memory().numTensors
    let s: HostTensor | undefined
    const profile = await tf.profile(async () => {
      s = await saliency.attribute(x, { target: HAPPY })
    })
    // the bias-only fused convolutions ran split: no weight gradient, which was ~95 % of the backward pass
    expect(profile.kernelNames).toContain('Conv2DBackpropInput')
    expect(profile.kernelNames).not.toContain('Conv2DBackpropFilter')
    if (s === undefined) throw new Error('no saliency')
    expect(s.shape).toEqual([1, 64, 64, 1])
    expect(Array.from(s.data as Float32Array)).toEqual(Array.from(first.data as Float32Array))   // the twin outlives the first call's scopes
    const v = Array.from(s.data as Float32Array)
    expect(v.every(Number.isFinite)).toBe(true)
    expect(Math.max(...v)).toBeGreaterThan(0)
    expect(tf.memory().numTensors).toBe(before)
    await model.dispose()                                            // releases the twin's weights
    expect(tf.memory().numTensors).toBe(atStart)
    g.dispose()
  })
})
