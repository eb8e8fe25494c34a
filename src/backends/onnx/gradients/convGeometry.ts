/**
 * Shared geometry of the windowed ops (Conv, MaxPool, AveragePool): explicit pads from auto_pad, the
 * output size, and the ConvTranspose output_padding that maps a window-op gradient back exactly onto
 * the input's spatial size.
 *
 * @internal
 */
import type { GradContext } from './context.js'

export interface WindowGeometry {
  readonly kernel: readonly number[]
  readonly strides: readonly number[]
  readonly dilations: readonly number[]
  /** [begin..., end...] with the end pads widened where ceil_mode windows run past the input. */
  readonly pads: readonly number[]
  readonly outputPadding: readonly number[]
  /** True when some input element lies in more than one window. */
  readonly overlapping: boolean
  /** True when the spatial dims are dynamic: the ConvTranspose result must go through `cropToInput`. */
  readonly crop: boolean
}

/** True when some input element lies in more than one window (effective kernel wider than the stride). */
export const windowsOverlap = (g: GradContext, kernel: readonly number[]): boolean => {
  const strides = g.attrInts('strides') ?? kernel.map(() => 1)
  const dilations = g.attrInts('dilations') ?? kernel.map(() => 1)
  return kernel.some((k, i) => (k - 1) * (dilations[i] ?? 1) + 1 > (strides[i] ?? 1))
}

/** Slices `t` (a window-op input gradient, possibly longer on the spatial axes) to the runtime shape of `x`. */
export const cropToInput = (g: GradContext, t: string, x: string): string => {
  if (g.opset < 10) return g.fail('gradients of windowed ops over dynamic spatial dims need opset >= 10')
  const r = g.rankOf(x)
  return g.node('Slice', [t, g.int64(new Array<number>(r).fill(0)), g.node('Shape', [x])])
}

/** Geometry when the spatial dims are not known statically (explicit or stride-1 SAME pads only). */
const dynamicGeometry = (g: GradContext, x: string, kernel: readonly number[]): WindowGeometry => {
  const sp = kernel.length
  const strides = g.attrInts('strides') ?? kernel.map(() => 1)
  const dilations = g.attrInts('dilations') ?? kernel.map(() => 1)
  const autoPad = g.attrString('auto_pad', 'NOTSET')
  const eks = kernel.map((k, i) => (k - 1) * (dilations[i] ?? 1) + 1)
  const why = autoPad.startsWith('SAME') && strides.some((s) => s !== 1) ? `auto_pad=${autoPad} with strides > 1`
    : g.attrInt('ceil_mode', 0) === 1 ? 'ceil_mode=1' : undefined
  if (why !== undefined) return g.fail(`the spatial dims of '${x}' must be static for ${g.fwd.opType} gradients with ${why}`)
  let pads = g.attrInts('pads') ?? new Array<number>(2 * sp).fill(0)
  if (autoPad === 'VALID') pads = new Array<number>(2 * sp).fill(0)
  if (autoPad.startsWith('SAME')) {
    const begin = eks.map((e) => (autoPad === 'SAME_UPPER' ? Math.floor((e - 1) / 2) : Math.ceil((e - 1) / 2)))
    pads = [...begin, ...eks.map((e, i) => e - 1 - (begin[i] ?? 0))]
  }
  return {
    kernel, strides, dilations, pads,
    outputPadding: strides.map((s) => s - 1),
    overlapping: windowsOverlap(g, kernel),
    crop: strides.some((s) => s !== 1),
  }
}

/** Window geometry of the forward node in `g` for input `x` (see `dynamicGeometry` for dynamic spatial dims). */
export const windowGeometry = (g: GradContext, x: string, kernel: readonly number[]): WindowGeometry => {
  const xs = g.shapeOf(x)
  const sp = kernel.length
  if (xs === null || xs.length !== sp + 2) return g.fail(`the rank of '${x}' is unknown or does not match the kernel`)
  const spatial = xs.slice(2)
  if (!spatial.every((d): d is number => typeof d === 'number')) return dynamicGeometry(g, x, kernel)
  const strides = g.attrInts('strides') ?? kernel.map(() => 1)
  const dilations = g.attrInts('dilations') ?? kernel.map(() => 1)
  const autoPad = g.attrString('auto_pad', 'NOTSET')
  const ceil = g.attrInt('ceil_mode', 0) === 1
  const given = g.attrInts('pads') ?? new Array<number>(2 * sp).fill(0)
  const begin: number[] = []
  const end: number[] = []
  const outputPadding: number[] = []
  let overlapping = false
  for (let i = 0; i < sp; i++) {
    const X = spatial[i] as number
    const s = strides[i] ?? 1
    const ek = ((kernel[i] ?? 1) - 1) * (dilations[i] ?? 1) + 1
    if (ek > s) overlapping = true
    let pb = given[i] ?? 0
    let pe = given[i + sp] ?? 0
    let out: number
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out = Math.ceil(X / s)
      const total = Math.max(0, (out - 1) * s + ek - X)
      pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2)
      pe = total - pb
    } else {
      if (autoPad === 'VALID') { pb = 0; pe = 0 }
      const span = X + pb + pe - ek
      out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1
      if (ceil && (out - 1) * s >= X + pb) out -= 1
    }
    let op = X - ((out - 1) * s + ek - pb - pe)
    if (op < 0) { pe += -op; op = 0 }
    begin.push(pb)
    end.push(pe)
    outputPadding.push(op)
  }
  return { kernel, strides, dilations, pads: [...begin, ...end], outputPadding, overlapping, crop: false }
}
