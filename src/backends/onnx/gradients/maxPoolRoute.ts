/**
 * Sending a MaxPool output gradient back to the element each window took its maximum from, in two
 * equivalent standard-op forms (both give every window's value to the first maximal element in the
 * window's row-major order, as ONNX Runtime's MaxPool Indices and torch do, and add up what
 * overlapping windows send to the same element):
 *
 * - `indices`: scatter into zeros through the forward node's Indices output (ScatterElements; with
 *   overlapping windows reduction='add', opset 16). The CPU form.
 * - `windows`: no Indices. The input is padded with -inf, each kernel offset's strided Slice gives
 *   that offset's element of every window, the first offset equal to the window's maximum wins
 *   (in float arithmetic: the WebGPU provider runs no int64 Equal/Cast and no bool Transpose), and a ConvTranspose whose kernels are the one-hot offsets puts each window's value back
 *   at its winner's place (summing overlaps), cropped to the input. ONNX Runtime's WebGPU MaxPool has
 *   no Indices output (the run fails: "The Indices output is not supported yet"), so WebGPU sessions
 *   use this form; it costs K = Π kernel slices of the output size, and every op of it runs on the GPU.
 *   (A window holding NaN or +inf gives NaN here where the Indices form still picks one element; such
 *   a model's output is non-finite anyway, which clarus reports unless told to allow it.)
 *
 * @internal
 */
import { attr, ElemType } from '../graph/ir.js'
import type { GradContext } from './context.js'
import { windowGeometry, windowsOverlap } from './convGeometry.js'

/** The MaxPool attributes both forms reject. */
const checkMaxPool = (g: GradContext): readonly number[] => {
  if (g.attrInt('storage_order', 0) !== 0) g.fail('MaxPool with storage_order=1 is not supported')
  return g.attrInts('kernel_shape') ?? g.fail('kernel_shape missing')
}

/** `dy` (shaped like the MaxPool output) routed through the forward node's Indices output. */
const throughIndices = (g: GradContext, x: string, dy: string, kernel: readonly number[]): string => {
  if (g.opset < 11) g.fail('MaxPool gradients need opset >= 11 (ScatterElements)')
  const overlapping = windowsOverlap(g, kernel)
  if (overlapping) g.requireOpset(16)
  const scattered = g.node('ScatterElements', [
    g.node('Reshape', [g.zerosLike(x), g.int64([-1])]),
    g.node('Reshape', [g.output(1), g.int64([-1])]),
    g.node('Reshape', [dy, g.int64([-1])]),
  ], overlapping ? [attr.int('axis', 0), attr.string('reduction', 'add')] : [attr.int('axis', 0)])
  return g.node('Reshape', [scattered, g.node('Shape', [x])])
}

/** Max over axis 2, kept (ReduceMax takes its axes as an input from opset 18). */
const reduceMax = (g: GradContext, t: string): string =>
  g.opset >= 18
    ? g.node('ReduceMax', [t, g.int64([2])], [attr.int('keepdims', 1)])
    : g.node('ReduceMax', [t], [attr.ints('axes', [2]), attr.int('keepdims', 1)])

/** Every offset of a kernel, row-major (the order MaxPool scans a window in). */
const offsets = (kernel: readonly number[]): number[][] =>
  kernel.reduce<number[][]>((acc, k) => acc.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i])), [[]])

