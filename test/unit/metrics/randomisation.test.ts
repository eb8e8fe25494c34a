// The randomisation sanity checks (issue 12): cascading model-parameter randomisation on ONNX
// initializers and tfjs weights, and the random logit test, each with a negative control, seeds,
// bad inputs and (tfjs) no leaked tensors.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as tfl from '@tensorflow/tfjs-layers'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx, onnxModelVariants, parameterisedLayers, withRandomizedInitializers } from '../../../src/backends/onnx/index.js'
import { fromTfjs, tfjsModelVariants, withRandomizedGraphWeights, withRandomizedWeights } from '../../../src/backends/tfjs/index.js'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { decodeModel } from '../../../src/backends/onnx/graph/proto.js'
import { fromProto, tensorValues } from '../../../src/backends/onnx/graph/ir.js'
import { float32, integratedGradients, modelParameterRandomisation, pipeline, randomLogit, saliency, stage, type HostTensor, type Model, type ModelVariants } from '../../../src/index.js'
import { otherClass } from '../../../src/metrics/randomisation/randomLogit.js'
import { pearson, similarityPerExample, spearman } from '../../../src/metrics/randomisation/similarity.js'

const modelPath = (name: string): string => fileURLToPath(new URL(`../../../../shared/reference/models/${name}.onnx`, import.meta.url))

const right = <A>(e: E.Either<{ readonly _tag: string; readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}
const left = <A>(e: E.Either<{ readonly _tag: string; readonly message: string }, A>): { readonly _tag: string; readonly message: string } => {
  if (E.isRight(e)) throw new Error('expected an error')
  return e.left
}

const mlpX = float32([4, 12], Array.from({ length: 48 }, (_, i) => Math.sin(1.3 * i) + 0.2))
const cnnX = float32([2, 3, 32, 32], Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.cos(0.37 * i)))

/** A "method" that ignores the model: its explanation is the call's attributions (here the input itself). */
const inputItself = pipeline('inputItself', stage.givenAttributions())

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('similarities', () => {
  const v = (xs: number[]): Float64Array => Float64Array.from(xs)
  it('Spearman is 1 for a monotone transform, −1 reversed, and averages tied ranks', () => {
    expect(spearman(v([1, 2, 3, 4]), v([10, 20, 300, 4000]))).toBeCloseTo(1, 12)
    expect(spearman(v([1, 2, 3, 4]), v([4, 3, 2, 1]))).toBeCloseTo(-1, 12)
    // ranks [0, 1.5, 1.5, 3] vs [0, 1, 2, 3]
    expect(spearman(v([1, 2, 2, 5]), v([1, 2, 3, 4]))).toBeCloseTo(pearson(v([0, 1.5, 1.5, 3]), v([0, 1, 2, 3])), 12)
    expect(pearson(v([1, 2, 3]), v([2, 4, 6.5]))).toBeLessThan(1)
    expect(spearman(v([0, 0, 0]), v([0, 0, 0]))).toBe(1)
    expect(spearman(v([0, 0, 0]), v([0, 1, 0]))).toBe(0)
  })

  it('SSIM: 1 for equal images, and scikit-image\'s formula (7×7 windows, sample covariance) otherwise', () => {
    const idx = Array.from({ length: 2 * 9 * 8 }, (_, i) => i)
    const a = float32([1, 2, 9, 8], idx.map((i) => Math.sin(0.7 * i)))
    const b = float32([1, 2, 9, 8], idx.map((i) => 0.5 * Math.cos(0.3 * i + 1)))
    expect(Array.from(right(similarityPerExample([a], [a], 'ssim', false)))).toEqual([1])
    // numpy, written from skimage.metrics.structural_similarity's definition (channel mean, data range max − min of both)
    expect(right(similarityPerExample([a], [b], 'ssim', false))[0]).toBeCloseTo(-0.02343679481834486, 5)
    const e = left(similarityPerExample([mlpX], [mlpX], 'ssim', true))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/H, W ≥ 7/)
  })
})

