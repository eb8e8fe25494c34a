// The explanation service over real HTTP on loopback: every answer is checked against a direct
// `attribute` call on the same model file (bit for bit), and every refusal by its status and the
// path of the field at fault.
import * as http from 'node:http'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attribute, type CallOptions } from '../../../src/api/attribute.js'
import { loadModel, type LoadedModel } from '../../../src/cli/models.js'
import { buildMethod, methodRows } from '../../../src/cli/spec.js'
import type { Model } from '../../../src/core/backend.js'
import { ClarusError } from '../../../src/core/errors.js'
import type { HostTensor } from '../../../src/core/tensor.js'
import type { Pipeline } from '../../../src/dsl/spec.js'
import { createServer } from '../../../src/serve/server.js'
import { REFERENCE_DIR, right } from '../../helpers/reference.js'

const root = mkdtempSync(path.join(tmpdir(), 'clarus-serve-'))
const modelsDir = path.join(root, 'models')
const MLP = path.join(REFERENCE_DIR, 'models', 'mlp.onnx')

interface Running {
  readonly app: FastifyInstance
  readonly url: string
}
const servers: Running[] = []
const start = async (options: Partial<Parameters<typeof createServer>[0]> = {}): Promise<Running> => {
  const app = createServer({ models: modelsDir, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const r = { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
  servers.push(r)
  return r
}

let main: Running
let direct: LoadedModel

beforeAll(async () => {
  mkdirSync(path.join(modelsDir, 'tabular'), { recursive: true })
  copyFileSync(MLP, path.join(modelsDir, 'mlp.onnx'))
  copyFileSync(MLP, path.join(modelsDir, 'tabular', 'mlp.onnx'))
  writeFileSync(path.join(root, 'secret.onnx'), 'not for clients')
  writeFileSync(path.join(modelsDir, 'notes.txt'), 'a text file')
  writeFileSync(path.join(modelsDir, 'broken.onnx'), 'not an onnx model')
  symlinkSync(path.join(root, 'secret.onnx'), path.join(modelsDir, 'escape.onnx'))
  main = await start({ maxConcurrent: 2, maxSteps: 64, maxSamples: 64, maxPerturbations: 100, bodyLimitBytes: 64 * 1024 })
  direct = await loadModel(MLP)
})

afterAll(async () => {
  for (const s of servers) await s.app.close()
  await direct?.release()
  rmSync(root, { recursive: true, force: true })
})

/** One example row of the mlp (12 features), different for each `k`. */
const row = (k: number): number[] => Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(k * 1.3 + i * 0.7) * 1.5))
const tensor = (data: number[], shape: number[] = [1, data.length]): { dtype: 'float32'; shape: number[]; data: number[] } => ({ dtype: 'float32', shape, data })
const host = (data: number[], shape: number[] = [1, data.length]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(data) })

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown> & {
    readonly attributions?: { dtype: string; shape: number[]; data: number[] }[]
    readonly delta?: { data: number[] }
    readonly issues?: { path: string; message: string }[]
    readonly error?: string
    readonly path?: string
    readonly report?: string
  }
  readonly headers: Headers
}

