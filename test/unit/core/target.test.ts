import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { seedOf, type Target } from '../../../src/core/target.js'
import { float32 } from '../../../src/core/tensor.js'

const ids = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i)
const seed = (t: Target, shape: number[], rows = ids(shape[0]!), n = shape[0]!, scalar = true): number[] | string => {
  const r = seedOf(t, shape, rows, n, scalar)
  return E.isRight(r) ? Array.from(r.right.data) : `${r.left._tag}: ${r.left.message}`
}

describe('seedOf: every target form is a linear functional of the output', () => {
  it('null on a per-example scalar output', () => expect(seed(null, [2, 1])).toEqual([1, 1]))
  it('null on a multi-class output is a typed error that says what to pass', () =>
    expect(seed(null, [2, 3])).toMatch(/^BadTarget: .*pass a target/))
  it('an integer picks one column; negative counts from the end', () => {
    expect(seed(1, [2, 3])).toEqual([0, 1, 0, 0, 1, 0])
    expect(seed(-1, [1, 3])).toEqual([0, 0, 1])
  })
  it('out-of-range integers are typed errors', () => expect(seed(3, [2, 3])).toMatch(/^BadTarget: .*out of range/))
  it('a per-example list follows the rows, also when rows are expanded', () => {
    expect(seed([2, 0], [2, 3])).toEqual([0, 0, 1, 1, 0, 0])
    expect(seed([2, 0], [4, 3], Int32Array.from([0, 1, 0, 1]), 2)).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0])
  })
  it('a per-example list of the wrong length is an error', () => expect(seed([0], [2, 3])).toMatch(/one entry per example/))
  it('an index tuple addresses a multi-dim output', () => expect(seed({ index: [1, 0] }, [1, 2, 2])).toEqual([0, 0, 1, 0]))
  it('a partial index on a gradient method is rejected, allowed for forward-only use', () => {
    expect(seed(1, [1, 2, 2])).toMatch(/selects 2 output values/)
    expect(seed(1, [1, 2, 2], ids(1), 1, false)).toEqual([0, 0, 1, 1])
  })
  it('a mask weights output elements (regions, token sets)', () => {
    expect(seed({ mask: float32([3], [0.5, 0, 2]) }, [2, 3])).toEqual([0.5, 0, 2, 0.5, 0, 2])
    expect(seed({ mask: float32([2, 2], [1, 0, 0, 1]) }, [2, 2])).toEqual([1, 0, 0, 1])
    expect(seed({ mask: float32([4], [1, 1, 1, 1]) }, [2, 3])).toMatch(/mask has shape \[4\]/)
  })
})
