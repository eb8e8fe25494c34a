// Bad models and bad requests on the ONNX backend, through the public API: each is a typed error
// that names what is wrong.
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { ElemType, toProto, type Graph } from '../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../src/backends/onnx/graph/proto.js'
import { ClarusError, LayerGradientXActivation, LayerIntegratedGradients, Saliency, float32, int64, type ErrorTag, type HostTensor, type Model } from '../../../src/index.js'

const REF = fileURLToPath(new URL('../../../../shared/reference/models/', import.meta.url))

const load = async (src: string | Uint8Array): Promise<Model<HostTensor>> => {
  const m = await fromOnnx(src)
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}
const failsWith = async (p: Promise<unknown>, tag: ErrorTag, message: RegExp): Promise<ClarusError> => {
  const e = await p.then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(ClarusError)
  expect((e as ClarusError).error._tag).toBe(tag)
  expect((e as ClarusError).error.message).toMatch(message)
  return e as ClarusError
}

const f = (name: string, shape: (number | string)[] = ['batch', 4]) => ({ name, elemType: ElemType.FLOAT, shape })
const tiny = (nodes: Graph['nodes'], outputs: string[], extraOpsets: Graph['opsetImports'] = []): Uint8Array =>
  encodeModel(toProto({
    name: 'tiny',
    nodes,
    inputs: [f('x')],
    outputs: outputs.map((o) => f(o)),
    initializers: new Map(),
    valueInfo: [],
    opsetImports: [{ domain: '', version: 17 }, ...extraOpsets],
    irVersion: 8,
    modelExtras: {},
  }))

describe('ONNX models: typed errors', () => {
  it('every unsupported node is listed at once, before anything runs', async () => {
    const bytes = tiny([
      { name: 'hardmax1', opType: 'Hardmax', domain: '', inputs: ['x'], outputs: ['a'], attributes: [] },
      { name: 'hardmax2', opType: 'Hardmax', domain: '', inputs: ['a'], outputs: ['y'], attributes: [] },
    ], ['y'])
    const model = await load(bytes)
    const e = await failsWith(new Saliency(model).attribute(float32([1, 4], [1, 2, 3, 4]), { target: 0 }), 'UnsupportedOps', /hardmax1 \(Hardmax.*hardmax2 \(Hardmax/)
    expect(e.error._tag === 'UnsupportedOps' && e.error.nodes.map((n) => n.name)).toEqual(['hardmax1', 'hardmax2'])
    await model.dispose()
  })

  it('a layer that does not reach the explained output', async () => {
    const bytes = tiny([
      { name: 'r', opType: 'Relu', domain: '', inputs: ['x'], outputs: ['side'] },
      { name: 'n', opType: 'Neg', domain: '', inputs: ['x'], outputs: ['y'] },
    ].map((n) => ({ ...n, attributes: [] })), ['y', 'side'])
    const model = await load(bytes)
    await failsWith(new LayerGradientXActivation(model, 'side').attribute(float32([1, 4], [1, 2, 3, 4]), { target: 0 }), 'NotReachable', /side/)
    await model.dispose()
  })

  it('integer token ids asked for an input gradient: use the embedding layer instead', async () => {
    const model = await load(`${REF}textcls.onnx`)
    const ids = int64([1, 16], Array.from({ length: 16 }, (_, i) => i + 1))
    await failsWith(new Saliency(model).attribute(ids, { target: 0 }), 'DTypeMismatch', /LayerIntegratedGradients on the embedding output/)
    const attr = await new LayerIntegratedGradients(model, '/embedding/Gather_output_0').attribute(ids, { target: 0, nSteps: 4, baselines: 0 })
    expect(attr.shape).toEqual([1, 16, 32])
    await model.dispose()
  })

  it('an unknown layer name, and too many inputs', async () => {
    const model = await load(`${REF}mlp.onnx`)
    const x = float32([1, 12], new Array(12).fill(0.5))
    await failsWith(new LayerIntegratedGradients(model, 'no/such/tensor').attribute(x, { target: 0, nSteps: 4 }), 'UnknownTensor', /no\/such\/tensor/)
    await failsWith(new Saliency(model).attribute([x, x], { target: 0 }), 'ShapeMismatch', /2 input tensors but the model takes 1/)
    await model.dispose()
  })

  it('an input of the wrong per-example shape is reported as given, before the steps expand it', async () => {
    const model = await load(`${REF}mlp.onnx`)
    const e = await failsWith(new LayerIntegratedGradients(model, model.signature.layers[0]!).attribute(float32([2, 11], new Array(22).fill(0.5)), { target: 0, nSteps: 4 }),
      'ShapeMismatch', /declared \[\?, 12\], so each example must have shape \[12\], but input 0 has shape \[2, 11\]/)
    expect(e.error.path).toEqual(['inputs', '0'])
    await model.dispose()
  })

  it('a model that declares no outputs', async () => {
    const r = await fromOnnx(tiny([], []))
    expect(E.isLeft(r) && r.left.message).toMatch(/declares no outputs/)
  })

  it('a file that is not an ONNX model', async () => {
    const r = await fromOnnx(new Uint8Array([1, 2, 3, 4, 5]))
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
    const missing = await fromOnnx('/nonexistent/model.onnx')
    expect(E.isLeft(missing) && missing.left.message).toMatch(/cannot read/)
  })
})