const post = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
  const r = await fetch(`${url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: r.status, body: (await r.json()) as Answer['body'], headers: r.headers }
}

/** The same attribution computed in-process, with the CLI's spec resolution. */
const expected = async (pipeline: Pipeline, x: HostTensor, call: CallOptions<unknown>): Promise<{ attributions: number[][]; delta?: number[] }> => {
  const r = right(await attribute(pipeline, direct.model as Model<unknown>, [x], call)())
  return { attributions: r.attributions.map((a) => Array.from(a.data as Float32Array)), ...(r.delta !== undefined ? { delta: Array.from(r.delta.data as Float32Array) } : {}) }
}

const paths = (a: Answer): string[] => (a.body.issues ?? []).map((i) => i.path).sort()

describe('POST /explain: answers equal a direct attribute call', () => {
  it('IntegratedGradients by method name, with its convergence delta', async () => {
    const x = row(1)
    const a = await post(main.url, { model: 'mlp.onnx', spec: { method: 'integratedGradients', options: { nSteps: 16 } }, inputs: [tensor(x)], target: 2 })
    expect(a.status).toBe(200)
    const want = await expected(buildMethod('integratedGradients', { nSteps: 16 }).pipeline, host(x), { target: 2 })
    expect(a.body.attributions!.map((t) => t.data)).toEqual(want.attributions)
    expect(a.body.attributions![0]!.shape).toEqual([1, 12])
    expect(a.body.delta!.data).toEqual(want.delta)
    expect(a.body.meta).toMatchObject({ method: 'IntegratedGradients', backend: expect.any(String) })
    // Negative control: another target gives another answer, so the equality above is not vacuous.
    const other = await expected(buildMethod('integratedGradients', { nSteps: 16 }).pipeline, host(x), { target: 0 })
    expect(other.attributions).not.toEqual(want.attributions)
  })

  it('FeatureAblation with a feature mask and baselines, and Occlusion', async () => {
    const x = row(2)
    const mask = { dtype: 'int32', shape: [1, 12], data: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5] }
    const a = await post(main.url, { model: 'tabular/mlp.onnx', spec: { method: 'featureAblation' }, inputs: [tensor(x)], target: 1, featureMask: mask, baselines: 0.25 })
    expect(a.status).toBe(200)
    const want = await expected(buildMethod('featureAblation', {}).pipeline, host(x), {
      target: 1, baselines: 0.25, featureMask: [{ dtype: 'int32', shape: [1, 12], data: Int32Array.from(mask.data) }],
    })
    expect(a.body.attributions![0]!.data).toEqual(want.attributions[0])
    // Grouped features share one value: the mask reached the run.
    expect(a.body.attributions![0]!.data[0]).toBe(a.body.attributions![0]!.data[1])

    const o = await post(main.url, { model: 'mlp.onnx', spec: { method: 'occlusion', options: { slidingWindowShapes: [3], strides: 2 } }, inputs: [tensor(x)], target: 0 })
    expect(o.status).toBe(200)
    const wantO = await expected(buildMethod('occlusion', { slidingWindowShapes: [3], strides: 2 }).pipeline, host(x), { target: 0 })
    expect(o.body.attributions![0]!.data).toEqual(wantO.attributions[0])
  })

  it('a whole pipeline as the spec, and an HTML report when asked', async () => {
    const x = row(3)
    const pipeline = buildMethod('integratedGradients', { nSteps: 8, method: 'riemann_trapezoid' }).pipeline
    const a = await post(main.url, { model: 'mlp.onnx', spec: JSON.parse(JSON.stringify(pipeline)) as unknown, inputs: [tensor(x)], target: 1, report: true })
    expect(a.status).toBe(200)
    const want = await expected(pipeline, host(x), { target: 1 })
    expect(a.body.attributions![0]!.data).toEqual(want.attributions[0])
    expect(a.body.report).toMatch(/^<!DOCTYPE html>/i)
    expect(a.body.report).toContain('IntegratedGradients on mlp.onnx')
    expect(a.body.report).toContain('<svg')
  })

  it('GET /health, GET /methods, an unknown route', async () => {
    expect(await (await fetch(`${main.url}/health`)).json()).toEqual({ ok: true })
    const m = (await (await fetch(`${main.url}/methods`)).json()) as { methods: unknown[] }
    expect(m.methods).toEqual(JSON.parse(JSON.stringify(methodRows())))
    expect(m.methods.length).toBeGreaterThan(20)
    const nf = await fetch(`${main.url}/nope`)
    expect(nf.status).toBe(404)
    expect(await nf.json()).toMatchObject({ error: 'NotFound' })
  })
})

describe('POST /explain: refusals name the field', () => {
  const x = tensor(row(4))
  it('a bad spec: 400 with the field paths of every problem', async () => {
    const a = await post(main.url, { model: 'mlp.onnx', spec: { method: 'integratedGradients', options: { nSteps: 'many', bogus: 1 } }, inputs: [x], target: 0 })
    expect(a.status).toBe(400)
    expect(a.body.error).toBe('InvalidRequest')
    expect(paths(a)).toEqual(['spec.options.bogus', 'spec.options.nSteps'])
    const u = await post(main.url, { model: 'mlp.onnx', spec: { method: 'integratedGradientz' }, inputs: [x], target: 0 })
    expect(paths(u)).toEqual(['spec.method'])
    expect(u.body.issues![0]!.message).toContain('did you mean integratedGradients')
    const p = await post(main.url, { model: 'mlp.onnx', spec: { _tag: 'Pipeline', name: 'x', stages: [{ _tag: 'interpolate', nSteps: 0, method: 'gausslegendre' }] }, inputs: [x] })
    expect(p.status).toBe(400)
    expect(paths(p)[0]).toMatch(/^spec\.stages\.0/)
    const pre = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency', preprocess: { size: [4, 4] } }, inputs: [x] })
    expect(paths(pre)).toEqual(['spec.preprocess'])
  })

  it('bad inputs: 400 with the field paths', async () => {
    const a = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [{ dtype: 'float32', shape: 'wide', data: [] }], baseline: 0 })
    expect(a.status).toBe(400)
    expect(paths(a)).toEqual(['baseline', 'inputs.0.shape'])
    const len = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor([1, 2, 3], [1, 12])], target: 0 })
    expect(paths(len)).toEqual(['inputs.0.data'])
    const int = await post(main.url, { model: 'mlp.onnx', spec: { method: 'featureAblation' }, inputs: [x], target: 0, featureMask: { dtype: 'int32', shape: [1, 2], data: [0, 1.5] } })
    expect(paths(int)).toEqual(['featureMask.data.1'])
    const none = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [] })
    expect(paths(none)).toEqual(['inputs'])
    const notJson = await post(main.url, '{"model": "mlp.onnx", ')
    expect(notJson.status).toBe(400)
    expect(notJson.body.error).toBe('InvalidRequest')
  })

  it('attribution errors: 400 with the tag and path (shape against the model, target, unused options)', async () => {
    const shape = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor(row(1).slice(0, 5))], target: 0 })
    expect(shape.status).toBe(400)
    expect(shape.body.error).toBe('ShapeMismatch')
    const target = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [x], target: 7 })
    expect(target.status).toBe(400)
    expect(target.body).toMatchObject({ error: 'BadTarget', path: 'target' })
    const unused = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [x], target: 0, featureMask: { dtype: 'int32', shape: [1, 12], data: new Array<number>(12).fill(0) } })
    expect(unused.status).toBe(400)
    expect(unused.body).toMatchObject({ error: 'InvalidSpec', path: 'featureMask' })
  })

  it('an oversized body: 413; a body that is not JSON: 415', async () => {
    const big = await post(main.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor(new Array<number>(20_000).fill(0.123456789), [1, 20_000])] })
    expect(big.status).toBe(413)
    expect(big.body.error).toBe('PayloadTooLarge')
    expect(String(big.body.message)).toContain(String(64 * 1024))
    const text = await fetch(`${main.url}/explain`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    expect(text.status).toBe(415)
  })

  it('unknown model files: 404; names outside the models folder: 400', async () => {
    const body = { spec: { method: 'saliency' }, inputs: [x], target: 0 }
    const unknown = await post(main.url, { ...body, model: 'nope.onnx' })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({ error: 'UnknownModel', path: 'model' })
    for (const model of ['../secret.onnx', 'tabular/../../secret.onnx', path.join(root, 'secret.onnx'), 'escape.onnx', 'notes.txt', '']) {
      const a = await post(main.url, { ...body, model })
      expect(a.status, model).toBe(400)
      expect(paths(a), model).toEqual(['model'])
    }
    const broken = await post(main.url, { ...body, model: 'broken.onnx' })
    expect(broken.status).toBe(500)
    expect(broken.body).toMatchObject({ error: 'BadModel', path: 'model' })
  })

  it('work limits: 400 naming the field over its limit; within the limit runs', async () => {
    const steps = await post(main.url, { model: 'mlp.onnx', spec: { method: 'integratedGradients', options: { nSteps: 65 } }, inputs: [x], target: 0 })
    expect(steps.status).toBe(400)
    expect(paths(steps)).toEqual(['spec.options.nSteps'])
    expect(steps.body.issues![0]!.message).toContain('maxSteps')
    const pipe = buildMethod('integratedGradients', { nSteps: 100 }).pipeline
    const inPipe = await post(main.url, { model: 'mlp.onnx', spec: JSON.parse(JSON.stringify(pipe)) as unknown, inputs: [x], target: 0 })
    expect(paths(inPipe)).toEqual(['spec.stages.0.nSteps'])
    const nt = await post(main.url, { model: 'mlp.onnx', spec: { method: 'noiseTunnel', options: { wrapped: 'saliency', ntSamples: 65 } }, inputs: [x], target: 0 })
    expect(paths(nt)).toEqual(['spec.options.ntSamples'])
    // ShapleyValueSampling evaluates 1 + nSamples × (features − 1) copies: 1 + 10 × 11 = 111 > 100.
    const svs = await post(main.url, { model: 'mlp.onnx', spec: { method: 'shapleyValueSampling', options: { nSamples: 10 } }, inputs: [x], target: 0 })
    expect(paths(svs)).toEqual(['spec.options.nSamples'])
    expect(svs.body.issues![0]!.message).toContain('111 perturbed copies')
    const ok = await post(main.url, { model: 'mlp.onnx', spec: { method: 'shapleyValueSampling', options: { nSamples: 9 } }, inputs: [x], target: 0, seed: 3 })
    expect(ok.status).toBe(200)
    const want = await expected(buildMethod('shapleyValueSampling', { nSamples: 9 }).pipeline, host(row(4)), { target: 0, seed: 3 })
    expect(ok.body.attributions![0]!.data).toEqual(want.attributions[0])
  })
})

describe('bearer token', () => {
  it('401 without or with a wrong token; 200 with it; /health stays open', async () => {
    const s = await start({ token: 'open sesame' })
    const body = { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor(row(5))], target: 0 }
    const none = await post(s.url, body)
    expect(none.status).toBe(401)
    expect(none.body.error).toBe('Unauthorized')
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await post(s.url, body, { authorization: 'Bearer open' })).status).toBe(401)
    expect((await fetch(`${s.url}/methods`)).status).toBe(401)
    const good = await post(s.url, body, { authorization: 'Bearer open sesame' })
    expect(good.status).toBe(200)
    expect(good.body.attributions![0]!.shape).toEqual([1, 12])
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
  })
})

describe('timeouts and load', () => {
  it('a run past timeoutMs: 504 with a JSON error, and the server keeps serving', async () => {
    const s = await start({ timeoutMs: 150, maxSamples: 100_000, maxPerturbations: 10_000_000 })
    const t0 = performance.now()
    const a = await post(s.url, { model: 'mlp.onnx', spec: { method: 'shapleyValueSampling', options: { nSamples: 5000 } }, inputs: [tensor(row(6))], target: 0, perturbationsPerEval: 64 })
    expect(a.status).toBe(504)
    expect(a.body).toMatchObject({ error: 'Timeout', path: 'timeoutMs' })
    expect(performance.now() - t0).toBeLessThan(3000)
    expect((await post(s.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor(row(6))], target: 0 })).status).toBe(200)
  })

  it('a client that hangs up frees its slot for the next request', async () => {
    const s = await start({ maxConcurrent: 1, maxSamples: 1_000_000, maxPerturbations: 100_000_000 })
    // node:http rather than fetch: destroying its socket is exactly a client hanging up.
    const slow = http.request(`${s.url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json' } })
    const failed = new Promise((resolve) => slow.on('error', resolve))
    slow.end(JSON.stringify({ model: 'mlp.onnx', spec: { method: 'shapleyValueSampling', options: { nSamples: 200_000 } }, inputs: [tensor(row(7))], target: 0, perturbationsPerEval: 64 }))
    await new Promise((r) => setTimeout(r, 150))
    slow.destroy()
    await failed
    const t0 = performance.now()
    const quick = await post(s.url, { model: 'mlp.onnx', spec: { method: 'saliency' }, inputs: [tensor(row(7))], target: 0 })
    expect(quick.status).toBe(200)
    // The abandoned run (tens of seconds of work) was stopped, not left holding the only slot.
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it('200 concurrent requests through 2 slots: none lost, each answer its own', async () => {
    const N = 200
    // Methods whose answer changes with every input (a gradient alone is constant between ReLU kinks).
    const specs = [
      { method: 'integratedGradients', options: { nSteps: 4 } },
      { method: 'featureAblation', options: {} },
      { method: 'inputXGradient', options: {} },
    ] as const
    const jobs = Array.from({ length: N }, (_, k) => ({ k, spec: specs[k % 3]!, target: k % 3, x: row(100 + k) }))
    const answers = await Promise.all(jobs.map((j) => post(main.url, { model: 'mlp.onnx', spec: j.spec, inputs: [tensor(j.x)], target: j.target })))
    const wants = await Promise.all(jobs.map((j) => expected(buildMethod(j.spec.method, j.spec.options).pipeline, host(j.x), { target: j.target })))
    expect(answers.map((a) => a.status)).toEqual(new Array<number>(N).fill(200))
    answers.forEach((a, i) => expect(a.body.attributions![0]!.data, `request ${i}`).toEqual(wants[i]!.attributions[0]))
    // With 2 slots most requests waited their turn: the queue was exercised, not bypassed.
    const queued = answers.map((a) => Number(/queue;dur=([\d.]+)/.exec(a.headers.get('server-timing') ?? '')?.[1]))
    expect(queued.every((q) => Number.isFinite(q))).toBe(true)
    expect(queued.filter((q) => q > 1).length).toBeGreaterThan(N / 2)
    // The requests differ from one another, so a mixed-up answer would be caught.
    expect(new Set(wants.map((w) => JSON.stringify(w.attributions[0]))).size).toBe(N)
  })
})

describe('createServer options', () => {
  it('bad options throw a ClarusError naming the field', () => {
    const bad = (): unknown => createServer({ models: modelsDir, maxConcurrent: 0 })
    expect(bad).toThrow(ClarusError)
    try {
      bad()
    } catch (e) {
      expect((e as ClarusError).error.path).toEqual(['maxConcurrent'])
    }
    expect(() => createServer({ models: path.join(root, 'missing') })).toThrow(/models folder/)
  })
})
