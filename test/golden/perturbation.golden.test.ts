// Captum's own numbers for the perturbation methods on its toy models (captum-semantics.md §10.4
// Fixtures A, B, C and §11), on a plain JavaScript forward (fromFunction, host backend) and on
// tfjs-cpu (the same forward wrapped as a tfjs function, so the perturbation, batching and
// reduction run on tfjs tensors), for several perturbationsPerEval values.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../src/backends/host/index.js'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import {
  FeatureAblation, KernelShap, Lime, Occlusion, ShapleyValues, ShapleyValueSampling,
  float32, int64, type HostTensor, type Model, type CallOptions,
} from '../../src/index.js'
import { basicModel, basicModel3, convNetOneConv, multiInput, multiLayer } from '../helpers/hostModels.js'

type HostFn = (xs: readonly HostTensor[]) => HostTensor
type Nested = number | Nested[]

const shapeOf = (a: Nested): number[] => (Array.isArray(a) ? [a.length, ...shapeOf(a[0]!)] : [])
const t32 = (a: Nested): HostTensor => float32(shapeOf(a), [a].flat(8) as number[])
const i64 = (a: Nested): HostTensor => int64(shapeOf(a), [a].flat(8) as number[])
const bool = (a: Nested): HostTensor => ({ dtype: 'bool', shape: shapeOf(a), data: Uint8Array.from([a].flat(8) as number[]) })

/** The same forward as a tfjs function: host maths on the tensors' values. */
const asTfjs = (fn: HostFn) => (...xs: tf.Tensor[]): tf.Tensor => {
  const out = fn(xs.map((x) => ({ dtype: 'float32', shape: x.shape, data: Float32Array.from(x.dataSync()) })))
  return tf.tensor(Float32Array.from(out.data as Float32Array), [...out.shape])
}

const boolModel: HostFn = ([x]) => multiLayer([float32(x!.shape, Float32Array.from(x!.data as Uint8Array, (v) => 10 * Number(v)))])
const total = (fn: HostFn): HostFn => (xs) => float32([], [Array.from(fn(xs).data as Float32Array).reduce((a, b) => a + b, 0)])
const firstRow: HostFn = ([x]) => float32([1, 3], Array.from(x!.data as Float32Array).slice(0, 3))
const constant: HostFn = () => float32([1, 5, 3, 2], new Float32Array(30).fill(1))
const withOnes = (k: number): HostFn => (xs) => {
  const y = multiLayer(xs)
  const n = y.shape[0]!
  const out = new Float32Array(n * (2 + k)).fill(1)
  for (let i = 0; i < n; i++) out.set((y.data as Float32Array).subarray(2 * i, 2 * i + 2), i * (2 + k))
  return float32([n, 2 + k], out)
}

/** returnInputShape: false gives one tensor for several inputs; the table compares lists. */
const asList = (r: HostTensor | HostTensor[]): HostTensor[] => (Array.isArray(r) ? r : [r])

type Method = 'FA' | 'Occ' | 'SV' | 'SVS' | 'KS' | 'KSx' | 'LimeEnum'

const call = <T>(m: Method, model: Model<T>, inputs: readonly HostTensor[], o: Record<string, unknown>): Promise<HostTensor[]> => {
  const opts = o as unknown as CallOptions<T> & { slidingWindowShapes: number[][] }
  switch (m) {
    case 'FA': return new FeatureAblation(model).attribute(inputs, opts)
    case 'Occ': return new Occlusion(model).attribute(inputs, opts)
    case 'SV': return new ShapleyValues(model).attribute(inputs, opts)
    case 'SVS': return new ShapleyValueSampling(model).attribute(inputs, { nSamples: 300, ...opts })
    case 'KS': return new KernelShap(model).attribute(inputs, { nSamples: 800, ...opts }).then(asList)
    case 'KSx': return new KernelShap(model).attribute(inputs, { exact: true, ...opts }).then(asList)
    case 'LimeEnum': return new Lime(model, { sampler: 'enumerate', interpretableModel: { _tag: 'lasso', alpha: 1 }, similarity: { _tag: 'expKernel', distance: 'cosine', kernelWidth: 10 } })
      .attribute(inputs, { nSamples: 1 << 12, ...opts })
  }
}

