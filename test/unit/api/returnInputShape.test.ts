// returnInputShape: false returns one tensor (the coefficient matrix) even for several inputs,
// as Captum's Lime and KernelShap do, and as the option's documentation says.
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { KernelShap, Lime, float32, int64, toFloat64, type HostTensor } from '../../../src/index.js'

// F = 1·a0 + 2·a1 + 3·b0 per row, so each coefficient is (weight × value) exactly.
const linear = fromFunction(([a, b]) => {
  const n = a!.shape[0]!
  return float32([n, 1], Array.from({ length: n }, (_, i) => Number(a!.data[2 * i]) + 2 * Number(a!.data[2 * i + 1]) + 3 * Number(b!.data[i])))
})
const inputs = [float32([1, 2], [1, 1]), float32([1, 1], [1])]
const featureMask = [int64([1, 2], [0, 1]), int64([1, 1], [2])]

describe('returnInputShape: false with several inputs', () => {
  it('KernelShap returns the (1, M) coefficient matrix as one tensor', async () => {
    const r: HostTensor = await new KernelShap(linear).attribute(inputs, { target: 0, featureMask, exact: true, returnInputShape: false })
    expect(Array.isArray(r)).toBe(false)
    expect(r.shape).toEqual([1, 3])
    Array.from(toFloat64(r)).forEach((v, i) => expect(v).toBeCloseTo([1, 2, 3][i]!, 4))
  })

  it('Lime too; returnInputShape: true still mirrors the inputs', async () => {
    const r: HostTensor = await new Lime(linear, { interpretableModel: { _tag: 'linearRegression' } }).attribute(inputs, { target: 0, featureMask, nSamples: 50, returnInputShape: false })
    expect(Array.isArray(r)).toBe(false)
    expect(r.shape).toEqual([1, 3])
    const spread = await new KernelShap(linear).attribute(inputs, { target: 0, featureMask, exact: true })
    expect(spread.map((t) => t.shape)).toEqual([[1, 2], [1, 1]])
  })
})
