// Scale-out core: jobs split into units and spans give the results of one call, on every executor,
// bit for bit where the chunks are the same; failures stay in their unit; cancellation stops the job.
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { attribute, featurePermutation, float32, integratedGradients, noiseTunnel, saliency, type HostTensor, type Model } from '../../../src/index.js'
import {
  binarySink, csvSource, inProcessExecutor, jsonlSink, jsonlSource, runJob, threadPoolExecutor, type Example, type ExampleResult, type Executor,
} from '../../../src/scale/index.js'

const MODEL = path.resolve('../shared/reference/models/mlp.onnx')
const N = 21
const rowsData = Array.from({ length: N }, (_, e) => Array.from({ length: 12 }, (_, j) => Math.sin(e * 12 + j)))
const examples = (): Example[] => rowsData.map((r) => ({ inputs: [float32([1, 12], r)] }))
const batch = float32([N, 12], rowsData.flat())

const collect = async (ex: Executor, job: Record<string, unknown>, data: Example[] = examples(), signal?: AbortSignal) => {
  const out: ExampleResult[] = []
  const r = await runJob(ex, { model: MODEL, target: 1, ...job }, { size: data.length, examples: data }, (x) => {
    out.push(x)
  }, signal ? { signal } : {})
  return { r, out }
}
const flat = (out: readonly ExampleResult[]): number[] => out.flatMap((o) => [...(o.attributions?.[0]?.data as Float32Array)])
const bitsEqual = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]))

let pool: Executor | undefined
afterAll(async () => {
  await pool?.close()
})

