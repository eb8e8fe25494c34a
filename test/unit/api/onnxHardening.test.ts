// Valid ONNX models that the gradient builder used to get silently wrong or fail on with internal
// names (issue 8, items 3, 4, 5, 13, 14), through the public API. Each model is built in code.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { attr, ElemType, toProto, type Attribute, type Graph, type Node } from '../../../src/backends/onnx/graph/ir.js'
import { encodeModel, type GraphProto, type TensorProto, type ValueInfoProto } from '../../../src/backends/onnx/graph/proto.js'
import { ClarusError, FeatureAblation, IntegratedGradients, Saliency, float32, type ErrorTag, type HostTensor, type Model } from '../../../src/index.js'

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = []): Node =>
  ({ name, opType, domain: '', inputs, outputs, attributes })
const scalar = (name: string, v: number): TensorProto => ({ name, dims: [], dataType: ElemType.FLOAT, floatData: [v] })

interface Spec {
  readonly nodes: readonly Node[]
  readonly x?: readonly (number | string)[]
  readonly outputs?: readonly { readonly name: string; readonly elemType?: number }[]
  readonly initializers?: readonly TensorProto[]
  readonly opset?: number
}

const model = async (s: Spec): Promise<Model<HostTensor>> => {
  const g: Graph = {
    name: 'hardening',
    nodes: s.nodes,
    inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: s.x ?? ['batch', 4] }],
    outputs: (s.outputs ?? [{ name: 'y' }]).map((o) => ({ name: o.name, elemType: o.elemType ?? ElemType.FLOAT, shape: null })),
    initializers: new Map((s.initializers ?? []).map((t) => [t.name ?? '', t])),
    valueInfo: [],
    opsetImports: [{ domain: '', version: s.opset ?? 17 }],
    irVersion: 8,
    modelExtras: {},
  }
  const m = await fromOnnx(encodeModel(toProto(g)))
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}

const failure = async (p: Promise<unknown>): Promise<ClarusError> => {
  const e = await p.then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(ClarusError)
  return e as ClarusError
}

