/**
 * The gradient formulations clarus emits for ONNX Runtime's WebGPU provider (`device: 'webgpu'`; see
 * src/backends/onnx/gradients/maxPoolRoute.ts, and `elementCount` and `zerosLike` in context.ts).
 * They are standard ONNX, so they are checked here on the CPU provider, with no GPU: central finite differences (as onnx.rules.test.ts does for every
 * rule), and, where finite differences are blind (ties in a MaxPool window), equality with the CPU
 * form, which sends a window's gradient to the element ONNX Runtime's Indices name.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { buildBackward } from '../../src/backends/onnx/gradients/builder.js'
import type { GradRule } from '../../src/backends/onnx/gradients/rule.js'
import { ALL_GRAD_RULES } from '../../src/backends/onnx/gradients/rules/index.js'
import { attr, ElemType, toProto, type Attribute, type Graph } from '../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../src/backends/onnx/graph/proto.js'
import { createOnnxRuntime } from '../../src/backends/onnx/session.js'
import type { OnnxDevice } from '../../src/backends/onnx/device.js'
import { GRAD_RULE_CASES, type GradRuleCase } from './gradRuleCases.js'
import { checkRow, prng } from './ruleCheck.js'

/** Op types whose rule has a device-specific form (MaxPool's routing; the means' element counts; Slice's zeros). */
const DEVICE_SPECIFIC = ['MaxPool', 'ReduceMean', 'GlobalAveragePool', 'Slice']

const pool = (label: string, shape: readonly (number | 'B')[], attrs: readonly Attribute[], opset = 14): GradRuleCase => ({
  op: 'MaxPool', label, opset, inputs: [{ shape, kind: 'distinct' }], attrs,
})

const EXTRA: readonly GradRuleCase[] = [
  pool('ceil_mode, asymmetric pads', ['B', 2, 8, 7], [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 3]), attr.ints('pads', [1, 0, 1, 1]), attr.int('ceil_mode', 1)]),
  pool('dilations', ['B', 2, 9, 8], [attr.ints('kernel_shape', [2, 2]), attr.ints('dilations', [2, 3]), attr.ints('strides', [1, 2])]),
  pool('SAME_UPPER stride 2', ['B', 2, 7, 6], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.string('auto_pad', 'SAME_UPPER')]),
  pool('1-D', ['B', 3, 11], [attr.ints('kernel_shape', [3]), attr.ints('strides', [2]), attr.ints('pads', [1, 1])]),
  pool('trailing rows in no window', ['B', 1, 7, 7], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
  // a symbolic spatial dim: the divisor is counted at run time
  { op: 'GlobalAveragePool', label: 'dynamic spatial dim', inputs: [{ shape: [2, 3, 'B', 5] }] },
]

const ROWS = [...GRAD_RULE_CASES.filter((r) => DEVICE_SPECIFIC.includes(r.op) && r.noGradient === undefined), ...EXTRA]

describe('WebGPU gradient forms vs central finite differences (run on the CPU provider)', () => {
  for (const row of ROWS) {
    it(`${row.op}${row.label ? ` (${row.label})` : ''}`, async () => {
      for (const [seed, batch] of [[3, 1], [17, 2]] as const) {
        const r = await checkRow(row, seed, batch, ALL_GRAD_RULES, 'webgpu')
        expect(r.detail, `seed ${seed}: ${r.detail ?? ''}`).toBeUndefined()
        expect(r.ok, `seed ${seed} batch ${batch}: ad ${r.ad} fd ${r.fd} bound ${r.bound}`).toBe(true)
      }
    })
  }
})

/** A one-MaxPool graph over input x of the given (possibly symbolic) shape. */
const poolGraph = (shape: readonly (number | string)[], attrs: readonly Attribute[]): Graph => ({
  name: 'pool',
  nodes: [{ name: 'pool', opType: 'MaxPool', domain: '', inputs: ['x'], outputs: ['y'], attributes: [...attrs] }],
  inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape }],
  outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: null }],
  initializers: new Map(),
  valueInfo: [],
  opsetImports: [{ domain: '', version: 17 }],
  irVersion: 8,
  modelExtras: {},
})

