import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { ElemType, toProto, type Graph } from '../../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../../src/backends/onnx/graph/proto.js'
import type { OrtModule, OrtSession } from '../../../../src/backends/onnx/ort.js'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import { float32, int64 } from '../../../../src/core/tensor.js'
import { attribute, layerGradientXActivation, type AttributionError } from '../../../../src/index.js'
import { modelPath, oneHotSeed, randomTensor } from './fixtures.js'

/** onnxruntime-node itself must fit the injected-runtime interface (checked by the compiler). */
const nodeOrt: OrtModule = ort

/**
 * A wrapper around onnxruntime-node that numbers the sessions it creates and records every create,
 * run and release; `hold()` makes the runs that start next wait until its `go` is called (`stop`
 * ends the holding for later runs without letting the held ones go).
 */
const spyOrt = () => {
  const log: string[] = []
  let gate: Promise<void> | undefined
  let created = 0
  const module: OrtModule = {
    Tensor: nodeOrt.Tensor,
    InferenceSession: {
      create: async (bytes, options) => {
        const id = ++created
        log.push(`create ${id}`)
        const inner = await nodeOrt.InferenceSession.create(bytes, options)
        const session: OrtSession = {
          run: async (feeds) => {
            log.push(`run ${id}`)
            if (gate !== undefined) await gate
            const out = await inner.run(feeds)
            log.push(`ran ${id}`)
            return out
          },
          release: async () => {
            log.push(`release ${id}`)
            await inner.release()
          },
        }
        return session
      },
    },
  }
  const hold = (): { stop: () => void; go: () => void } => {
    let go = (): void => undefined
    gate = new Promise<void>((r) => { go = r })
    return { stop: () => { gate = undefined }, go }
  }
  return { module, log, hold, count: (what: string) => log.filter((l) => l.startsWith(`${what} `)).length }
}

const DISPOSED = 'this model was disposed; create a new one with fromOnnx'
const expectDisposed = (r: E.Either<AttributionError, unknown>): void => {
  expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
  if (E.isLeft(r)) expect(r.left.message).toBe(DISPOSED)
}

