// The interpreter's own duties: progress, cancellation, chunk planning, disposal and error capture.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { attribute, float32, integratedGradients, pipeline, runPipeline, stage, type Progress } from '../../../src/index.js'
import { basicMultiLayer } from '../../helpers/basicModels.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
const model = fromTfjs(basicMultiLayer)

describe('runPipeline', () => {
  it('reports progress in model rows, ending at the planned total', async () => {
    const seen: Progress[] = []
    const r = await attribute(integratedGradients({ nSteps: 10, returnConvergenceDelta: true }), model, x, { target: 0, internalBatchSize: 6, onProgress: (p) => seen.push(p) })()
    expect(E.isRight(r)).toBe(true)
    // 10 steps × 2 examples in chunks of 3 steps, then 2 × 2 rows for the delta's two forwards
    expect(seen.map((p) => p.done)).toEqual([6, 12, 18, 20, 22, 24])
    expect(seen.every((p) => p.total === 24)).toBe(true)
    expect(E.isRight(r) && [r.right.meta.modelRows, r.right.meta.chunks]).toEqual([24, 4])
  })

  it('stops with a Cancelled error when its AbortSignal fires, and leaks nothing', async () => {
    const ctl = new AbortController()
    const before = tf.memory().numTensors
    const r = await attribute(integratedGradients({ nSteps: 50 }), model, x, { target: 0, internalBatchSize: 2, signal: ctl.signal, onProgress: (p) => p.done >= 4 && ctl.abort() })()
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('plans chunks from the memory budget when no internalBatchSize is given', async () => {
    const big = await attribute(integratedGradients({ nSteps: 16 }), model, x, { target: 0 })()
    const small = await attribute(integratedGradients({ nSteps: 16 }), model, x, { target: 0, memoryBudgetBytes: 2 * 3 * 4 * 64 * 4 })()
    expect(E.isRight(big) && big.right.meta.chunks).toBe(1)
    expect(E.isRight(small) && small.right.meta.chunks).toBe(4)
  })

  it('turns a throwing model into a typed BackendFailure', async () => {
    const broken = fromTfjs(() => {
      throw new Error('boom')
    })
    const r = await runPipeline(pipeline('S', stage.grad()), broken, { inputs: [tf.tensor2d([[1]])], target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('BackendFailure')
    expect(E.isLeft(r) && r.left.message).toMatch(/boom/)
  })

  it('rejects a hand-made pipeline that does not decode, before running anything', async () => {
    const r = await runPipeline({ _tag: 'Pipeline', name: 'bad', stages: [{ _tag: 'quadrature' }] }, model, { inputs: [tf.tensor2d([[1, 2, 3]])] })()
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })
})
