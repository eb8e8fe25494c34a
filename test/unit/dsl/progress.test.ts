// Progress is reported once per model call (per chunk), for every method in METHODS: `done`
// counts model rows and never decreases, `total` is fixed from the start, and the last report has
// done === total. Chunks are kept small (one path step or one perturbation per model call) so that
// each method makes several calls; a negative control checks the invariant catches a stalled run.
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { METHODS, attribute, float32, type HostTensor, type Model } from '../../../src/index.js'
import type { Progress } from '../../../src/dsl/flow.js'
import { MLP_CALL_DATA, MLP_METHOD_OPTIONS } from '../../helpers/methodOptions.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

let mlp: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(`${REFERENCE_DIR}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
})
afterAll(async () => {
  await mlp.dispose()
})

const N = 2
const x = float32([N, 12], Array.from({ length: N * 12 }, (_, i) => Math.sin(i + 1)))

/** The model, counting its calls and the rows they evaluate. */
const counted = <T>(m: Model<T>): { model: Model<T>; calls: () => number; rows: () => number } => {
  let calls = 0
  let rows = 0
  const note = (xs: readonly T[]): void => {
    calls++
    rows += m.backend.shapeOf(xs[0]!)[0] ?? 1
  }
  return {
    model: { ...m, forward: (xs, o) => (note(xs), m.forward(xs, o)), vjp: (xs, s, o) => (note(xs), m.vjp(xs, s, o)) },
    calls: () => calls,
    rows: () => rows,
  }
}

/**
 * What is wrong with a run's progress reports (empty when they are as promised). The total is fixed
 * from report `fixedFrom` on (0: from the start; layer perturbation learns the layer's size from the
 * model calls before its expansion and revises the total then).
 */
const progressProblems = (seen: readonly Progress[], modelRows: number, calls: number, fixedFrom = 0): string[] => {
  const out: string[] = []
  if (seen.length === 0) return ['no progress reported']
  const total = seen.at(-1)!.total
  if (seen.slice(fixedFrom).some((p) => p.total !== total)) out.push(`total changed: ${seen.map((p) => p.total).join(', ')}`)
  if (seen.some((p) => p.done > p.total)) out.push(`done past total: ${seen.map((p) => `${p.done}/${p.total}`).join(', ')}`)
  if (seen.some((p, i) => i > 0 && p.done <= seen[i - 1]!.done)) out.push(`done not increasing: ${seen.map((p) => p.done).join(', ')}`)
  if (seen.at(-1)!.done !== total) out.push(`ends at ${seen.at(-1)!.done} of ${total}`)
  if (seen.at(-1)!.done !== modelRows) out.push(`last done ${seen.at(-1)!.done} but ${modelRows} model rows`)
  if (seen.length !== calls) out.push(`${seen.length} reports for ${calls} model calls`)
  return out
}

describe('progress', () => {
  for (const name of Object.keys(METHODS)) {
    it(`${name}: one report per model call, monotone, ending at the total`, async () => {
      const seen: Progress[] = []
      const c = counted(mlp)
      const r = await attribute(METHODS[name]!.build(MLP_METHOD_OPTIONS[name] ?? {}), c.model, x, {
        target: 1, internalBatchSize: N, perturbationsPerEval: 1, ...MLP_CALL_DATA[name], onProgress: (p) => seen.push(p),
      })()
      if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
      // layer perturbation: F(x) and the layer's value come first, then the total is known
      const fixedFrom = ['layerFeatureAblation', 'layerFeaturePermutation'].includes(name) ? 2 : 0
      expect(progressProblems(seen, c.rows(), c.calls(), fixedFrom)).toEqual([])
      expect(seen.length).toBeGreaterThan(fixedFrom)
    })
  }

  it('catches progress that stalls, runs backwards or stops short (negative control)', () => {
    // one report for three model calls (the symptom of one report per expansion instead of per call)
    expect(progressProblems([{ done: 1, total: 7 }, { done: 7, total: 7 }], 7, 3)).toEqual(['2 reports for 3 model calls'])
    expect(progressProblems([{ done: 3, total: 7 }, { done: 2, total: 7 }, { done: 7, total: 7 }], 7, 3)).toEqual(['done not increasing: 3, 2, 7'])
    expect(progressProblems([{ done: 3, total: 7 }, { done: 5, total: 7 }], 5, 2)).toEqual(['ends at 5 of 7'])
    expect(progressProblems([{ done: 3, total: 3 }, { done: 5, total: 5 }], 5, 2)).toEqual(['total changed: 3, 5'])
  })

  it('revises a total the plan got wrong and still ends at done = total (layer perturbation)', async () => {
    const seen: Progress[] = []
    const r = await attribute(METHODS.layerFeatureAblation!.build({ layer: '/relu1/Relu_output_0' }), mlp, x, { target: 1, perturbationsPerEval: 1, onProgress: (p) => seen.push(p) })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    // F(x) and the layer value (2 × 2 rows), then one call per neuron of the layer
    expect(seen.slice(2).every((p) => p.total === seen.at(-1)!.total)).toBe(true)
    expect(seen.at(-1)).toEqual({ done: r.right.meta.modelRows, total: r.right.meta.modelRows })
  })
})
