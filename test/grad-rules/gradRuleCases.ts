/**
 * GRAD_RULE_CASES: one (or more) rows per ONNX gradient rule — the op, its attributes, input shapes
 * ('B' = a batch size fast-check draws), value ranges, and the tolerance of the finite-difference
 * check in `onnx.rules.test.ts`. `coverage.test.ts` requires a row for every rule in ALL_GRAD_RULES.
 */
import { attr, type Attribute } from '../../src/backends/onnx/graph/ir.js'
import { float32, int64, type HostTensor } from '../../src/core/tensor.js'

/**
 * Value ranges: 'normal' N(0,1)·0.5; 'pos' [0.5, 1.5]; 'grid' odd multiples of 0.05 in (−1, 1)
 * (at least 0.05 away from every kink at a multiple of 0.1: Relu, Abs, Clip bounds); 'distinct' a
 * shuffled ladder with steps of 0.01 (no ties for MaxPool).
 */
export type ValueKind = 'normal' | 'pos' | 'grid' | 'distinct'

export type CaseInput =
  | { readonly shape: readonly (number | 'B')[]; readonly kind?: ValueKind; readonly wrt?: boolean }
  | { readonly value: HostTensor }

export interface GradRuleCase {
  /** The rule's op type (each rule needs at least one row). */
  readonly op: string
  readonly label?: string
  readonly opset?: number
  readonly inputs: readonly CaseInput[]
  readonly attrs?: readonly Attribute[]
  readonly nOutputs?: number
  /** Outputs that get a cotangent (default: all). */
  readonly seeds?: readonly number[]
  readonly eps?: number
  readonly tol?: { readonly abs: number; readonly rel: number }
  /**
   * noGradient markers: the graph is y = Add(x, Cast(op(inputs), float)) where input 'x' is the float
   * input x; the gradient w.r.t. x must be exactly the cotangent (nothing flows through the op).
   */
  readonly noGradient?: { readonly xShape: readonly number[]; readonly args: readonly ('x' | HostTensor)[] }
}

const f = (shape: readonly number[], data: readonly number[]): HostTensor => float32(shape, data)
const i64 = (shape: readonly number[], data: readonly number[]): HostTensor => int64(shape, data)
const bool = (shape: readonly number[], data: readonly number[]): HostTensor => ({ dtype: 'bool', shape: [...shape], data: Uint8Array.from(data) })
const X = (...shape: (number | 'B')[]): CaseInput => ({ shape })
const K = (kind: ValueKind, ...shape: (number | 'B')[]): CaseInput => ({ shape, kind })
const C = (value: HostTensor): CaseInput => ({ value })

const unary = (op: string, kind: ValueKind = 'normal', attrs: readonly Attribute[] = [], opset?: number, label?: string): GradRuleCase => ({
  op, inputs: [K(kind, 'B', 3, 4)], attrs, ...(opset !== undefined ? { opset } : {}), ...(label !== undefined ? { label } : {}),
})

const nog = (op: string, xShape: readonly number[], args: readonly ('x' | HostTensor)[], attrs: readonly Attribute[] = []): GradRuleCase => ({
  op, inputs: [], attrs, noGradient: { xShape, args },
})

/**
 * AveragePool over every combination of pads × ceil_mode × count_include_pad. On 8×7 with kernel 3×2
 * and strides 2×3, ceil_mode adds a last window that runs past the input (and, with pads 1,0,1,1,
 * past the end padding too), so edge windows have a different divisor in each case. Plus dilations
 * and SAME padding.
 */