const failsWith = async (p: Promise<unknown>, tag: ErrorTag, message: RegExp): Promise<ClarusError> => {
  const e = await failure(p)
  expect(e.error._tag).toBe(tag)
  expect(e.error.message).toMatch(message)
  expect(e.error.message).not.toMatch(/clarus_grad\//)
  return e
}

const unsupportedNames = (e: ClarusError): readonly string[] => (e.error._tag === 'UnsupportedOps' ? e.error.nodes.map((n) => n.name) : [])

const values = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

const expectClose = (got: readonly number[], want: readonly number[], tol = 1e-4): void => {
  expect(got.length).toBe(want.length)
  got.forEach((g, i) => expect(Math.abs(g - (want[i] as number)), `element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i] as number))))
}

// ---- 3. control flow: subgraphs that read outer-scope tensors ----------------------------------------

const vi = (name: string): ValueInfoProto => ({ name, type: { tensorType: { elemType: ElemType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }] } } } })
const branch = (name: string, nodes: GraphProto['node'], out: string): Attribute =>
  ({ name, type: 'raw', value: { name, type: 5, g: { name, node: nodes, output: [vi(out)] } } })
const TRUE: TensorProto = { name: 'cond', dims: [], dataType: ElemType.BOOL, int32Data: [1] }

/** y = x + If(cond, x·x, zero − x): both branches read x (and the else branch the initializer 'zero') from the outer graph. */
const ifModel = (elseReadsInitializer: boolean): Promise<Model<HostTensor>> => model({
  nodes: [
    node('if', 'If', ['cond'], ['b'], [
      branch('then_branch', [{ opType: 'Mul', input: ['x', 'x'], output: ['t'] }], 't'),
      branch('else_branch', elseReadsInitializer ? [{ opType: 'Sub', input: ['zero', 'x'], output: ['e'] }] : [{ opType: 'Neg', input: ['x'], output: ['e'] }], 'e'),
    ]),
    node('add', 'Add', ['x', 'b'], ['y']),
  ],
  initializers: elseReadsInitializer ? [TRUE, scalar('zero', 0)] : [TRUE],
})

describe('control flow: outer-scope captures of If branches', () => {
  const x = float32([1, 4], [0.5, -1, 2, 3])

  it('an If on the gradient path is an UnsupportedOps error naming it (not the gradient of the explicit edges only)', async () => {
    const m = await ifModel(false)
    const e = await failsWith(new Saliency(m).attribute(x, { target: 2 }), 'UnsupportedOps', /if \(If/)
    expect(unsupportedNames(e)).toEqual(['if'])
    const ig = await failsWith(new IntegratedGradients(m).attribute(x, { target: 2, nSteps: 4 }), 'UnsupportedOps', /if \(If/)
    expect(unsupportedNames(ig)).toEqual(['if'])
    await m.dispose()
  })

  it('forward-only methods run a model whose initializer only a subgraph reads (pruning keeps it)', async () => {
    for (const readsInit of [false, true]) {
      const m = await ifModel(readsInit)
      // cond is true: y = x + x², and y[2] depends on x[2] only; ablating x[2] to 0 drops y[2] to 0
      const a = await new FeatureAblation(m).attribute(x, { target: 2 })
      expectClose(values(a), [0, 0, 2 + 4, 0])
      await failsWith(new Saliency(m).attribute(x, { target: 2 }), 'UnsupportedOps', /if \(If/)
      await m.dispose()
    }
  })
})

// ---- 5. edges a rule does not differentiate ------------------------------------------------------------

describe('edges a rule does not differentiate are reported, never dropped', () => {
  const x = float32([1, 4], [0.5, 1.25, 2, 0.75])

  it('Pow differentiates its exponent: y = c^x (exponent alone on the path)', async () => {
    const c = [2, 0.5, 3, 1.5]
    const m = await model({ nodes: [node('pow', 'Pow', ['c', 'x'], ['y'])], initializers: [{ name: 'c', dims: [4], dataType: ElemType.FLOAT, floatData: c }] })
    for (const t of [0, 1, 2, 3]) {
      const g = await new Saliency(m).attribute(x, { target: t, abs: false })
      const want = [0, 0, 0, 0]
      want[t] = Math.pow(c[t] as number, x.data[t] as number) * Math.log(c[t] as number)
      expectClose(values(g), want)
    }
    await m.dispose()
  })

  it('Pow with the same tensor as base and exponent: d(x^x)/dx = x^x·(ln x + 1)', async () => {
    const m = await model({ nodes: [node('pow', 'Pow', ['x', 'x'], ['y'])] })
    const g = await new Saliency(m).attribute(x, { target: 1, abs: false })
    const v = x.data[1] as number
    expectClose(values(g), [0, Math.pow(v, v) * (Math.log(v) + 1), 0, 0])
    await m.dispose()
  })

  it('Clip with a bound computed from x is an UnsupportedOps error naming the node; constant bounds still work', async () => {
    const lo = await model({
      nodes: [node('mean', 'ReduceMean', ['x'], ['lo'], [attr.int('keepdims', 0)]), node('clip', 'Clip', ['x', 'lo', 'hi'], ['y'])],
      initializers: [scalar('hi', 1.5)],
    })
    const e = await failsWith(new Saliency(lo).attribute(x, { target: 0 }), 'UnsupportedOps', /clip \(Clip.*input 1 \('lo'\)/)
    expect(unsupportedNames(e)).toEqual(['clip'])
    await lo.dispose()
    const fixed = await model({ nodes: [node('clip', 'Clip', ['x', 'lo', 'hi'], ['y'])], initializers: [scalar('lo', 0.6), scalar('hi', 1.5)] })
    expectClose(values(await new Saliency(fixed).attribute(x, { target: 1, abs: false })), [0, 1, 0, 0])
    expectClose(values(await new Saliency(fixed).attribute(x, { target: 0, abs: false })), [0, 0, 0, 0])
    await fixed.dispose()
  })

  it("LayerNormalization's InvStdDev used downstream is an UnsupportedOps error naming the node", async () => {
    const ones: TensorProto = { name: 'scale', dims: [4], dataType: ElemType.FLOAT, floatData: [1, 1, 1, 1] }
    const m = await model({
      nodes: [node('ln', 'LayerNormalization', ['x', 'scale'], ['n', '', 'r']), node('mul', 'Mul', ['n', 'r'], ['y'])],
      initializers: [ones],
    })
    const e = await failsWith(new Saliency(m).attribute(x, { target: 0 }), 'UnsupportedOps', /ln \(LayerNormalization.*output 2 \('r'\)/)
    expect(unsupportedNames(e)).toEqual(['ln'])
    await m.dispose()
    // control: the same statistics as a side output that the explained output does not use
    const side = await model({
      nodes: [node('ln', 'LayerNormalization', ['x', 'scale'], ['y', '', 'r'])],
      outputs: [{ name: 'y' }, { name: 'r' }],
      initializers: [ones],
    })
    const g = await new Saliency(side).attribute(x, { target: 0, abs: false })
    expect(values(g).some((v) => v !== 0)).toBe(true)
    await side.dispose()
  })

  it('BatchNormalization whose running mean depends on x is reported', async () => {
    const c = (name: string, v: number[]): TensorProto => ({ name, dims: [v.length], dataType: ElemType.FLOAT, floatData: v })
    const m = await model({
      x: ['batch', 2, 2],
      nodes: [
        node('s', 'ReduceMean', ['x'], ['mean'], [attr.ints('axes', [0, 2]), attr.int('keepdims', 0)]),
        node('bn', 'BatchNormalization', ['x', 'scale', 'b', 'mean', 'var'], ['n']),
        node('fl', 'Flatten', ['n'], ['y']),
      ],
      initializers: [c('scale', [1, 1]), c('b', [0, 0]), c('var', [1, 1])],
    })
    const e = await failsWith(new Saliency(m).attribute(float32([1, 2, 2], [1, 2, 3, 4]), { target: 0 }), 'UnsupportedOps', /bn \(BatchNormalization.*input 3 \('mean'\)/)
    expect(unsupportedNames(e)).toEqual(['bn'])
    await m.dispose()
  })
})

// ---- 4. AveragePool edge windows ---------------------------------------------------------------------

/** ORT's pooled size of one spatial axis (a ceil_mode window that would start in the end padding is dropped). */
const pooled = (n: number, k: number, s: number, pb: number, pe: number, ceil: boolean): number => {
  const span = n + pb + pe - k
  const o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1
  return ceil && (o - 1) * s >= n + pb ? o - 1 : o
}

describe('AveragePool gradients match ORT for every pads / ceil_mode / count_include_pad', () => {
  // y = Σ w ⊙ AveragePool(x): linear with f(0) = 0, so IG's completeness gap is zero exactly when the gradient is right
  const [H, W] = [8, 7]
  const x = float32([1, 1, H, W], Array.from({ length: H * W }, (_, i) => Math.cos(0.7 * i) + 0.3))
  for (const pads of [[0, 0, 0, 0], [1, 0, 1, 1]]) {
    for (const ceil of [0, 1]) {
      for (const cip of [0, 1]) {
        it(`pads ${pads.join(',')} ceil_mode=${ceil} count_include_pad=${cip}: IG completeness holds`, async () => {
          const oh = pooled(H, 3, 2, pads[0] as number, pads[2] as number, ceil === 1)
          const ow = pooled(W, 2, 3, pads[1] as number, pads[3] as number, ceil === 1)
          const w: TensorProto = { name: 'w', dims: [1, 1, oh, ow], dataType: ElemType.FLOAT, floatData: Array.from({ length: oh * ow }, (_, i) => Math.sin(i + 1) + 1.5) }
          const m = await model({
            x: ['batch', 1, H, W],
            nodes: [
              node('pool', 'AveragePool', ['x'], ['p'], [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 3]), attr.ints('pads', pads), attr.int('ceil_mode', ceil), attr.int('count_include_pad', cip)]),
              node('mul', 'Mul', ['p', 'w'], ['q']),
              node('sum', 'ReduceSum', ['q', 'axes'], ['y'], [attr.int('keepdims', 0)]),
            ],
            initializers: [w, { name: 'axes', dims: [3], dataType: ElemType.INT64, int64Data: [1, 2, 3] }],
          })
          const [, delta] = await new IntegratedGradients(m).attribute(x, { baselines: 0, nSteps: 4, returnConvergenceDelta: true })
          expect(Math.abs(delta.data[0] as number)).toBeLessThan(1e-4)
          await m.dispose()
        })
      }
    }
  }
})

// ---- 13/14. valid graphs that failed with internal names; integer outputs ------------------------------

describe('valid graphs whose gradients used to fail with internal names', () => {
  const x = float32([1, 4], [0.5, -1, 2, 3])

  it('ReduceSum with noop_with_empty_axes=1 and no axes is the identity', async () => {
    const m = await model({ nodes: [node('r', 'ReduceSum', ['x'], ['y'], [attr.int('noop_with_empty_axes', 1)])], opset: 18 })
    expectClose(values(await new Saliency(m).attribute(x, { target: 1, abs: false })), [0, 1, 0, 0])
    await m.dispose()
  })

  it('Flatten with axis=0', async () => {
    const m = await model({ nodes: [node('sq', 'Mul', ['x', 'x'], ['s']), node('fl', 'Flatten', ['s'], ['y'], [attr.int('axis', 0)])] })
    expectClose(values(await new Saliency(m).attribute(x, { target: 3, abs: false })), [0, 0, 0, 6])
    await m.dispose()
  })

  it('an integer model output is a DTypeMismatch that says so and suggests a perturbation method', async () => {
    for (const nodes of [
      [node('am', 'ArgMax', ['x'], ['i'], [attr.int('axis', 1)]), node('c', 'Cast', ['i'], ['y'], [attr.int('to', ElemType.INT32)])],
      [node('gt', 'Greater', ['x', 'zero'], ['g']), node('c', 'Cast', ['g'], ['y'], [attr.int('to', ElemType.INT32)])],
    ]) {
      const m = await model({ nodes, outputs: [{ name: 'y', elemType: ElemType.INT32 }], initializers: [scalar('zero', 0)] })
      const e = await failsWith(new Saliency(m).attribute(x, { target: 0 }), 'DTypeMismatch', /model output 'y' \(int32\) is not differentiable.*perturbation method/)
      expect(e.error.path).toContain('y')
      const a = await new FeatureAblation(m).attribute(x, { target: 0 })
      expect(a.shape).toEqual([1, 4])
      await m.dispose()
    }
  })
})
