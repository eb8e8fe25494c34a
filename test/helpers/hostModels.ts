// Captum's toy models (captum-semantics.md §10.2) as plain functions over host tensors, for the
// perturbation methods (fromFunction). float32 outputs, computed row by row.
import { float32, type HostTensor } from '../../src/index.js'

const num = (t: HostTensor, i: number): number => Number(t.data[i])
const relu = (v: number): number => Math.max(0, v)

/** BasicModel_MultiLayer on one row sum s: [out0, out1]. */
export const multiLayerRow = (s: number): [number, number] => {
  const o = relu(s - 10) + 3 * relu(s + 1) - 1
  return [o, o + 2]
}

/** BasicModel_MultiLayer: x (N,3) → (N,2). */
export const multiLayer = ([x]: readonly HostTensor[]): HostTensor => {
  const n = x!.shape[0]!
  const out = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) out.set(multiLayerRow(num(x!, 3 * i) + num(x!, 3 * i + 1) + num(x!, 3 * i + 2)), 2 * i)
  return float32([n, 2], out)
}

/** BasicModel_MultiLayer_MultiInput: (x1 + x2 + x3)·scale, then MultiLayer; `scale` is a 0-d extra argument (default 1). */
export const multiInput = ([x1, x2, x3, scale]: readonly HostTensor[]): HostTensor => {
  const n = x1!.shape[0]!
  const k = scale ? num(scale, 0) : 1
  const out = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < 3; j++) s += num(x1!, 3 * i + j) + num(x2!, 3 * i + j) + num(x3!, 3 * i + j)
    out.set(multiLayerRow(k * s), 2 * i)
  }
  return float32([n, 2], out)
}

/** BasicModel: 1 − relu(1 − x), elementwise. */
export const basicModel = ([x]: readonly HostTensor[]): HostTensor =>
  float32(x!.shape, Float32Array.from({ length: x!.data.length }, (_, i) => 1 - relu(1 - num(x!, i))))

/** BasicModel3: relu(relu(x1 − 1) − relu(x2)), elementwise. */
export const basicModel3 = ([x1, x2]: readonly HostTensor[]): HostTensor =>
  float32(x1!.shape, Float32Array.from({ length: x1!.data.length }, (_, i) => relu(relu(num(x1!, i) - 1) - relu(num(x2!, i)))))

/**
 * BasicModel_ConvNet_One_Conv on (x, x2) of shape (N,1,4,4): conv 1→2 (3×3, weights 1, bias
 * [−50, −75]) of x + x2, relu, flatten (8), fc 8→4 (first 5 inputs +1, last 3 −1), relu → (N,4).
 */
export const convNetOneConv = ([x, x2]: readonly HostTensor[]): HostTensor => {
  const n = x!.shape[0]!
  const out = new Float32Array(4 * n)
  for (let i = 0; i < n; i++) {
    const v = (r: number, c: number): number => num(x!, i * 16 + r * 4 + c) + (x2 ? num(x2, i * 16 + r * 4 + c) : 0)
    const feats: number[] = []
    for (const bias of [-50, -75]) {
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 2; c++) {
          let s = bias
          for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += v(r + a, c + b)
          feats.push(relu(s))
        }
      }
    }
    const h = relu(feats.slice(0, 5).reduce((a, b) => a + b, 0) - feats.slice(5).reduce((a, b) => a + b, 0))
    out.fill(h, 4 * i, 4 * i + 4)
  }
  return float32([n, 4], out)
}