describe('ONNX randomised copies', () => {
  it('lists Gemm/Conv layers with their initializers in graph order', async () => {
    const mlp = right(await parameterisedLayers(modelPath('mlp')))
    expect(mlp.map((l) => l.initializers)).toEqual([['fc1.weight', 'fc1.bias'], ['fc2.weight', 'fc2.bias'], ['fc3.weight', 'fc3.bias']])
    const cnn = right(await parameterisedLayers(modelPath('cnn')))
    expect(cnn.map((l) => l.opType)).toEqual(['Conv', 'Conv', 'Gemm'])
  })

  it('replaces exactly the chosen initializers, seeded, keeping each tensor\'s scale', async () => {
    const graph = async (bytes: string | Uint8Array) => right(fromProto(right(decodeModel(typeof bytes === 'string' ? new Uint8Array(await import('node:fs/promises').then((f) => f.readFile(bytes))) : bytes))))
    const orig = await graph(modelPath('mlp'))
    const a = right(await withRandomizedInitializers(modelPath('mlp'), { layers: ['logits'], seed: 3 }))
    const b = right(await withRandomizedInitializers(modelPath('mlp'), { layers: ['/fc3/Gemm'], seed: 3 }))
    const c = right(await withRandomizedInitializers(modelPath('mlp'), { layers: ['logits'], seed: 4 }))
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false)
    const ga = await graph(a)
    const values = (g: typeof orig, name: string): number[] => tensorValues(g.initializers.get(name)!)!
    expect(values(ga, 'fc1.weight')).toEqual(values(orig, 'fc1.weight'))
    const before = values(orig, 'fc3.weight')
    const after = values(ga, 'fc3.weight')
    expect(after).not.toEqual(before)
    const std = (xs: number[]): number => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length - (xs.reduce((s, x) => s + x, 0) / xs.length) ** 2)
    expect(std(after) / std(before)).toBeGreaterThan(0.5)
    expect(std(after) / std(before)).toBeLessThan(2)
    // by initializer name too
    const d = await graph(right(await withRandomizedInitializers(modelPath('mlp'), { initializerNames: ['fc2.bias'], seed: 0 })))
    expect(values(d, 'fc2.bias')).not.toEqual(values(orig, 'fc2.bias'))
    expect(values(d, 'fc2.weight')).toEqual(values(orig, 'fc2.weight'))
  })

  it('bad layer or initializer names are typed errors naming the valid ones', async () => {
    const e = left(await withRandomizedInitializers(modelPath('mlp'), { layers: ['fc9'], seed: 0 }))
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toMatch(/"fc9".*\/fc1\/Gemm_output_0/)
    expect(left(await withRandomizedInitializers(modelPath('mlp'), { initializerNames: ['nope'], seed: 0 }))._tag).toBe('UnknownTensor')
    expect(left(await withRandomizedInitializers(modelPath('mlp'), { seed: 0 }))._tag).toBe('MissingInput')
  })
})