interface Row {
  readonly name: string
  readonly method: Method
  readonly fn: HostFn
  readonly inputs: readonly HostTensor[]
  readonly options?: Record<string, unknown>
  readonly expected: readonly Nested[]
  readonly tol?: number
  /** Deterministic rows are also run with perturbationsPerEval 1, 2 and 3. */
  readonly ppe?: boolean
}

const x1 = [[20, 50, 30]]
const x2 = [[2, 10, 3], [20, 50, 30]]
const mi = [t32([[23, 100, 0], [20, 50, 30]]), t32([[20, 50, 30], [0, 100, 0]]), t32([[0, 100, 10], [2, 10, 3]])]
const crossMasks = [i64([[1, 1, 1], [0, 1, 0]]), i64([[0, 1, 2]]), i64([[0, 1, 2], [0, 0, 0]])]
const conv = [t32([Array.from({ length: 16 }, (_, i) => i)].map((r) => [[r.slice(0, 4), r.slice(4, 8), r.slice(8, 12), r.slice(12)]])), t32([[[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]]])]
const randn = t32(Array.from({ length: 10 }, (_, i) => Array.from({ length: 5 }, (_, j) => Math.sin(7 * i + j))))

const ROWS: readonly Row[] = [
  // Fixture A — FeatureAblation
  { name: 'A simple', method: 'FA', fn: multiLayer, inputs: [t32(x1)], options: { target: 0 }, expected: [[[80, 200, 120]]], ppe: true },
  { name: 'A mask', method: 'FA', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]) }, expected: [[[280, 280, 120]]], ppe: true },
  { name: 'A mask + baselines 4', method: 'FA', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]), baselines: 4 }, expected: [[[248, 248, 104]]], ppe: true },
  { name: 'A multi-sample', method: 'FA', fn: multiLayer, inputs: [t32(x2)], options: { target: 0 }, expected: [[[8, 35, 12], [80, 200, 120]]], ppe: true },
  { name: 'A per-example mask', method: 'FA', fn: multiLayer, inputs: [t32(x2)], options: { target: 0, featureMask: i64([[0, 0, 1], [1, 1, 0]]) }, expected: [[[41, 41, 12], [280, 280, 120]]], ppe: true },
  { name: 'A int input (BasicModel)', method: 'FA', fn: basicModel, inputs: [i64([[-3, 1, 2]])], options: { target: 0 }, expected: [[[-3, 0, 0]]], ppe: true },
  { name: 'A bool input', method: 'FA', fn: boolModel, inputs: [bool([[1, 0, 1]])], options: { target: 0, featureMask: i64([[0, 0, 1]]) }, expected: [[[40, 40, 40]]], ppe: true },
  { name: 'A bool input, baselines true', method: 'FA', fn: boolModel, inputs: [bool([[1, 0, 1]])], options: { target: 0, featureMask: i64([[0, 0, 1]]), baselines: 1 }, expected: [[[-40, -40, 0]]] },
  { name: 'A batch-scalar forward', method: 'FA', fn: total(multiLayer), inputs: [t32([[2, 10, 3]])], options: { featureMask: i64([[0, 0, 1]]) }, expected: [[[82, 82, 24]]] },
  { name: 'A batch-scalar forward, 2 examples', method: 'FA', fn: total(multiLayer), inputs: [t32(x2)], options: { featureMask: i64([[0, 0, 1]]) }, expected: [[[642, 642, 264]]] },
  { name: 'A output (1,3) from 2 examples', method: 'FA', fn: firstRow, inputs: [t32([[1, 2, 3], [4, 5, 6]])], options: { featureMask: i64([[0, 1, 2]]) }, expected: [[[1, 0, 0], [0, 2, 0], [0, 0, 3]]] },
  { name: 'A output (1,3), default mask', method: 'FA', fn: firstRow, inputs: [t32([[1, 2, 3], [4, 5, 6]])], expected: [[[1, 0, 0], [0, 2, 0], [0, 0, 3]]] },
  { name: 'A output (1,3), grouped', method: 'FA', fn: firstRow, inputs: [t32([[1, 2, 3], [4, 5, 6]])], options: { featureMask: i64([[0, 0, 1]]) }, expected: [[[1, 1, 0], [2, 2, 0], [0, 0, 3]]] },
  { name: 'A constant (1,5,3,2) forward', method: 'FA', fn: constant, inputs: [randn], options: { featureMask: i64([[0, 1, 2, 3, 4]]) }, expected: [Array.from({ length: 30 }, () => [0, 0, 0, 0, 0])] },
  { name: 'A multi-input masks', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, featureMask: [i64([[1, 1, 1], [0, 1, 0]]), i64([[3, 4, 2]]), i64([[5, 6, 7], [5, 5, 5]])] },
    expected: [[[492, 492, 492], [200, 200, 200]], [[80, 200, 120], [0, 400, 0]], [[0, 400, 40], [60, 60, 60]]], ppe: true },
  { name: 'A multi-input masks, baselines (2, 3, 4)', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, baselines: [2, 3, 4], featureMask: [i64([[1, 1, 1], [0, 1, 0]]), i64([[3, 4, 2]]), i64([[5, 6, 7], [5, 5, 5]])] },
    expected: [[[468, 468, 468], [184, 192, 184]], [[68, 188, 108], [-12, 388, -12]], [[-16, 384, 24], [12, 12, 12]]] },
  { name: 'A cross-tensor ids', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, featureMask: crossMasks },
    expected: [[[1092, 1092, 1092], [260, 600, 260]], [[80, 1092, 160], [260, 600, 0]], [[80, 1092, 160], [260, 260, 260]]], ppe: true },
  { name: 'A cross-tensor ids, baselines (2, 3, 4)', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, baselines: [2, 3, 4], featureMask: crossMasks },
    expected: [[[1040, 1040, 1040], [184, 580, 184]], [[52, 1040, 132], [184, 580, -12]], [[52, 1040, 132], [184, 184, 184]]] },
  { name: 'A tensor baselines', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, baselines: [t32([[3, 0, 0]]), t32([[0, 1, 0]]), t32([[1, 2, 3]])] },
    expected: [[[80, 400, 0], [68, 200, 120]], [[80, 196, 120], [0, 396, 0]], [[-4, 392, 28], [4, 32, 0]]] },
  { name: 'A per-example baselines', method: 'FA', fn: multiInput, inputs: mi, options: { target: 0, baselines: [t32([[3, 0, 0], [3, 0, 2]]), t32([[0, 1, 0], [0, 1, 4]]), t32([[3, 2, 4], [1, 2, 3]])] },
    expected: [[[80, 400, 0], [68, 200, 112]], [[80, 196, 120], [0, 396, -16]], [[-12, 392, 24], [4, 32, 0]]] },
  { name: 'A multi-input batch-scalar', method: 'FA', fn: total(multiInput), inputs: mi, options: { featureMask: [i64([[1, 1, 1]]), i64([[0, 3, 2]]), i64([[4, 5, 6]])] },
    expected: [[[1784, 1784, 1784]], [[160, 1200, 240]], [[16, 880, 104]]] },
  { name: 'A ConvNet, 0-d masks', method: 'FA', fn: convNetOneConv, inputs: conv, options: { target: 0, featureMask: [i64(0), i64(1)] },
    expected: [[[new Array(4).fill(new Array(4).fill(67))]], [[new Array(4).fill(new Array(4).fill(13))]]], ppe: true },
  { name: 'A ConvNet, default masks', method: 'FA', fn: convNetOneConv, inputs: conv, options: { target: 0 },
    expected: [[[[[0, 2, 4, 3], [4, 9, 10, 7], [4, 13, 14, 11], [0, 0, 0, 0]]]], [[[[1, 2, 2, 1], [1, 2, 2, 1], [1, 2, 2, 1], [0, 0, 0, 0]]]]], ppe: true },
  // §11 rows
  { name: '§11 FeatureAblation', method: 'FA', fn: multiLayer, inputs: [t32([[20, 50, 30], [2, 10, 3]])], options: { target: 0 }, expected: [[[80, 200, 120], [8, 35, 12]]] },
  { name: '§11 FeatureAblation, target null → (4,3)', method: 'FA', fn: multiLayer, inputs: [t32([[20, 50, 30], [2, 10, 3]])], expected: [[[80, 200, 120], [80, 200, 120], [8, 35, 12], [8, 35, 12]]], ppe: true },
  { name: '§11 Occlusion window (2,)', method: 'Occ', fn: multiLayer, inputs: [t32([[20, 50, 30], [2, 10, 3]])], options: { target: 0, slidingWindowShapes: [2] }, expected: [[[280, 300, 320], [41, 42.5, 44]]], ppe: true },
  { name: '§11 ShapleyValues', method: 'SV', fn: multiLayer, inputs: [t32([[20, 50, 30], [2, 10, 3]])], options: { target: 0 }, expected: [[[76.66666, 196.66667, 116.66666], [7, 32.5, 10.5]]], ppe: true },
  { name: '§11 ShapleyValues, target null → (2,2,3)', method: 'SV', fn: multiLayer, inputs: [t32([[20, 50, 30], [2, 10, 3]])],
    expected: [[[[76.66666, 196.66667, 116.66666], [76.66666, 196.66667, 116.66666]], [[7, 32.5, 10.5], [7, 32.5, 10.5]]]] },
  // Fixture B — Occlusion
  { name: 'B window (1,)', method: 'Occ', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, slidingWindowShapes: [1] }, expected: [[[80, 200, 120]]], ppe: true },
  { name: 'B window (2,), baselines [10,10,10]', method: 'Occ', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, slidingWindowShapes: [2], baselines: t32([10, 10, 10]) }, expected: [[[200, 220, 240]]] },
  { name: 'B window (2,), stride 2', method: 'Occ', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, slidingWindowShapes: [2], strides: 2 }, expected: [[[280, 280, 120]]] },
  { name: 'B 2 examples, window (1,)', method: 'Occ', fn: multiLayer, inputs: [t32(x2)], options: { target: 0, slidingWindowShapes: [1] }, expected: [[[8, 35, 12], [80, 200, 120]]] },
  { name: 'B BasicModel3', method: 'Occ', fn: basicModel3, inputs: [t32([[-10], [3]]), t32([[-5], [1]])], options: { target: 0, slidingWindowShapes: [[1], [1]] }, expected: [[[0], [1]], [[0], [-1]]] },
  { name: 'B BasicModel3, 1-D inputs', method: 'Occ', fn: basicModel3, inputs: [t32([-10, 3]), t32([-5, 1])], options: { slidingWindowShapes: [[], []] }, expected: [[0, 1], [0, -1]], ppe: true },
  { name: 'B multi-input windows', method: 'Occ', fn: multiInput, inputs: mi, options: { target: 0, slidingWindowShapes: [[3], [1], [2]] },
    expected: [[[492, 492, 492], [400, 400, 400]], [[80, 200, 120], [0, 400, 0]], [[400, 420, 440], [48, 50, 52]]], ppe: true },
  { name: 'B multi-input windows, baselines, strides', method: 'Occ', fn: multiInput, inputs: mi,
    options: { target: 0, slidingWindowShapes: [[3], [1], [2]], strides: [2, 1, 2], baselines: [t32([[1, 4, 7], [3, 6, 9]]), 3, t32([[4], [6]])] },
    expected: [[[444, 444, 444], [328, 328, 328]], [[68, 188, 108], [-12, 388, -12]], [[368, 368, 24], [0, 0, -12]]] },
  { name: 'B ConvNet whole-input windows', method: 'Occ', fn: convNetOneConv, inputs: conv, options: { target: 0, slidingWindowShapes: [[1, 4, 4], [1, 4, 4]] },
    expected: [[[new Array(4).fill(new Array(4).fill(67))]], [[new Array(4).fill(new Array(4).fill(13))]]] },
  { name: 'B ConvNet windows and strides', method: 'Occ', fn: convNetOneConv, inputs: conv, options: { target: 0, slidingWindowShapes: [[1, 2, 3], [1, 1, 2]], strides: [[1, 2, 1], [1, 1, 2]] },
    expected: [[[[[17, 17, 17, 17], [17, 17, 17, 17], [64, 65.5, 65.5, 67], [64, 65.5, 65.5, 67]]]], [[[[3, 3, 3, 3], [3, 3, 3, 3], [3, 3, 3, 3], [0, 0, 0, 0]]]]], ppe: true },
  // Fixture C — Shapley values (exact within 1e-3; sampled within 1.0)
  { name: 'C MultiLayer', method: 'SV', fn: multiLayer, inputs: [t32(x1)], options: { target: 0 }, expected: [[[76.66666, 196.66666, 116.66666]]], ppe: true },
  { name: 'C mask', method: 'SV', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]) }, expected: [[[275, 275, 115]]] },
  { name: 'C mask + baselines 4', method: 'SV', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]), baselines: 4 }, expected: [[[248, 248, 104]]] },
  { name: 'C 2 examples', method: 'SV', fn: multiLayer, inputs: [t32(x2)], options: { target: 0 }, expected: [[[7, 32.5, 10.5], [76.66666, 196.66666, 116.66666]]] },
  { name: 'C 2 examples, per-example mask', method: 'SV', fn: multiLayer, inputs: [t32(x2)], options: { target: 0, featureMask: i64([[0, 0, 1], [1, 1, 0]]) }, expected: [[[39.5, 39.5, 10.5], [275, 275, 115]]], ppe: true },
  { name: 'C bool input', method: 'SV', fn: boolModel, inputs: [bool([[1, 0, 1]])], options: { target: 0, featureMask: i64([[0, 0, 1]]) }, expected: [[[35, 35, 35]]] },
  { name: 'C bool input, baselines true', method: 'SV', fn: boolModel, inputs: [bool([[1, 0, 1]])], options: { target: 0, featureMask: i64([[0, 0, 1]]), baselines: 1 }, expected: [[[-40, -40, 0]]] },
  { name: 'C batch-scalar', method: 'SV', fn: total(multiLayer), inputs: [t32([[2, 10, 3]])], options: { featureMask: i64([[0, 0, 1]]) }, expected: [[[79, 79, 21]]] },
  { name: 'C batch-scalar, 2 examples', method: 'SV', fn: total(multiLayer), inputs: [t32(x2)], options: { featureMask: i64([[0, 0, 1]]) }, expected: [[[629, 629, 251]]] },
  { name: 'C cross-tensor masks', method: 'SV', fn: multiInput, inputs: mi, options: { target: 0, featureMask: crossMasks },
    expected: [[[1088.6666, 1088.6666, 1088.6666], [255, 595, 255]], [[76.6666, 1088.6666, 156.6666], [255, 595, 0]], [[76.6666, 1088.6666, 156.6666], [255, 255, 255]]], ppe: true },
  { name: 'C cross-tensor masks, baselines (2, 3, 4)', method: 'SV', fn: multiInput, inputs: mi, options: { target: 0, baselines: [2, 3, 4], featureMask: crossMasks },
    expected: [[[1040, 1040, 1040], [184, 580, 184]], [[52, 1040, 132], [184, 580, -12]], [[52, 1040, 132], [184, 184, 184]]] },
  { name: 'C multi-input batch-scalar', method: 'SV', fn: total(multiInput), inputs: [mi[0]!, mi[1]!, t32([[0, 100, 10], [20, 10, 13]])], options: { featureMask: [i64([[1, 1, 1]]), i64([[0, 1, 2]]), i64([[0, 1, 2]])] },
    expected: [[[3850.6666, 3850.6666, 3850.6666]], [[306.6666, 3850.6666, 410.6666]], [[306.6666, 3850.6666, 410.6666]]], tol: 0.01 },
  { name: 'C output (N,4), target null → (1,4,3)', method: 'SV', fn: withOnes(2), inputs: [t32(x1)],
    expected: [[[[76.67, 196.67, 116.67], [76.67, 196.67, 116.67], [0, 0, 0], [0, 0, 0]]]], tol: 0.01 },
  { name: 'C output (N,3), per-example masks, target null', method: 'SV', fn: withOnes(1), inputs: [t32([[20, 50, 30], [20, 50, 30]])], options: { featureMask: i64([[1, 1, 0], [0, 1, 1]]) },
    expected: [[[[275, 275, 115], [275, 275, 115], [0, 0, 0]], [[75, 315, 315], [75, 315, 315], [0, 0, 0]]]] },
  { name: 'C ShapleyValueSampling', method: 'SVS', fn: multiLayer, inputs: [t32(x2)], options: { target: 0 }, expected: [[[7, 32.5, 10.5], [76.66666, 196.66666, 116.66666]]], tol: 1 },
  { name: 'C ShapleyValueSampling, cross-tensor', method: 'SVS', fn: multiInput, inputs: mi, options: { target: 0, featureMask: crossMasks },
    expected: [[[1088.6666, 1088.6666, 1088.6666], [255, 595, 255]], [[76.6666, 1088.6666, 156.6666], [255, 595, 0]], [[76.6666, 1088.6666, 156.6666], [255, 255, 255]]], tol: 1 },
  // KernelShap (test_kernel_shap.py) and Lime (test_lime.py)
  { name: 'KernelShap sampled', method: 'KS', fn: multiLayer, inputs: [t32(x1)], options: { target: 0 }, expected: [[[76.66666, 196.66666, 116.66666]]], tol: 1 },
  { name: 'KernelShap baselines [[10,20,10]]', method: 'KSx', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, baselines: t32([[10, 20, 10]]) }, expected: [[[40, 120, 80]]] },
  { name: 'KernelShap mask, coefficients', method: 'KSx', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]), returnInputShape: false }, expected: [[[275, 115]]] },
  { name: 'KernelShap 2 examples, coefficients', method: 'KS', fn: multiLayer, inputs: [t32(x2)], options: { target: 0, featureMask: i64([[0, 0, 1], [1, 1, 0]]), returnInputShape: false },
    expected: [[[39.5, 10.5], [115, 275]]], tol: 0.05 },
  { name: 'KernelShap multi-input, baselines (2, 3, 4)', method: 'KSx', fn: multiInput, inputs: [t32(x1), t32([[0, 100, 0]]), t32([[2, 10, 3]])],
    options: { target: 0, baselines: [2, 3, 4], featureMask: [i64([[0, 1, 0]]), i64([[0, 1, 2]]), i64([[0, 0, 0]])] }, expected: [[[184, 580, 184]], [[184, 580, -12]], [[184, 184, 184]]] },
  { name: 'Lime (Lasso α=1, cosine width 10), mask', method: 'LimeEnum', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]) }, expected: [[[271, 271, 111]]], tol: 1 },
  { name: 'Lime mask + baselines 4', method: 'LimeEnum', fn: multiLayer, inputs: [t32(x1)], options: { target: 0, featureMask: i64([[0, 0, 1]]), baselines: 4 }, expected: [[[244, 244, 100]]], tol: 1 },
]