/** `dy` routed by the window argmax recomputed from the input (no Indices output needed). */
const throughWindows = (g: GradContext, x: string, dy: string, kernel: readonly number[]): string => {
  if (g.opset < 11) g.fail('MaxPool gradients need opset >= 11 (Pad with a value input)')
  const sp = kernel.length
  const geo = windowGeometry(g, x, kernel)
  const y = g.output(0)
  const et = g.elemTypeOf(x)
  const k = kernel.reduce((a, b) => a * b, 1)
  const spatialAxes = Array.from({ length: sp }, (_, i) => i + 2)
  // -inf outside the input: a padded place never wins a window (MaxPool ignores padding)
  const padded = g.node('Pad', [x, g.int64([0, 0, ...geo.pads.slice(0, sp), 0, 0, ...geo.pads.slice(sp)]), g.constant(-Infinity, x)])
  // a window count per spatial axis: static when known, else read off the output's shape
  const ys = g.shapeOf(y)
  const outDims = ys !== null && ys.length === sp + 2 && ys.slice(2).every((d): d is number => typeof d === 'number') ? (ys.slice(2) as number[]) : undefined
  const spanEnds = outDims === undefined
    ? g.node('Mul', [g.node('Slice', [g.node('Shape', [y]), g.int64([2]), g.int64([sp + 2])]), g.int64(geo.strides)])
    : undefined
  const steps = g.int64(geo.strides)
  const axes = g.int64(spatialAxes)
  const parts = offsets(kernel).map((o) => {
    const starts = o.map((v, i) => v * (geo.dilations[i] ?? 1))
    // start + count·stride ends after the last window's element (Slice clamps to the padded size)
    const ends = spanEnds === undefined
      ? g.int64(starts.map((s, i) => s + (outDims![i] as number) * (geo.strides[i] ?? 1)))
      : g.node('Add', [spanEnds, g.int64(starts)])
    return g.unsqueeze(g.node('Slice', [padded, g.int64(starts), ends, axes, steps]), [2])
  })
  const stacked = parts.length === 1 ? (parts[0] as string) : g.node('Concat', parts, [attr.int('axis', 2)])
  // the first maximum of each window, in float arithmetic only: among the offsets whose element
  // equals the window's maximum (Relu(1 − Ceil(max − element)) is 1 there and 0 elsewhere, as
  // max − element ≥ 0) the one with the largest weight K − k wins. (Equal and ArgMax would put bool
  // and int64 tensors on the CPU: the WebGPU provider has no int64 Equal/Cast, no Sign, and its
  // NHWC layout pass moves Transposes onto them, which it has no bool kernel for.)
  const atMax = (t: string): string => g.node('Relu', [g.node('Sub', [g.constant(1, x), g.node('Ceil', [g.node('Sub', [reduceMax(g, t), t])])])])
  const weights = g.constant(Array.from({ length: k }, (_, i) => k - i), x, [1, 1, k, ...new Array<number>(sp).fill(1)])
  const picked = atMax(g.node('Mul', [atMax(stacked), weights]))
  const routed = g.node('Mul', [picked, g.unsqueeze(dy, [2])])
  // [N, C, K, out…] → [N·C, K, out…]: one channel per offset for the ConvTranspose
  const outShape = outDims === undefined ? g.node('Slice', [g.node('Shape', [dy]), g.int64([2]), g.int64([sp + 2])]) : g.int64(outDims)
  const merged = g.node('Reshape', [routed, g.node('Concat', [g.int64([-1, k]), outShape], [attr.int('axis', 0)])])
  const oneHot = Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? 1 : 0))
  const kernels = et === ElemType.FLOAT || et === ElemType.DOUBLE
    ? g.constant(oneHot, x, [k, 1, ...kernel])
    : g.node('Cast', [g.constant(oneHot, undefined, [k, 1, ...kernel])], [attr.int('to', et)])
  const unpooled = g.node('ConvTranspose', [merged, kernels], [
    attr.ints('kernel_shape', kernel),
    attr.ints('strides', geo.strides),
    attr.ints('dilations', geo.dilations),
    attr.ints('pads', geo.pads),
    attr.ints('output_padding', geo.outputPadding),
  ])
  // [N·C, 1, in…] → x's shape; with dynamic spatial dims the result may run past the input: crop it
  const shaped = geo.crop
    ? g.node('Slice', [g.node('Reshape', [unpooled, g.node('Concat', [g.node('Slice', [g.node('Shape', [x]), g.int64([0]), g.int64([2])]), g.int64(new Array<number>(sp).fill(0))], [attr.int('axis', 0)])], [attr.int('allowzero', 0)]), g.int64(new Array<number>(sp + 2).fill(0)), g.node('Shape', [x])])
    : undefined
  return shaped ?? g.node('Reshape', [unpooled, g.node('Shape', [x])])
}

/**
 * `dy` (the cotangent of the MaxPool output, or any tensor of that shape) sent back to each window's
 * maximal input element, in the form the context's device runs: `indices` on CPU, `windows` on WebGPU.
 */
export const routeToArgmax = (g: GradContext, x: string, dy: string): string => {
  const kernel = checkMaxPool(g)
  return g.device === 'webgpu' ? throughWindows(g, x, dy, kernel) : throughIndices(g, x, dy, kernel)
}