describe('modelParameterRandomisation', () => {
  it('ONNX mlp: gradients decorrelate as layers are randomised top-down; the input itself does not', async () => {
    const model = right(await fromOnnx(modelPath('mlp')))
    const variants = right(await onnxModelVariants(modelPath('mlp')))
    const r = right(await modelParameterRandomisation(saliency(), model, variants, mlpX, {}, { target: 0 })())
    expect(r.randomised).toEqual(['logits', '/fc2/Gemm_output_0', '/fc1/Gemm_output_0'])
    expect(r.similarity.shape).toEqual([4, 4])
    expect(Array.from(r.similarity.data.subarray(0, 4))).toEqual([1, 1, 1, 1])
    expect(r.meanSimilarity[3]!).toBeLessThan(r.meanSimilarity[0]!)
    expect(r.meanSimilarity[3]!).toBeLessThan(0.5)
    expect(r.passed).toBe(true)
    // negative control: an explanation that ignores the model stays at 1 and fails
    const control = right(await modelParameterRandomisation(inputItself, model, variants, mlpX, {}, { attributions: mlpX })())
    expect(Array.from(control.similarity.data)).toEqual(Array.from({ length: 16 }, () => 1))
    expect(control.passed).toBe(false)
    // seeded: the same seed gives the same similarities, another seed others
    const again = right(await modelParameterRandomisation(saliency(), model, variants, mlpX, {}, { target: 0 })())
    expect(Array.from(again.similarity.data)).toEqual(Array.from(r.similarity.data))
    const other = right(await modelParameterRandomisation(saliency(), model, variants, mlpX, { seed: 7, similarity: 'pearson' }, { target: 0 })())
    expect(Array.from(other.similarity.data)).not.toEqual(Array.from(r.similarity.data))
    await model.dispose()
  })

  it('ONNX cnn: integrated gradients change as the conv stack is randomised, by rank correlation and by SSIM', async () => {
    const model = right(await fromOnnx(modelPath('cnn')))
    const variants = right(await onnxModelVariants(modelPath('cnn')))
    const r = right(await modelParameterRandomisation(integratedGradients({ nSteps: 4 }), model, variants, cnnX, { layers: ['logits', '/conv1/Conv_output_0'] }, { target: 1 })())
    expect(r.randomised).toEqual(['logits', '/conv1/Conv_output_0'])
    expect(r.meanSimilarity[0]).toBe(1)
    expect(r.meanSimilarity[2]!).toBeLessThan(r.meanSimilarity[0]!)
    const s = right(await modelParameterRandomisation(integratedGradients({ nSteps: 4 }), model, variants, cnnX, { layers: ['logits'], similarity: 'ssim' }, { target: 1 })())
    expect(s.meanSimilarity[0]).toBe(1)
    expect(s.meanSimilarity[1]!).toBeLessThan(1)
    await model.dispose()
  })

  it('bad inputs: unknown layer, no parameterised layers, bad options', async () => {
    const model = right(await fromOnnx(modelPath('mlp')))
    const variants = right(await onnxModelVariants(modelPath('mlp')))
    const e = left(await modelParameterRandomisation(saliency(), model, variants, mlpX, { layers: ['fc9'] }, { target: 0 })())
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toMatch(/"fc9"/)
    const none: ModelVariants<HostTensor> = { layers: [], randomized: () => Promise.resolve(E.right(model)) }
    expect(left(await modelParameterRandomisation(saliency(), model, none, mlpX, {}, { target: 0 })())._tag).toBe('BadModel')
    const bad = left(await modelParameterRandomisation(saliency(), model, variants, mlpX, { similarity: 'ssim' as 'pearson', maxSimilarity: 2 }, { target: 0 })())
    expect(bad._tag).toBe('InvalidSpec')
    await model.dispose()
  })

  it('tfjs LayersModel: copies leave the model unchanged and leak no tensors', async () => {
    const seq = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 16, inputShape: [6], activation: 'tanh', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }), biasInitializer: 'zeros' }),
        tfl.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
        tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }),
      ],
    })
    const names = seq.layers.map((l) => l.name)
    const x = tf.tensor2d(Array.from({ length: 18 }, (_, i) => Math.sin(i)), [3, 6])
    const kernel = Array.from(await seq.layers[2]!.getWeights()[0]!.data())
    const model = fromTfjs(seq)
    const variants = right(await tfjsModelVariants(seq))
    expect(variants.layers).toEqual(names)
    const before = tf.memory().numTensors
    const r = right(await modelParameterRandomisation(saliency(), model, variants, x, {}, { target: 2 })())
    expect(tf.memory().numTensors).toBe(before)
    expect(r.randomised).toEqual([...names].reverse())
    expect(r.meanSimilarity[0]).toBe(1)
    expect(r.meanSimilarity[3]!).toBeLessThan(0.5)
    expect(r.passed).toBe(true)
    expect(Array.from(await seq.layers[2]!.getWeights()[0]!.data())).toEqual(kernel)
    // seeded copies: same seed, same weights
    const a = right(await withRandomizedWeights(seq, { layers: [names[1]!], seed: 5 }))
    const b = right(await withRandomizedWeights(seq, { layers: [names[1]!], seed: 5 }))
    expect(Array.from(await a.layers[1]!.getWeights()[0]!.data())).toEqual(Array.from(await b.layers[1]!.getWeights()[0]!.data()))
    expect(Array.from(await a.layers[0]!.getWeights()[0]!.data())).toEqual(Array.from(await seq.layers[0]!.getWeights()[0]!.data()))
    a.dispose()
    b.dispose()
    expect(left(await withRandomizedWeights(seq, { layers: ['nope'], seed: 0 }))._tag).toBe('UnknownTensor')
    const flat = tfl.sequential({ layers: [tfl.layers.activation({ activation: 'relu', inputShape: [6] })] })
    const flatVariants = right(await tfjsModelVariants(flat))
    expect(flatVariants.layers).toEqual([])
    expect(left(await withRandomizedWeights(flat, { layers: [], seed: 0 }))._tag).toBe('BadModel')
    expect(left(await modelParameterRandomisation(saliency(), fromTfjs(flat), flatVariants, x, {}, { target: 0 })())._tag).toBe('BadModel')
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    seq.dispose()
    flat.dispose()
  })
})

