// Issue 8, defect 15: a forward function that writes to its arguments must not change the
// caller's tensors, nor the rows clarus keeps using.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { FeatureAblation, attribute, featureAblation, float32, type HostTensor } from '../../../src/index.js'

const rowSums = (x: HostTensor): HostTensor => {
  const n = x.shape[0]!
  const m = x.data.length / n
  return float32([n, 1], Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * m, (i + 1) * m) as Float32Array).reduce((a, b) => a + b, 0)))
}

describe('fromFunction', () => {
  it('passes copies: a function that scribbles over its inputs leaves the caller’s tensor alone', async () => {
    let seen: HostTensor | undefined
    const model = fromFunction(([x]) => {
      seen = x
      const out = rowSums(x!)
      ;(x!.data as Float32Array).fill(-1)
      return out
    })
    const input = float32([1, 3], [1, 2, 3])
    const r = await model.forward([input])()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Array.from(input.data as Float32Array)).toEqual([1, 2, 3])
    expect(seen).not.toBe(input)
    expect(Array.from((r.right.output as HostTensor).data as Float32Array)).toEqual([6])
  })
  it('attributions are unaffected by a mutating function, and the user’s input is unchanged', async () => {
    const mutating = fromFunction(([x]) => {
      const out = rowSums(x!)
      ;(x!.data as Float32Array).fill(100)
      return out
    })
    const input = float32([1, 3], [1, 2, 3])
    const r = await attribute(featureAblation(), mutating, input, { target: 0 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    // ablating feature i to the zero baseline removes x_i from the sum
    expect(Array.from((r.right.attributions[0] as HostTensor).data as Float32Array)).toEqual([1, 2, 3])
    expect(Array.from(input.data as Float32Array)).toEqual([1, 2, 3])
    const viaFacade = await new FeatureAblation(mutating).attribute(input, { target: 0 })
    expect(Array.from(viaFacade.data as Float32Array)).toEqual([1, 2, 3])
    expect(Array.from(input.data as Float32Array)).toEqual([1, 2, 3])
  })
})
