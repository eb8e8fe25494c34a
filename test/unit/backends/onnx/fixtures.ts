import { fileURLToPath } from 'node:url'
/** Helpers for the ONNX unit tests: reference models and Captum fixtures from ../shared/reference. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { float32, type HostTensor } from '../../../../src/core/tensor.js'

/** The reference fixtures: `shared/` sits beside the repository (as on CI). */
export const REF = fileURLToPath(new URL('../../../../../shared/reference', import.meta.url))
export const modelPath = (m: string): string => join(REF, 'models', `${m}.onnx`)

interface JsonTensor {
  readonly dtype: string
  readonly shape: readonly number[]
  readonly data?: unknown
  readonly file?: string
  readonly byte_offset?: number
  readonly length?: number
}

export interface SaliencyCase {
  readonly input: HostTensor
  readonly target: readonly number[]
  readonly abs: boolean
  readonly expected: Float32Array
  readonly tolerance: { readonly abs: number; readonly rel: number }
}

const tensorOf = (dir: string, t: JsonTensor): Float32Array => {
  if (t.file !== undefined) {
    const buf = readFileSync(join(dir, t.file))
    return new Float32Array(buf.buffer.slice(buf.byteOffset + (t.byte_offset ?? 0), buf.byteOffset + (t.byte_offset ?? 0) + 4 * (t.length ?? 0)))
  }
  return Float32Array.from((t.data as unknown[]).flat(Infinity as 1) as number[])
}

/** A Saliency case: input, per-example targets, abs flag, expected attribution and tolerance. */
export const saliencyCase = (model: string, id: string): SaliencyCase => {
  const dir = join(REF, 'cases', model)
  const c = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as {
    inputs: JsonTensor[]
    args: { target: number | number[]; abs: boolean }
    expected: { attribution: JsonTensor }
    tolerance: { abs: number; rel: number }
  }
  const inp = c.inputs[0]!
  const n = inp.shape[0]!
  return {
    input: float32(inp.shape, tensorOf(dir, inp)),
    target: Array.isArray(c.args.target) ? c.args.target : new Array<number>(n).fill(c.args.target),
    abs: c.args.abs,
    expected: tensorOf(dir, c.expected.attribution),
    tolerance: c.tolerance,
  }
}

/** One-hot cotangent selecting logits[i, target[i]]. */
export const oneHotSeed = (rows: number, classes: number, target: readonly number[]): HostTensor =>
  float32([rows, classes], Array.from({ length: rows * classes }, (_, k) => (target[Math.floor(k / classes)] === k % classes ? 1 : 0)))

/** Max over elements of (|a − e| − (abs + rel·|e|)); ≤ 0 means within tolerance. */
export const worstExcess = (a: ArrayLike<number>, e: ArrayLike<number>, tol: { abs: number; rel: number }): number => {
  let worst = -Infinity
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (e[i] as number)) - (tol.abs + tol.rel * Math.abs(e[i] as number)))
  return worst
}

/** A deterministic pseudo-random float tensor. */
export const randomTensor = (shape: readonly number[], seed: number, scale = 1): HostTensor => {
  let s = seed >>> 0
  const n = shape.reduce((a, b) => a * b, 1)
  return float32(shape, Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return ((s / 4294967296) * 2 - 1) * scale
  }))
}