const open = async (m: string): Promise<OnnxRuntime> => {
  const r = await createOnnxRuntime(modelPath(m), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

describe('onnx session layer', () => {
  it('forward returns outputs and captured intermediates; inject replaces an intermediate', async () => {
    const r = await open('mlp')
    try {
      const x = randomTensor([2, 12], 9)
      const f = await r.forward({ input: x }, { capture: ['/relu2/Relu_output_0'] })
      if (E.isLeft(f)) throw new Error(f.left.message)
      expect(Object.keys(f.right).sort()).toEqual(['/relu2/Relu_output_0', 'logits'])
      expect(f.right['/relu2/Relu_output_0']!.shape).toEqual([2, 16])
      // injecting the captured value reproduces the output; injecting zeros gives fc3's bias
      const same = await r.forward({}, { inject: { '/relu2/Relu_output_0': f.right['/relu2/Relu_output_0']! } })
      expect(E.isRight(same) && same.right['logits']).toEqual(f.right['logits'])
      const zero = await r.forward({}, { inject: { '/relu2/Relu_output_0': float32([1, 16], new Array<number>(16).fill(0)) } })
      if (E.isLeft(zero)) throw new Error(zero.left.message)
      const bias = await r.forward({}, { inject: { '/relu2/Relu_output_0': float32([1, 16], new Array<number>(16).fill(0)) } })
      expect(E.isRight(bias) && bias.right['logits']!.data).toEqual(zero.right['logits']!.data)
      expect(Array.from(zero.right['logits']!.data as Float32Array).some((v) => v !== 0)).toBe(true)
    } finally {
      await r.dispose()
    }
  })

  it('vjp w.r.t. an injected layer matches the gradient w.r.t. the same layer without injection', async () => {
    const r = await open('mlp')
    try {
      const x = randomTensor([2, 12], 4)
      const seed = oneHotSeed(2, 3, [0, 2])
      const a = await r.vjp({ input: x }, { seeds: { logits: seed }, wrt: ['/relu1/Relu_output_0'], capture: ['/relu1/Relu_output_0'] })
      if (E.isLeft(a)) throw new Error(a.left.message)
      const b = await r.vjp({}, { seeds: { logits: seed }, wrt: ['/relu1/Relu_output_0'], inject: { '/relu1/Relu_output_0': a.right.outputs['/relu1/Relu_output_0']! } })
      if (E.isLeft(b)) throw new Error(b.left.message)
      expect(b.right.grads['/relu1/Relu_output_0']).toEqual(a.right.grads['/relu1/Relu_output_0'])
      expect(b.right.outputs['logits']).toEqual(a.right.outputs['logits'])
    } finally {
      await r.dispose()
    }
  })

  it('missing feeds, wrong dtype and wrong shape are typed errors naming the input', async () => {
    const r = await open('mlp')
    try {
      const missing = await r.forward({})
      expect(E.isLeft(missing) && missing.left._tag).toBe('MissingInput')
      if (E.isLeft(missing)) expect(missing.left.path).toContain('input')
      const missingVjp = await r.vjp({}, { seeds: { logits: oneHotSeed(1, 3, [0]) }, wrt: ['input'] })
      expect(E.isLeft(missingVjp) && missingVjp.left._tag).toBe('MissingInput')
      const dtype = await r.forward({ input: int64([1, 12], new Array<number>(12).fill(1)) })
      expect(E.isLeft(dtype) && dtype.left._tag).toBe('DTypeMismatch')
      const shape = await r.forward({ input: float32([1, 11], new Array<number>(11).fill(1)) })
      expect(E.isLeft(shape) && shape.left._tag).toBe('ShapeMismatch')
      const unknown = await r.forward({ input: randomTensor([1, 12], 1) }, { capture: ['nope'] })
      expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownTensor')
      // surplus feeds are dropped
      const extra = await r.forward({ input: randomTensor([1, 12], 1), other: randomTensor([1], 2) })
      expect(E.isRight(extra)).toBe(true)
    } finally {
      await r.dispose()
    }
  })

  it('ORT failures come back as BackendFailure with the ORT message', async () => {
    const graph: Graph = {
      name: 'bad',
      nodes: [{ name: 'n', opType: 'NoSuchOp', domain: '', inputs: ['x'], outputs: ['y'], attributes: [] }],
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: [1] }],
      outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: [1] }],
      initializers: new Map(),
      valueInfo: [],
      opsetImports: [{ domain: '', version: 17 }],
      irVersion: 8,
      modelExtras: {},
    }
    const r = await createOnnxRuntime(encodeModel(toProto(graph)))
    if (E.isLeft(r)) throw new Error(r.left.message)
    const f = await r.right.forward({ x: float32([1], [1]) })
    expect(E.isLeft(f) && f.left._tag).toBe('BackendFailure')
    if (E.isLeft(f)) expect(f.left.message).toMatch(/NoSuchOp/)
    await r.right.dispose()
  })

  it('a missing model file is a BadModel error', async () => {
    const r = await createOnnxRuntime('/nonexistent/model.onnx')
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
  })

  it('sessions are cached per configuration; dispose releases them and later calls are BadModel errors', async () => {
    const spy = spyOrt()
    const r0 = await createOnnxRuntime(modelPath('sigmoidnet'), { intraOpNumThreads: 1 }, spy.module)
    if (E.isLeft(r0)) throw new Error(r0.left.message)
    const r = r0.right
    const x = randomTensor([2, 6], 3)
    for (let i = 0; i < 4; i++) expect(E.isRight(await r.vjp({ input: x }, { seeds: { output: randomTensor([2, 1], i) }, wrt: ['input'] }))).toBe(true)
    expect(E.isRight(await r.forward({ input: x }))).toBe(true)
    expect(spy.count('create')).toBe(2)
    expect(spy.count('run')).toBe(5)
    await r.dispose()
    expect(spy.count('release')).toBe(2)
    expectDisposed(await r.forward({ input: x }))
    expectDisposed(await r.vjp({ input: x }, { seeds: { output: randomTensor([2, 1], 1) }, wrt: ['input'] }))
    // no session was made for those calls, and a second dispose releases nothing twice
    await r.dispose()
    expect(spy.count('create')).toBe(2)
    expect(spy.count('release')).toBe(2)
  })
})

