// The host path of `perturb` builds each perturbed copy in one pass. It must give the same bits as
// the generic path (gather the rows, x·(1 − A) + r·A with the backend's ops), including -0, NaN and
// ±Infinity, integer and boolean inputs, per-example mask rows and replacement rows that differ
// from the example rows (permutations, background rows).
import { describe, expect, it } from 'vitest'
import { hostBackend as b } from '../../../../src/backends/host/hostBackend.js'
import type { DType, HostTensor } from '../../../../src/core/tensor.js'
import { hostCopies } from '../../../../src/dsl/stages/perturb.js'

const seeded = (seed: number) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 2 ** 32
}

/** The generic path of perturb.ts, with the host backend's ops. */
const generic = (x: HostTensor, repl: HostTensor, replRows: Int32Array, rowExample: Int32Array, K: number, D: number, rows: number, positions: readonly Int32Array[]): HostTensor => {
  const R = rowExample.length
  const work: DType = x.dtype === 'bool' ? 'int32' : x.dtype
  const make = (fill: number) => (work === 'int64' ? new BigInt64Array(K * R * D).fill(BigInt(fill)) : work === 'int32' ? new Int32Array(K * R * D).fill(fill) : new Float32Array(K * R * D).fill(fill))
  const A = make(0)
  const keep = make(1)
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) {
    const mr = rows === 1 ? 0 : rowExample[r]!
    for (const pos of positions[k]!) {
      if (pos < mr * D || pos >= (mr + 1) * D) continue
      const at = (k * R + r) * D + pos - mr * D
      if (A instanceof BigInt64Array) { A[at] = 1n; (keep as BigInt64Array)[at] = 0n } else { A[at] = 1; keep[at] = 0 }
    }
  }
  const gathered = new Int32Array(K * R)
  for (let k = 0; k < K; k++) gathered.set(rowExample, k * R)
  const shape = [K * R, ...x.shape.slice(1)]
  const asWork = (t: HostTensor) => (x.dtype === 'bool' ? b.cast(t, 'int32') : t)
  const out = b.add(b.mul(asWork(b.gatherRows(x, gathered)), { dtype: work, shape, data: keep } as HostTensor), b.mul(asWork(b.gatherRows(repl, replRows)), { dtype: work, shape, data: A } as HostTensor))
  return out.dtype === x.dtype ? out : b.cast(out, x.dtype)
}

const tensor = (dtype: DType, shape: number[], rnd: () => number, special: boolean): HostTensor => {
  const n = shape.reduce((p, d) => p * d, 1)
  const row = n / shape[0]!
  // even rows hold -0, NaN and ±Infinity (the element-by-element path), odd rows none (whole-row copies)
  const specials = [-0, 0, Number.NaN, Infinity, -Infinity, 1e-45, -3.5]
  const v = (i: number) => (special && Math.floor(i / row) % 2 === 0 && i % 5 === 0 ? specials[i % specials.length]! : (rnd() - 0.5) * 8)
  switch (dtype) {
    case 'float32': return { dtype, shape, data: Float32Array.from({ length: n }, (_, i) => v(i)) }
    case 'int32': return { dtype, shape, data: Int32Array.from({ length: n }, () => Math.floor((rnd() - 0.5) * 2000)) }
    case 'int64': return { dtype, shape, data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor((rnd() - 0.5) * 2e6))) }
    case 'bool': return { dtype, shape, data: Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)) }
  }
}

const bits = (t: HostTensor): string[] =>
  t.dtype === 'float32' ? Array.from(new Uint32Array((t.data as Float32Array).slice().buffer), (u, i) => (Number.isNaN((t.data as Float32Array)[i]) ? 'NaN' : u.toString(16))) : Array.from(t.data as ArrayLike<unknown>, String)

describe('perturb: host copies', () => {
  it.each(['float32', 'int32', 'int64', 'bool'] as const)('equal the generic path bit for bit (%s)', (dtype) => {
    const rnd = seeded(7)
    for (const { N, D, rows, repl } of [{ N: 2, D: 12, rows: 1, repl: 'baseline' }, { N: 3, D: 7, rows: 3, repl: 'baseline' }, { N: 3, D: 9, rows: 1, repl: 'permutation' }, { N: 2, D: 5, rows: 2, repl: 'background' }]) {
      const x = tensor(dtype, [N, D], rnd, true)
      const B = repl === 'background' ? 4 : N
      const r = repl === 'permutation' ? x : tensor(dtype, [B, D], rnd, true)
      const K = 5
      const positions = Array.from({ length: K }, () => Int32Array.from(new Set(Array.from({ length: Math.floor(rnd() * rows * D) }, () => Math.floor(rnd() * rows * D)))).sort())
      // rows of the batch in this chunk (a subset, in another order)
      const rowExample = Int32Array.from({ length: N }, (_, i) => N - 1 - i)
      const replRows = Int32Array.from({ length: K * N }, (_, i) => (repl === 'baseline' ? rowExample[i % N]! : Math.floor(rnd() * B)))
      const fast = hostCopies(x, r, replRows, rowExample, K, D, rows, positions)
      const slow = generic(x, r, replRows, rowExample, K, D, rows, positions)
      expect(fast.shape).toEqual(slow.shape)
      expect(fast.dtype).toBe(slow.dtype)
      expect(bits(fast)).toEqual(bits(slow))
    }
  })
})