const approx = (got: HostTensor, expected: Nested, tol: number, label: string): void => {
  expect([...got.shape], `${label} shape`).toEqual(shapeOf(expected))
  const flat = [expected].flat(8) as number[]
  flat.forEach((e, i) => expect(Math.abs(Number(got.data[i]) - e), `${label}[${i}]: ${Number(got.data[i])} vs ${e}`).toBeLessThanOrEqual(tol + 1e-5 * Math.abs(e)))
}

const variants = (r: Row): (number | undefined)[] => (r.ppe ? [undefined, 1, 2, 3] : [undefined])

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe.each([
  ['fromFunction (host)', (fn: HostFn): Model<unknown> => fromFunction(fn) as Model<unknown>],
  ['tfjs-cpu', (fn: HostFn): Model<unknown> => fromTfjs(asTfjs(fn)) as Model<unknown>],
])('perturbation goldens on %s', (backendName, make) => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, r) => {
    const model = make(r.fn)
    for (const ppe of variants(r)) {
      const before = tf.memory().numTensors
      const got = await call(r.method, model, r.inputs, { ...r.options, ...(ppe !== undefined ? { perturbationsPerEval: ppe } : {}) })
      if (backendName === 'tfjs-cpu') expect(tf.memory().numTensors, 'tfjs tensors leaked').toBe(before)
      expect(got.length).toBe(r.expected.length)
      got.forEach((g, j) => approx(g, r.expected[j]!, r.tol ?? 2e-3, `${r.name} ppe=${ppe} input ${j}`))
    }
  })
})
