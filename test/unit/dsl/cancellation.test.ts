// Cancellation and timeouts: a long tfjs run yields to the event loop, an abort lands within one
// chunk, a model call that never settles cannot keep a cancelled call pending, nothing leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { attribute, featureAblation, float32, integratedGradients } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const D = 256
// A dense tanh net big enough that a long IG run takes seconds on the cpu backend.
const w1 = tf.randomNormal([D, D], 0, 0.1, 'float32', 1)
const w2 = tf.randomNormal([D, 4], 0, 0.1, 'float32', 2)
const net = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(tf.tanh(tf.matMul(x as tf.Tensor2D, w1)), w2)))
const x = float32([4, D], Array.from({ length: 4 * D }, (_, i) => Math.cos(i)))

describe('cancellation on tfjs', () => {
  it('an abort 300 ms into a long run returns Cancelled within one chunk; timers keep ticking; no tensor leaks', async () => {
    const before = tf.memory().numTensors
    const ctl = new AbortController()
    let ticks = 0
    let timer: ReturnType<typeof setInterval> | undefined
    let rowsAtAbort = -1
    let lastRows = 0
    let t0 = 0
    let rowsAtStart = 0
    const r = await attribute(integratedGradients({ nSteps: 5000 }), net, x, {
      target: 0,
      internalBatchSize: 32,
      signal: ctl.signal,
      onProgress: (p) => {
        lastRows = p.done
        if (timer !== undefined) return
        // The first chunk warms tfjs up; measure from the second on.
        t0 = Date.now()
        rowsAtStart = p.done
        timer = setInterval(() => ticks++, 20)
        setTimeout(() => {
          rowsAtAbort = lastRows
          ctl.abort()
        }, 300)
      },
    })()
    const elapsed = Date.now() - t0
    clearInterval(timer)
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
    // The run stopped soon after the abort: at most a couple of 32-row chunks ran past it.
    expect(rowsAtAbort).toBeGreaterThan(0)
    expect(lastRows - rowsAtAbort).toBeLessThanOrEqual(64)
    expect(lastRows).toBeLessThan(5000 * 4)
    // The event loop ran during the computation: the interval fired between chunks (it cannot
    // fire inside one tfjs call, and before the fix it never fired at all).
    const chunksRun = (lastRows - rowsAtStart) / 32
    expect(ticks).toBeGreaterThanOrEqual(2)
    expect(ticks).toBeGreaterThanOrEqual(Math.min(Math.floor(chunksRun / 3), Math.floor(elapsed / 20 / 3)))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('timeoutMs stops a long run with Cancelled naming the option', async () => {
    const before = tf.memory().numTensors
    const r = await attribute(integratedGradients({ nSteps: 5000 }), net, x, { target: 0, internalBatchSize: 32, timeoutMs: 200 })()
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
    expect(E.isLeft(r) && r.left.message).toMatch(/timeoutMs = 200/)
    expect(E.isLeft(r) && r.left.path).toEqual(['timeoutMs'])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a completed run is unaffected by a timeout it did not reach', async () => {
    const plain = await attribute(integratedGradients({ nSteps: 8 }), net, x, { target: 1 })()
    const timed = await attribute(integratedGradients({ nSteps: 8 }), net, x, { target: 1, timeoutMs: 60_000 })()
    if (E.isLeft(plain) || E.isLeft(timed)) throw new Error('expected results')
    expect(Array.from(timed.right.attributions[0]!.data as Float32Array)).toEqual(Array.from(plain.right.attributions[0]!.data as Float32Array))
  })
})

describe('a model call that never settles', () => {
  const hanging = fromFunction(() => new Promise(() => undefined))
  const y = float32([2, 3], [1, 2, 3, 4, 5, 6])

  it('is stopped by timeoutMs', async () => {
    const r = await attribute(featureAblation(), hanging, y, { target: 0, timeoutMs: 100 })()
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
  })

  it('is stopped by an abort', async () => {
    const ctl = new AbortController()
    setTimeout(() => ctl.abort(), 50)
    const r = await attribute(featureAblation(), hanging, y, { target: 0, signal: ctl.signal })()
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
  })

  it('an already aborted signal returns at once', async () => {
    const ctl = new AbortController()
    ctl.abort()
    const r = await attribute(featureAblation(), hanging, y, { target: 0, signal: ctl.signal })()
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
  })

  it('a bad timeoutMs is an InvalidSpec', async () => {
    const r = await attribute(featureAblation(), hanging, y, { target: 0, timeoutMs: -5 })()
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidSpec')
  })
})
