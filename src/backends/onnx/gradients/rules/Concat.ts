import type { GradRule } from '../rule.js'

/** Concat: each input's gradient is its slice of dy along the axis (static offsets when known, else Shape-based). */
export const Concat: GradRule = {
  opType: 'Concat',
  domain: '',
  opsets: [4, 11, 13],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const rank = g.rankOf(g.input(0))
    const axis = g.attrInt('axis', 0) < 0 ? g.attrInt('axis', 0) + rank : g.attrInt('axis', 0)
    if (g.opset < 10) g.fail('Concat gradients need opset >= 10 (Slice with inputs)')
    const sizes = g.fwd.inputs.map((x) => g.shapeOf(x)?.[axis] ?? null)
    const out: Partial<Record<number, string>> = {}
    const axes = g.int64([axis])
    if (sizes.every((s): s is number => typeof s === 'number')) {
      let off = 0
      sizes.forEach((s, i) => {
        if (g.isGradRequired(i)) out[i] = g.node('Slice', [dy, g.int64([off]), g.int64([off + s]), axes])
        off += s
      })
      return out
    }
    let start = g.int64([0])
    g.fwd.inputs.forEach((x, i) => {
      const len = g.node('Slice', [g.node('Shape', [x]), g.int64([axis]), g.int64([axis + 1])])
      const end = g.node('Add', [start, len])
      if (g.isGradRequired(i)) out[i] = g.node('Slice', [dy, start, end, axes])
      start = end
    })
    return out
  },
}
