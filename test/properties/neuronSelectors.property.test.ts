// Linearity of neuron selections: IG is linear in the explained function, so NeuronIntegratedGradients
// of a slice (Captum: the sum of the block) equals the sum of NeuronIntegratedGradients over the
// slice's elements, each selected by an integer. The elements are computed here from how the slice
// is generated (start, step, count), not by clarus's slice code. Negative control: dropping one
// element with a non-negligible attribution breaks the equality. Reference MLP on ONNX, at relu2
// (16 units, after two nonlinear layers).
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { float32, NeuronIntegratedGradients, type HostTensor, type Model, type PySlice } from '../../src/index.js'
import { REFERENCE_DIR } from '../helpers/reference.js'

const LAYER = '/relu2/Relu_output_0'
const WIDTH = 16
let mlp: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
})
afterAll(async () => {
  await mlp.dispose()
})

/** A slice with its elements: `count` positions from `start` by `step`, written with a negative start or an open stop at random. */
const sliceArb = fc.record({
  start: fc.integer({ min: 0, max: WIDTH - 1 }),
  step: fc.integer({ min: 1, max: 3 }),
  count: fc.integer({ min: 2, max: 4 }),
  negativeStart: fc.boolean(),
  openStop: fc.boolean(),
}).filter((s) => s.start + s.step * (s.count - 1) < WIDTH).map((s) => {
  const elements = Array.from({ length: s.count }, (_, i) => s.start + i * s.step)
  const last = elements[elements.length - 1]!
  // an open stop runs to the end, so it is only the same slice when no further element fits
  const open = s.openStop && last + s.step >= WIDTH
  const slice: PySlice = { start: s.negativeStart ? s.start - WIDTH : s.start, ...(open ? {} : { stop: last + 1 }), step: s.step }
  return { slice, elements }
})
const inputArb = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 12, maxLength: 12 })

const OPTS = { nSteps: 8 }
const nig = async (x: HostTensor, neuronSelector: number | readonly (number | PySlice)[]): Promise<Float64Array> =>
  Float64Array.from((await new NeuronIntegratedGradients(mlp, LAYER).attribute(x, { ...OPTS, neuronSelector })).data as Float32Array)
const sum = (parts: readonly Float64Array[]): Float64Array => parts.reduce((acc, p) => acc.map((v, i) => v + p[i]!), new Float64Array(12))
const agree = (a: Float64Array, b: Float64Array): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)))

describe('NeuronIntegratedGradients is linear in the selection', () => {
  it('a slice equals the sum over its elements; dropping a contributing element does not', async () => {
    let controls = 0
    await fc.assert(
      fc.asyncProperty(sliceArb, inputArb, async ({ slice, elements }, xs) => {
        const x = float32([1, 12], xs)
        const whole = await nig(x, [slice])
        const parts = await Promise.all(elements.map((j) => nig(x, [j])))
        expect(agree(whole, sum(parts))).toBe(true)
        // negative control: without the last element the sum must differ, where that element contributes
        const lastPart = parts[parts.length - 1]!
        if (lastPart.some((v) => Math.abs(v) > 1e-3)) {
          controls++
          expect(agree(whole, sum(parts.slice(0, -1)))).toBe(false)
        }
      }),
      { seed: 20261201, numRuns: 12 },
    )
    // the control must actually have run
    expect(controls).toBeGreaterThan(0)
  })
})