describe('runJob', () => {
  let model: Model<HostTensor>
  it('one unit is one attribute call, bit for bit; results come in dataset order with ids and deltas', async () => {
    model = E.getOrElseW(() => undefined)(await fromOnnx(MODEL))!
    const ex = inProcessExecutor()
    const { r, out } = await collect(ex, { spec: { method: 'integratedGradients', options: { nSteps: 24 } }, examplesPerTask: N })
    await ex.close()
    expect(E.isRight(r) && r.right).toMatchObject({ examples: N, failed: 0, units: 1 })
    const direct = E.getOrElseW(() => undefined)(await attribute(integratedGradients({ nSteps: 24, returnConvergenceDelta: true }), model, batch, { target: 1 })())!
    expect(bitsEqual(flat(out), [...(direct.attributions[0]!.data as Float32Array)])).toBe(true)
    expect(out.map((o) => o.index)).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(out.every((o) => typeof o.delta === 'number')).toBe(true)
  })

  it('spans of the expansion tile it exactly: with the same chunks, the same bits as the unit run whole', async () => {
    const ex = inProcessExecutor()
    // 4 steps per chunk (internalBatchSize = 4 rows × 7 examples); spans of 8 steps are 2 whole chunks
    const base = { spec: { method: 'integratedGradients', options: { nSteps: 40 } }, examplesPerTask: 7, internalBatchSize: 28 }
    const whole = await collect(ex, base)
    const spans = await collect(ex, { ...base, entriesPerTask: 8 })
    await ex.close()
    expect(E.isRight(spans.r) && spans.r.right.tasks).toBe(3 * (5 + 1))
    expect(bitsEqual(flat(spans.out), flat(whole.out))).toBe(true)
    expect(spans.out.map((o) => o.delta)).toEqual(whole.out.map((o) => o.delta))
  })

  it('a thread pool gives the in-process results bit for bit, spans and stochastic methods included', async () => {
    pool = threadPoolExecutor({ workers: 2 })
    const ex = inProcessExecutor()
    const jobs = [
      { spec: { method: 'integratedGradients', options: { nSteps: 30 } }, examplesPerTask: 5, entriesPerTask: 7 },
      { spec: { method: 'noiseTunnel', options: { wrapped: 'saliency', nSamples: 6, stdevs: 0.2 } }, examplesPerTask: 4, seed: 11 },
    ]
    for (const job of jobs) {
      const a = await collect(ex, job)
      const b = await collect(pool, job)
      expect(E.isRight(b.r) && b.r.right.failed).toBe(0)
      expect(bitsEqual(flat(b.out), flat(a.out))).toBe(true)
    }
    await ex.close()
  }, 30_000)

  it('random draws follow the example, not the unit: NoiseTunnel per unit matches one call over the batch', async () => {
    const ex = inProcessExecutor()
    const { out } = await collect(ex, { spec: { method: 'noiseTunnel', options: { wrapped: 'saliency', nSamples: 5, stdevs: 0.3 } }, examplesPerTask: 4, seed: 3 })
    await ex.close()
    const direct = E.getOrElseW(() => undefined)(await attribute(noiseTunnel(saliency(), { nSamples: 5, stdevs: 0.3 }), model, batch, { target: 1, seed: 3 })())!
    const d = [...(direct.attributions[0]!.data as Float32Array)]
    flat(out).forEach((v, i) => expect(v).toBeCloseTo(d[i]!, 6))
    // and a different seed draws different noise
    const ex2 = inProcessExecutor()
    const other = await collect(ex2, { spec: { method: 'noiseTunnel', options: { wrapped: 'saliency', nSamples: 5, stdevs: 0.3 } }, examplesPerTask: 4, seed: 4 })
    await ex2.close()
    expect(bitsEqual(flat(other.out), flat(out))).toBe(false)
  })

  it('FeaturePermutation needs its batch named (examplesPerTask), and then each unit is that batch', async () => {
    const ex = inProcessExecutor()
    const refused = await collect(ex, { spec: { method: 'featurePermutation' } })
    expect(E.isLeft(refused.r) && refused.r.left).toMatchObject({ _tag: 'BadPipeline', path: ['examplesPerTask'] })
    expect(E.isLeft(refused.r) && refused.r.left.message).toMatch(/batch/)
    const ok = await collect(ex, { spec: { method: 'featurePermutation' }, examplesPerTask: 7, entriesPerTask: 5 })
    await ex.close()
    const first = E.getOrElseW(() => undefined)(await attribute(featurePermutation(), model, float32([7, 12], rowsData.slice(0, 7).flat()), { target: 1 })())!
    flat(ok.out).slice(0, 7 * 12).forEach((v, i) => expect(v).toBeCloseTo((first.attributions[0]!.data as Float32Array)[i]!, 6))
  })

  it('a poisoned example fails its own unit with a clear error; the other units complete', async () => {
    const data = examples()
    data[9] = { inputs: [float32([1, 12], rowsData[9]!.map((v, j) => (j === 3 ? NaN : v)))], id: 'bad-row' }
    const ex = inProcessExecutor()
    const { r, out } = await collect(ex, { spec: { method: 'saliency' }, examplesPerTask: 5 }, data)
    await ex.close()
    expect(E.isRight(r) && r.right).toMatchObject({ examples: N, failed: 5 })
    const failed = out.filter((o) => o.error !== undefined)
    expect(failed.map((o) => o.index)).toEqual([5, 6, 7, 8, 9])
    expect(failed[0]!.error).toMatchObject({ _tag: 'NonFinite' })
    expect(out.filter((o) => o.attributions !== undefined)).toHaveLength(N - 5)
  })

  it('bad jobs are typed errors naming the field', async () => {
    const ex = inProcessExecutor()
    const bad = async (job: Record<string, unknown>) => (await runJob(ex, job, { examples: examples() }, () => undefined))
    expect(await bad({ model: MODEL })).toMatchObject({ left: { _tag: 'InvalidSpec' } })
    expect(await bad({ model: MODEL, spec: { method: 'integratedGradient' } })).toMatchObject({ left: { _tag: 'InvalidSpec', issues: [{ path: ['spec'] }] } })
    expect(await bad({ model: MODEL, spec: { method: 'saliency' }, examplesPerTask: 0 })).toMatchObject({ left: { _tag: 'InvalidSpec', issues: [{ path: ['examplesPerTask'] }] } })
    const missing = await runJob(ex, { model: '/nowhere/model.onnx', spec: { method: 'saliency' } }, { examples: examples().slice(0, 2) }, () => undefined)
    await ex.close()
    expect(E.isRight(missing) && missing.right.failed).toBe(2)
  })

  it('cancellation stops a job on the pool and returns Cancelled', async () => {
    const p = pool ?? threadPoolExecutor({ workers: 2 })
    const ctl = new AbortController()
    const many = Array.from({ length: 12 }, () => examples()).flat()
    let seen = 0
    const t0 = performance.now()
    const r = await runJob(p, { model: MODEL, target: 1, spec: { method: 'integratedGradients', options: { nSteps: 400 } }, examplesPerTask: 4 }, { examples: many }, () => {
      if (++seen === 8) ctl.abort()
    }, { signal: ctl.signal })
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
    expect(seen).toBeLessThan(many.length)
    expect(performance.now() - t0).toBeLessThan(20_000)
  }, 30_000)
})