/** d⟨seed, y⟩/dx of the graph's backward form for `device`, run on the CPU provider. */
const gradOf = async (g: Graph, device: OnnxDevice, x: Float32Array, xShape: readonly number[], rules: readonly GradRule[] = ALL_GRAD_RULES): Promise<Float32Array> => {
  const bw = buildBackward(g, { seeds: ['y'], wrt: ['x'], device }, rules)
  if (E.isLeft(bw)) throw new Error(bw.left.message)
  const fwd = await createOnnxRuntime(encodeModel(toProto(g)))
  const rt = await createOnnxRuntime(encodeModel(toProto(bw.right.graph)))
  if (E.isLeft(fwd) || E.isLeft(rt)) throw new Error('cannot load')
  try {
    const feeds = { x: { dtype: 'float32' as const, shape: [...xShape], data: x } }
    const y = await fwd.right.forward(feeds)
    if (E.isLeft(y)) throw new Error(y.left.message)
    const yt = y.right['y']!
    // distinct seed values, so a gradient sent to the wrong element shows
    const seed = { dtype: 'float32' as const, shape: yt.shape, data: Float32Array.from(yt.data as Float32Array, (_, i) => 1 + i) }
    const out = await rt.right.forward({ ...feeds, [bw.right.seedInputs['y']!]: seed })
    if (E.isLeft(out)) throw new Error(out.left.message)
    return out.right[bw.right.gradOutputs['x']!]!.data as Float32Array
  } finally {
    await fwd.right.dispose()
    await rt.right.dispose()
  }
}

/** Values on a coarse grid (many ties in each window), or all zeros (every window one tie). */
const tied = (n: number, seed: number, zeros: boolean): Float32Array => {
  const r = prng(seed)
  return Float32Array.from({ length: n }, () => (zeros ? 0 : Math.floor(r() * 3) * 0.5))
}

const TIE_GEOMETRIES: readonly { readonly label: string; readonly attrs: readonly Attribute[] }[] = [
  { label: 'non-overlapping 2x2', attrs: [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])] },
  { label: 'overlapping 3x3 stride 2 pads 1 (resnet18)', attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])] },
  { label: 'ceil_mode, dilations', attrs: [attr.ints('kernel_shape', [2, 3]), attr.ints('strides', [2, 1]), attr.ints('dilations', [1, 2]), attr.int('ceil_mode', 1)] },
]

/** Sends every window's gradient to each of its maximal elements: wrong on ties, right without them. */
const toEveryMax: GradRule = {
  opType: 'MaxPool',
  domain: '',
  build: (g) => {
    const x = g.input(0)
    const kernel = g.attrInts('kernel_shape') ?? g.fail('kernel_shape missing')
    const strides = g.attrInts('strides') ?? kernel.map(() => 1)
    const up = g.node('Resize', [g.output(0), '', g.constant([1, 1, ...strides])], [attr.string('mode', 'nearest')])
    const upDy = g.node('Resize', [g.gradOfOutput(0), '', g.constant([1, 1, ...strides])], [attr.string('mode', 'nearest')])
    const mask = g.node('Cast', [g.node('Equal', [x, up])], [attr.int('to', ElemType.FLOAT)])
    return { 0: g.node('Mul', [mask, upDy]) }
  },
}

describe('WebGPU MaxPool form on ties: the same element as the CPU form (first maximum in window order)', () => {
  for (const geo of TIE_GEOMETRIES) {
    for (const zeros of [false, true]) {
      it(`${geo.label}${zeros ? ', all zeros' : ', grid values'}`, async () => {
        const shape = [2, 3, 9, 8]
        const x = tied(2 * 3 * 9 * 8, 5, zeros)
        const g = poolGraph(['B', 3, 9, 8], geo.attrs)
        const cpu = await gradOf(g, 'cpu', x, shape)
        const gpu = await gradOf(g, 'webgpu', x, shape)
        expect(Array.from(gpu)).toEqual(Array.from(cpu))
      })
    }
  }

  it('dynamic spatial dims (the window counts are read at run time)', async () => {
    const geo = TIE_GEOMETRIES[1]!
    const g = poolGraph(['B', 3, 'H', 'W'], geo.attrs)
    for (const [h, w] of [[9, 8], [6, 11]] as const) {
      const x = tied(2 * 3 * h * w, 9, false)
      const cpu = await gradOf(g, 'cpu', x, [2, 3, h, w])
      const gpu = await gradOf(g, 'webgpu', x, [2, 3, h, w])
      expect(Array.from(gpu)).toEqual(Array.from(cpu))
    }
  })

  it('negative control: a form that feeds every tied maximum differs on ties', async () => {
    const shape = [2, 3, 8, 8]
    const g = poolGraph(['B', 3, 8, 8], TIE_GEOMETRIES[0]!.attrs)
    const rules = ALL_GRAD_RULES.map((r) => (r.opType === 'MaxPool' ? toEveryMax : r))
    const x = tied(2 * 3 * 8 * 8, 5, false)
    expect(Array.from(await gradOf(g, 'cpu', x, shape, rules))).not.toEqual(Array.from(await gradOf(g, 'cpu', x, shape)))
    // without ties it agrees: the control is wrong only where the property under test matters
    const distinct = Float32Array.from({ length: x.length }, (_, i) => Math.sin(i * 1.7))
    expect(Array.from(await gradOf(g, 'cpu', distinct, shape, rules))).toEqual(Array.from(await gradOf(g, 'webgpu', distinct, shape)))
  })
})