describe('onnx session cache', () => {
  const captures = ['/relu1/Relu_output_0', '/relu2/Relu_output_0', '/fc1/Gemm_output_0']

  it('evicts the least recently used session past maxCachedSessions and releases it', async () => {
    const spy = spyOrt()
    const r0 = await createOnnxRuntime(modelPath('mlp'), { intraOpNumThreads: 1, maxCachedSessions: 2 }, spy.module)
    if (E.isLeft(r0)) throw new Error(r0.left.message)
    const r = r0.right
    const x = randomTensor([1, 12], 2)
    const cap = async (c: string): Promise<void> => { expect(E.isRight(await r.forward({ input: x }, { capture: [c] }))).toBe(true) }
    await cap(captures[0]!) // session 1
    await cap(captures[1]!) // session 2
    await cap(captures[0]!) // hit: 1 is now the most recent
    await cap(captures[2]!) // session 3 evicts 2
    await new Promise((res) => setTimeout(res, 0))
    expect(spy.log.filter((l) => l.startsWith('release'))).toEqual(['release 2'])
    expect(r.cacheStats().keys.map((k) => (JSON.parse(k) as { outputs: string[] }).outputs[1])).toEqual([captures[0], captures[2]])
    await r.dispose()
    expect(spy.log.filter((l) => l.startsWith('release')).sort()).toEqual(['release 1', 'release 2', 'release 3'])
  })

  it('the byte bound keeps one session when each is larger than the bound', async () => {
    const spy = spyOrt()
    const r0 = await createOnnxRuntime(modelPath('mlp'), { sessionCacheBytes: 1 }, spy.module)
    if (E.isLeft(r0)) throw new Error(r0.left.message)
    const r = r0.right
    const x = randomTensor([1, 12], 2)
    for (const c of captures) expect(E.isRight(await r.forward({ input: x }, { capture: [c] }))).toBe(true)
    expect(E.isRight(await r.forward({ input: x }, { capture: [captures[2]!] }))).toBe(true)
    await new Promise((res) => setTimeout(res, 0))
    expect(spy.count('create')).toBe(3)
    expect(spy.log.filter((l) => l.startsWith('release'))).toEqual(['release 1', 'release 2'])
    expect(r.cacheStats().keys).toHaveLength(1)
    await r.dispose()
  })

  it('a session evicted or disposed while a call runs on it is released only after that call', async () => {
    const spy = spyOrt()
    const r0 = await createOnnxRuntime(modelPath('mlp'), { maxCachedSessions: 1 }, spy.module)
    if (E.isLeft(r0)) throw new Error(r0.left.message)
    const r = r0.right
    const x = randomTensor([1, 12], 5)
    const held = spy.hold()
    const slow = r.forward({ input: x }, { capture: [captures[0]!] }) // session 1, held at run
    while (spy.count('run') < 1) await new Promise((res) => setTimeout(res, 1))
    held.stop() // later runs go through; the held one still waits
    const other = await r.forward({ input: x }, { capture: [captures[1]!] }) // session 2 evicts 1
    expect(E.isRight(other)).toBe(true)
    expect(spy.log).not.toContain('release 1')
    const both = r.forward({ input: x }, { capture: [captures[1]!] }) // a call on 2 in flight during dispose
    const disposed = r.dispose()
    await new Promise((res) => setTimeout(res, 20))
    expect(spy.log).not.toContain('release 1')
    held.go()
    const first = await slow
    expect(E.isRight(first)).toBe(true)
    expect(E.isRight(await both)).toBe(true)
    await disposed
    // each session is released after its last run finished
    for (const id of [1, 2]) {
      const lastRan = spy.log.lastIndexOf(`ran ${id}`)
      const released = spy.log.indexOf(`release ${id}`)
      expect(lastRan).toBeGreaterThanOrEqual(0)
      expect(released).toBeGreaterThan(lastRan)
    }
    expect(spy.count('release')).toBe(2)
  })

  it('the cache bounds are checked options', async () => {
    const bytes = new Uint8Array(readFileSync(modelPath('mlp')))
    const bad = await createOnnxRuntime(bytes, { sessionCacheBytes: -1, maxCachedSessions: 1.5 })
    expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidSpec')
    if (E.isLeft(bad) && bad.left._tag === 'InvalidSpec') {
      expect(bad.left.issues.map((i) => i.path.join('.')).sort()).toEqual(['session.maxCachedSessions', 'session.sessionCacheBytes'])
    }
    const good = await createOnnxRuntime(bytes, { sessionCacheBytes: 2 ** 20, maxCachedSessions: 3 })
    expect(E.isRight(good)).toBe(true)
    if (E.isRight(good)) await good.right.dispose()
  })
})

describe('fromOnnx with an injected runtime', () => {
  it('runs every session through the given module, from bytes', async () => {
    const spy = spyOrt()
    const m = await fromOnnx(new Uint8Array(readFileSync(modelPath('mlp'))), { ort: spy.module })
    if (E.isLeft(m)) throw new Error(m.left.message)
    const x = randomTensor([2, 12], 7)
    const f = await m.right.forward([x])()
    expect(E.isRight(f)).toBe(true)
    expect(spy.log).toEqual(['create 1', 'run 1', 'ran 1'])
    await m.right.dispose()
    expect(spy.log).toContain('release 1')
  })

  it('a disposed model: forward, vjp and attribute are BadModel errors and make no session', async () => {
    const spy = spyOrt()
    const m = await fromOnnx(modelPath('mlp'), { ort: spy.module })
    if (E.isLeft(m)) throw new Error(m.left.message)
    const model = m.right
    const x = randomTensor([1, 12], 8)
    const layer = '/relu1/Relu_output_0'
    expect(E.isRight(await attribute(layerGradientXActivation({ layer }), model, x, { target: 0 })())).toBe(true)
    await model.dispose()
    await model.dispose()
    const made = spy.count('create')
    expectDisposed(await model.forward([x])())
    expectDisposed(await model.vjp([x], { kind: 'linear', seed: () => E.right(oneHotSeed(1, 3, [0])) }, { wrt: { kind: 'inputs' } })())
    expectDisposed(await attribute(layerGradientXActivation({ layer }), model, x, { target: 0 })())
    expect(spy.count('create')).toBe(made)
    expect(spy.count('release')).toBe(made)
  })
})
