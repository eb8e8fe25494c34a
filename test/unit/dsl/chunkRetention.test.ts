// A chunked run must not keep what its earlier chunks made: once a chunk is lifted to its reducer's
// partial, its expanded rows, gradients and model outputs are garbage. Regression test for the
// interpreter racing every step against one long-lived "stopped" promise, which kept each step's
// result reachable until the run ended (IG with 2990 steps on resnet18 grew to ≈ 6 GiB).
//
// Every model call is hooked: it forces a full garbage collection (in a fresh macrotask, so no
// WeakRef is still pinned by the current job) and counts how many of the arrays that earlier calls
// received or returned are still alive. No timing is involved.
import * as path from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { attribute, featureAblation, float32, integratedGradients, type HostTensor, type Model } from '../../../src/index.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Arrays seen by earlier model calls, held weakly, and the most of them ever found alive at once. */
const tracker = () => {
  const refs: WeakRef<object>[] = []
  let maxAlive = 0
  let calls = 0
  return {
    /** Collects garbage and counts the arrays of earlier calls still reachable. */
    check: async (): Promise<void> => {
      await macrotask()
      gc()
      const alive = refs.filter((r) => r.deref() !== undefined).length
      maxAlive = Math.max(maxAlive, alive)
      calls++
    },
    see: (ts: readonly HostTensor[]): void => {
      for (const t of ts) refs.push(new WeakRef(t.data))
    },
    get maxAlive() {
      return maxAlive
    },
    get calls() {
      return calls
    },
    get seen() {
      return refs.length
    },
  }
}

/** `m` with every model call hooked: arrays of earlier calls are counted, this call's are recorded. */
const hooked = (m: Model<HostTensor>, t: ReturnType<typeof tracker>): Model<HostTensor> => ({
  backend: m.backend,
  signature: m.signature,
  forward: (inputs, options) => async () => {
    await t.check()
    const r = await m.forward(inputs, options)()
    t.see(inputs)
    if (E.isRight(r)) t.see([r.right.output])
    return r
  },
  vjp: (inputs, selector, options) => async () => {
    await t.check()
    const r = await m.vjp(inputs, selector, options)()
    t.see(inputs)
    if (E.isRight(r)) t.see([r.right.output, r.right.value, ...r.right.grads])
    return r
  },
  dispose: () => m.dispose(),
})

describe('chunked runs keep no chunk alive after its partial is taken', () => {
  let mlp: Model<HostTensor>
  beforeAll(async () => {
    const m = await fromOnnx(path.join(REFERENCE_DIR, 'models', 'mlp.onnx'))
    if (E.isLeft(m)) throw new Error(m.left.message)
    mlp = m.right
  })
  afterAll(async () => {
    await mlp.dispose()
  })

  it('IntegratedGradients (quadrature), one step per chunk on ONNX: earlier chunks are collected', async () => {
    const t = tracker()
    const features = mlp.signature.inputs[0]!.shape[1]
    expect(typeof features).toBe('number')
    const n = features as number
    const x = float32([1, n], Array.from({ length: n }, (_, i) => Math.sin(i + 1)))
    const steps = 40
    const r = await attribute(integratedGradients({ nSteps: steps }), hooked(mlp, t), x, { target: 0, internalBatchSize: 1 })()
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) expect(r.right.meta.chunks).toBe(steps)
    expect(t.calls).toBe(steps)
    // each call records 5 arrays (input rows, output, value, gradient); a leak keeps them all
    expect(t.seen).toBeGreaterThan(4 * (steps - 1))
    // what the run legitimately holds (its inputs, the previous call still being unwound) is a
    // handful, whatever the number of chunks
    expect(t.maxAlive, `arrays of earlier calls alive at once: ${t.maxAlive}`).toBeLessThanOrEqual(10)
  })

  it('FeatureAblation (diff), one copy per chunk on a function model: earlier outputs are collected', async () => {
    const t = tracker()
    const model = hooked(fromFunction(([x]) => float32([x!.shape[0]!, 2], Array.from({ length: 2 * x!.shape[0]! }, (_, i) => i + Number(x!.data[0])))), t)
    const n = 40
    const x = float32([1, n], Array.from({ length: n }, (_, i) => Math.cos(i)))
    const r = await attribute(featureAblation(), model, x, { target: 1, perturbationsPerEval: 1 })()
    expect(E.isRight(r)).toBe(true)
    expect(t.calls).toBeGreaterThan(n)
    // each call records its perturbed rows and its output
    expect(t.seen).toBeGreaterThan(2 * n)
    expect(t.maxAlive, `arrays of earlier calls alive at once: ${t.maxAlive}`).toBeLessThanOrEqual(10)
  })
})