const AVERAGE_POOL_CASES: readonly GradRuleCase[] = [
  ...[[0, 0, 0, 0], [1, 0, 1, 1]].flatMap((pads) => [0, 1].flatMap((ceil) => [0, 1].map((cip): GradRuleCase => ({
    op: 'AveragePool',
    label: `pads ${pads.join(',')} ceil_mode=${ceil} count_include_pad=${cip}`,
    inputs: [X('B', 2, 8, 7)],
    attrs: [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 3]), attr.ints('pads', pads), attr.int('ceil_mode', ceil), attr.int('count_include_pad', cip)],
  })))),
  {
    op: 'AveragePool', label: 'overlapping windows, pads 1 count_include_pad=0',
    inputs: [X('B', 2, 7, 7)], attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])],
  },
  {
    op: 'AveragePool', label: 'dilations, ceil_mode=1 count_include_pad=0', opset: 19,
    inputs: [X('B', 2, 8, 7)], attrs: [attr.ints('kernel_shape', [2, 2]), attr.ints('dilations', [2, 1]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 0, 0, 1]), attr.int('ceil_mode', 1)],
  },
  {
    op: 'AveragePool', label: 'SAME_UPPER stride 2 count_include_pad=0',
    inputs: [X('B', 2, 7, 6)], attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.string('auto_pad', 'SAME_UPPER')],
  },
  {
    op: 'AveragePool', label: 'SAME_LOWER count_include_pad=1',
    inputs: [X('B', 2, 5, 6)], attrs: [attr.ints('kernel_shape', [2, 3]), attr.string('auto_pad', 'SAME_LOWER'), attr.int('count_include_pad', 1)],
  },
]