describe('modelParameterRandomisation on a tfjs GraphModel', () => {
  // y = tanh(x·W1 + b1)·W2, written by hand as a TF GraphDef in tfjs's model.json form
  const float = { dtype: { type: 'DT_FLOAT' } }
  const konst = (name: string, dims: number[]) => ({ name, op: 'Const', attr: { ...float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } } })
  const w1 = Array.from({ length: 18 }, (_, i) => Math.sin(0.9 * i + 0.3))
  const b1 = Array.from({ length: 6 }, (_, i) => 0.1 * i - 0.2)
  const w2 = Array.from({ length: 12 }, (_, i) => Math.cos(1.1 * i))
  const makeGraph = () => loadGraphModelSync({
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { ...float, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
        konst('W1', [3, 6]), konst('b1', [6]), konst('W2', [6, 2]),
        { name: 'h', op: 'MatMul', input: ['x', 'W1'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'hb', op: 'BiasAdd', input: ['h', 'b1'], attr: { T: { type: 'DT_FLOAT' } } },
        { name: 'a', op: 'Tanh', input: ['hb'], attr: { T: { type: 'DT_FLOAT' } } },
        { name: 'y', op: 'MatMul', input: ['a', 'W2'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
      ],
      versions: { producer: 1 },
    },
    weightSpecs: [{ name: 'W1', shape: [3, 6], dtype: 'float32' }, { name: 'b1', shape: [6], dtype: 'float32' }, { name: 'W2', shape: [6, 2], dtype: 'float32' }],
    weightData: new Float32Array([...w1, ...b1, ...w2]).buffer,
  })

  it('randomises the weights MatMul nodes read (and their bias), on a copy, without leaks', async () => {
    const g = makeGraph()
    const x = tf.tensor2d(Array.from({ length: 15 }, (_, i) => Math.sin(2 * i)), [5, 3])
    const y0 = g.execute({ x }) as tf.Tensor
    const variants = right(await tfjsModelVariants(g))
    expect(variants.layers).toEqual(['h', 'y'])
    const before = tf.memory().numTensors
    const r = right(await modelParameterRandomisation(saliency(), fromTfjs(g), variants, x, {}, { target: 0 })())
    expect(tf.memory().numTensors).toBe(before)
    expect(r.randomised).toEqual(['y', 'h'])
    expect(r.meanSimilarity[0]).toBe(1)
    expect(r.meanSimilarity[2]!).toBeLessThan(r.meanSimilarity[0]!)
    // the user's model is unchanged
    const y1 = g.execute({ x }) as tf.Tensor
    expect(Array.from(await y1.data())).toEqual(Array.from(await y0.data()))
    // only the chosen node's weights change, seeded
    const c = right(await withRandomizedGraphWeights(g, { layers: ['h'], seed: 2 }))
    const d = right(await withRandomizedGraphWeights(g, { layers: ['h'], seed: 2 }))
    const yc = c.execute({ x }) as tf.Tensor
    const yd = d.execute({ x }) as tf.Tensor
    expect(Array.from(await yc.data())).toEqual(Array.from(await yd.data()))
    expect(Array.from(await yc.data())).not.toEqual(Array.from(await y0.data()))
    expect(left(await withRandomizedGraphWeights(g, { layers: ['a'], seed: 0 }))._tag).toBe('UnknownTensor')
    ;[x, y0, y1, yc, yd].forEach((t) => t.dispose())
    c.dispose()
    d.dispose()
    g.dispose()
  })
})

describe('randomLogit', () => {
  it('is 1 on a model whose logits are identical (negative control) and below 1 on a real one', async () => {
    const twin: Model<tf.Tensor> = fromTfjs((x: tf.Tensor) => tf.tidy(() => {
      const y = tf.matMul(tf.tanh(x as tf.Tensor2D), tf.tensor2d([0.5, -2, 1.5, 0.25], [4, 1]))
      return tf.concat([y, y], 1)
    }))
    const x = tf.tensor2d([[1, 2, -1, 0.5], [-0.5, 1, 3, 2]])
    const before = tf.memory().numTensors
    const r = right(await randomLogit(saliency(), twin, x)())
    expect(tf.memory().numTensors).toBe(before)
    expect(Array.from(r.scores.data)).toEqual([1, 1])
    expect(r.other).toEqual([1, 1])
    x.dispose()

    const mlp = right(await fromOnnx(modelPath('mlp')))
    const m = right(await randomLogit(saliency(), mlp, mlpX, { seed: 3 })())
    expect(m.scores.shape).toEqual([4])
    m.predicted.forEach((p, i) => expect(m.other[i]).not.toBe(p))
    expect(Math.max(...m.scores.data)).toBeLessThan(1)
    const again = right(await randomLogit(saliency(), mlp, mlpX, { seed: 3 })())
    expect(Array.from(again.scores.data)).toEqual(Array.from(m.scores.data))
    expect(again.other).toEqual(m.other)
    await mlp.dispose()
  })

  it('draws the other class uniformly and never the predicted one', () => {
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 3000; i++) counts[otherClass(11, i, 2, 4)]!++
    expect(counts[2]).toBe(0)
    for (const k of [0, 1, 3]) expect(Math.abs(counts[k]! - 1000)).toBeLessThan(120)
  })

  it('bad inputs: a given target, a single-output model, bad options', async () => {
    const one = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(x, 1, true)))
    const x = tf.tensor2d([[1, 2], [3, 4]])
    expect(left(await randomLogit(saliency(), one, x, {}, { target: 0 } as object)())._tag).toBe('BadTarget')
    const e = left(await randomLogit(saliency(), one, x)())
    expect(e._tag).toBe('BadTarget')
    expect(e.message).toMatch(/\[2, 1\]/)
    expect(left(await randomLogit(saliency(), one, x, { seed: 0.5 })())._tag).toBe('InvalidSpec')
    x.dispose()
  })
})