describe('sources and sinks', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clarus-scale-'))
  it('CSV (header, target and id columns, quoted cells, NaN for empty cells) and JSONL read lazily with their sizes', async () => {
    const csv = path.join(dir, 'rows.csv')
    writeFileSync(csv, 'id,a,b,label\n"x, 1",1,2,0\ny,3,,2\n\n')
    const d = await csvSource(csv, { target: 'label', id: 'id' })
    expect(d.size).toBe(2)
    const got: Example[] = []
    for await (const e of d.examples) got.push(e)
    expect(got.map((e) => [e.id, e.target, [...(e.inputs[0]!.data as Float32Array)]])).toEqual([['x, 1', 0, [1, 2]], ['y', 2, [3, NaN]]])
    await expect(csvSource(csv, { target: 'nope' })).rejects.toThrow(/no target column "nope"/)
    const jsonl = path.join(dir, 'rows.jsonl')
    writeFileSync(jsonl, `${JSON.stringify({ inputs: [[1, 2, 3]], target: 1, id: 'a' })}\n${JSON.stringify({ inputs: [{ shape: [2, 2], data: [1, 2, 3, 4] }] })}\n{oops\n`)
    const j = await jsonlSource(jsonl)
    const it = (j.examples as AsyncIterable<Example>)[Symbol.asyncIterator]()
    expect((await it.next()).value).toMatchObject({ id: 'a', target: 1, inputs: [{ shape: [1, 3] }] })
    expect((await it.next()).value).toMatchObject({ id: '2', inputs: [{ shape: [1, 2, 2] }] })
    await expect(it.next()).rejects.toThrow(/rows\.jsonl:3: not JSON/)
  })

  it('JSONL and binary sinks stream what runJob gives them, readable back', async () => {
    const ex = inProcessExecutor()
    const js = jsonlSink(path.join(dir, 'out.jsonl'))
    const bin = binarySink(path.join(dir, 'bin'))
    const r = await runJob(ex, { model: MODEL, target: 2, spec: { method: 'saliency' } }, { examples: examples() }, async (x) => {
      await js.write(x)
      await bin.write(x)
    })
    await ex.close()
    await js.close()
    await bin.close()
    expect(E.isRight(r)).toBe(true)
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; attributions: { data: number[] }[] })
    expect(lines).toHaveLength(N)
    const raw = readFileSync(path.join(dir, 'bin', 'attributions.f32'))
    const f = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
    const index = readFileSync(path.join(dir, 'bin', 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { offset: number })
    expect(index[5]!.offset).toBe(60)
    expect([...f.subarray(60, 72)]).toEqual(lines[5]!.attributions[0]!.data.map((v) => Math.fround(v)))
  })
})

describe('csvSource refuses text feature columns when it opens the file', () => {
  it('names the column and says what to do', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clarus-csv-'))
    const csv = path.join(dir, 'named.csv')
    writeFileSync(csv, 'name,a,b\nAda,1,2\nBob,3,4\n')
    await expect(csvSource(csv)).rejects.toThrow(/column\(s\) "name" hold text \(first row: "Ada"\).*id or target column/)
    const ok = await csvSource(csv, { id: 'name' })
    expect(ok.size).toBe(2)
  })
})