export const GRAD_RULE_CASES: readonly GradRuleCase[] = [
  unary('Relu', 'grid'),
  unary('LeakyRelu', 'grid', [attr.float('alpha', 0.2)]),
  unary('Elu', 'grid', [attr.float('alpha', 0.7)]),
  unary('Sigmoid'),
  unary('HardSigmoid', 'normal', [attr.float('alpha', 0.3), attr.float('beta', 0.4)]),
  unary('Tanh'),
  unary('Softplus'),
  unary('Exp'),
  unary('Log', 'pos'),
  unary('Sqrt', 'pos'),
  unary('Neg'),
  unary('Abs', 'grid'),
  unary('Erf'),
  unary('Gelu', 'normal', [], 20, 'exact'),
  unary('Gelu', 'normal', [attr.string('approximate', 'tanh')], 20, 'tanh'),
  unary('Identity'),
  unary('Dropout', 'normal', [], 17, 'inference'),
  unary('Cast', 'normal', [attr.int('to', 1)]),
  unary('Softmax', 'normal', [attr.int('axis', 1)], 13, 'opset13 axis 1'),
  unary('Softmax', 'normal', [attr.int('axis', 1)], 11, 'opset11 2-D coercion'),
  unary('LogSoftmax', 'normal', [attr.int('axis', -1)], 13, 'opset13'),
  unary('LogSoftmax', 'normal', [attr.int('axis', 1)], 11, 'opset11 2-D coercion'),
  { op: 'Add', inputs: [X('B', 3, 4), X(4)] },
  { op: 'Add', label: 'both broadcast', inputs: [X('B', 1, 4), X(3, 1)] },
  { op: 'Sub', inputs: [X('B', 1, 4), X(3, 1)] },
  { op: 'Mul', inputs: [X('B', 3, 4), X(3, 1)] },
  { op: 'Div', inputs: [X('B', 3, 4), K('pos', 1, 4)] },
  { op: 'Pow', inputs: [K('pos', 'B', 3, 4), C(f([4], [2, 3, 0.5, -1]))] },
  { op: 'Pow', label: 'int exponent', inputs: [K('pos', 'B', 3, 4), C(i64([], [3]))] },
  { op: 'Pow', label: 'float exponent on the path (broadcast)', inputs: [K('pos', 'B', 3, 4), X(3, 1)] },
  { op: 'Pow', label: 'constant base, exponent on the path', inputs: [C(f([4], [2, 0.5, 3, 1.5])), X('B', 3, 4)] },
  { op: 'Where', inputs: [C(bool([3, 4], [1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0])), X('B', 3, 4), X(4)] },
  { op: 'Clip', inputs: [K('grid', 'B', 3, 4), C(f([], [-0.5])), C(f([], [0.3]))] },
  { op: 'Clip', label: 'opset 9 attributes', opset: 9, inputs: [K('grid', 'B', 3, 4)], attrs: [attr.float('min', -0.5), attr.float('max', 0.3)] },
  { op: 'Reshape', inputs: [X('B', 3, 4), C(i64([2], [0, -1]))] },
  { op: 'Flatten', inputs: [X('B', 3, 2, 2)], attrs: [attr.int('axis', 2)] },
  { op: 'Flatten', label: 'axis 0', inputs: [X('B', 3, 2)], attrs: [attr.int('axis', 0)] },
  { op: 'Squeeze', inputs: [X('B', 1, 4), C(i64([1], [1]))] },
  { op: 'Unsqueeze', inputs: [X('B', 4), C(i64([2], [1, -1]))] },
  { op: 'Unsqueeze', label: 'opset 11 attribute', opset: 11, inputs: [X('B', 4)], attrs: [attr.ints('axes', [0, 2])] },
  { op: 'Expand', inputs: [X(3, 1), C(i64([3], [2, 3, 4]))] },
  { op: 'Transpose', inputs: [X('B', 3, 4)], attrs: [attr.ints('perm', [2, 0, 1])] },
  { op: 'Transpose', label: 'default perm', inputs: [X('B', 3, 4)] },
  { op: 'Concat', inputs: [X('B', 1, 4), X('B', 3, 4), X('B', 2, 4)], attrs: [attr.int('axis', 1)] },
  { op: 'Split', inputs: [X('B', 5), C(i64([2], [2, 3]))], attrs: [attr.int('axis', 1)], nOutputs: 2 },
  { op: 'Split', label: 'one output seeded', inputs: [X('B', 6)], attrs: [attr.int('axis', -1)], nOutputs: 3, seeds: [1] },
  { op: 'Slice', inputs: [X('B', 5, 6), C(i64([2], [4, 1])), C(i64([2], [0, 6])), C(i64([2], [1, 2])), C(i64([2], [-2, 2]))] },
  { op: 'Gather', inputs: [X(5, 3), C(i64([2, 2], [0, -1, 2, 2]))] },
  { op: 'Gather', label: 'axis 1', inputs: [X('B', 4, 3), C(i64([3], [3, 0, 3]))], attrs: [attr.int('axis', 1)] },
  { op: 'MatMul', inputs: [X('B', 2, 3, 4), X(4, 5)] },
  { op: 'MatMul', label: 'batch broadcast', inputs: [X(2, 1, 3, 4), X(5, 4, 2)] },
  { op: 'MatMul', label: '1-D left', inputs: [X(4), X('B', 4, 5)] },
  { op: 'MatMul', label: '1-D right', inputs: [X('B', 3, 4), X(4)] },
  { op: 'Gemm', inputs: [X(4, 'B'), X(5, 4), X(5)], attrs: [attr.int('transA', 1), attr.int('transB', 1), attr.float('alpha', 0.5), attr.float('beta', 2)] },
  { op: 'Gemm', label: 'no transposes', inputs: [X('B', 4), X(4, 5), X(1, 5)] },
  {
    op: 'Conv',
    inputs: [X('B', 4, 7, 8), C(f([6, 2, 3, 2], Array.from({ length: 72 }, (_, i) => Math.sin(i + 1)))), X(6)],
    attrs: [attr.int('group', 2), attr.ints('strides', [2, 1]), attr.ints('pads', [1, 0, 2, 1]), attr.ints('dilations', [2, 1])],
  },
  {
    op: 'Conv', label: 'SAME_UPPER stride 2',
    inputs: [X('B', 2, 6, 7), C(f([3, 2, 3, 3], Array.from({ length: 54 }, (_, i) => Math.cos(i))))],
    attrs: [attr.string('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])],
  },
  // weight gradients (TracIn): W and B are differentiated too
  { op: 'Conv', label: 'weight gradient, strides, pads, dilations', inputs: [X('B', 2, 7, 8), X(3, 2, 3, 2), X(3)], attrs: [attr.ints('strides', [2, 1]), attr.ints('pads', [1, 0, 2, 1]), attr.ints('dilations', [2, 1])] },
  { op: 'Conv', label: 'weight gradient, SAME_UPPER stride 2', inputs: [X('B', 2, 6, 7), X(3, 2, 3, 3)], attrs: [attr.string('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])] },
  { op: 'Conv', label: 'weight gradient, 1-D stride 1', inputs: [X('B', 2, 9), X(4, 2, 3), X(4)], attrs: [attr.ints('pads', [1, 1])] },
  { op: 'MaxPool', label: 'overlapping (opset bump to 16)', opset: 14, inputs: [K('distinct', 'B', 2, 7, 7)], attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])] },
  { op: 'MaxPool', label: 'non-overlapping', opset: 14, inputs: [K('distinct', 'B', 2, 6, 6)], attrs: [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])] },
  ...AVERAGE_POOL_CASES,
  { op: 'GlobalAveragePool', inputs: [X('B', 3, 4, 5)] },
  {
    op: 'BatchNormalization',
    inputs: [X('B', 3, 4, 4), C(f([3], [0.5, 1.5, -2])), C(f([3], [0.1, 0.2, 0.3])), C(f([3], [0.3, -0.2, 0.1])), C(f([3], [0.5, 2, 1]))],
    attrs: [attr.float('epsilon', 1e-3)],
  },
  {
    op: 'BatchNormalization', label: 'scale and bias gradients',
    inputs: [X('B', 3, 4, 4), X(3), X(3), C(f([3], [0.3, -0.2, 0.1])), C(f([3], [0.5, 2, 1]))],
    attrs: [attr.float('epsilon', 1e-3)],
  },
  { op: 'LayerNormalization', inputs: [X('B', 3, 4), X(4), X(4)] },
  { op: 'LayerNormalization', label: 'axis 1', inputs: [X('B', 3, 4), X(3, 4), X(3, 4)], attrs: [attr.int('axis', 1)] },
  { op: 'ReduceMean', inputs: [X('B', 3, 4)], attrs: [attr.ints('axes', [1]), attr.int('keepdims', 0)] },
  { op: 'ReduceMean', label: 'opset 18 axes input', opset: 18, inputs: [X('B', 3, 4), C(i64([2], [-1, 1]))], attrs: [attr.int('keepdims', 0)] },
  { op: 'ReduceMean', label: 'opset 18 noop_with_empty_axes, no axes (identity)', opset: 18, inputs: [X('B', 3, 4)], attrs: [attr.int('noop_with_empty_axes', 1)] },
  { op: 'ReduceSum', inputs: [X('B', 3, 4), C(i64([1], [2]))], attrs: [attr.int('keepdims', 1)] },
  { op: 'ReduceSum', label: 'all axes keepdims 0', inputs: [X('B', 3, 4)], attrs: [attr.int('keepdims', 0)] },
  { op: 'ReduceSum', label: 'noop_with_empty_axes, no axes (identity)', inputs: [X('B', 3, 4)], attrs: [attr.int('noop_with_empty_axes', 1), attr.int('keepdims', 0)] },
  { op: 'ReduceSum', label: 'noop_with_empty_axes, empty axes (identity)', inputs: [X('B', 3, 4), C(i64([0], []))], attrs: [attr.int('noop_with_empty_axes', 1)] },
  { op: 'ReduceSum', label: 'empty axes without noop (all axes)', inputs: [X('B', 3, 4), C(i64([0], []))], attrs: [attr.int('keepdims', 0)] },
  nog('Shape', [2], ['x']),
  nog('Size', [1], ['x']),
  nog('Constant', [2], [], [attr.tensor('value', { dims: [2], dataType: 1, floatData: [1, 2] })]),
  nog('ConstantOfShape', [2, 3], [i64([2], [2, 3])]),
  nog('Range', [3], [f([], [0]), f([], [3]), f([], [1])]),
  nog('Equal', [2, 3], ['x', f([], [0.05])]),
  nog('Less', [2, 3], ['x', f([], [0])]),
  nog('Greater', [2, 3], ['x', f([], [0])]),
  nog('LessOrEqual', [2, 3], ['x', f([], [0])]),
  nog('GreaterOrEqual', [2, 3], ['x', f([], [0])]),
  nog('Not', [3], [bool([3], [1, 0, 1])]),
  nog('And', [3], [bool([3], [1, 0, 1]), bool([3], [1, 1, 0])]),
  nog('Or', [3], [bool([3], [1, 0, 1]), bool([3], [0, 0, 0])]),
  nog('NonZero', [2, 1], [f([2], [0, 3])]),
  nog('ArgMax', [2], ['x'], [attr.int('axis', 0), attr.int('keepdims', 0)]),
  nog('ArgMin', [2], ['x'], [attr.int('axis', 0), attr.int('keepdims', 0)]),
  nog('OneHot', [2, 4], [i64([2], [1, 3]), i64([], [4]), f([2], [0, 1])]),
]
