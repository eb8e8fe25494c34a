// Issue 8, defect 15: KernelShap with one sample used to return zeros without a word. Its first two
// samples are the full and the empty coalition, and the fit is defined from two on.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { ClarusError, KernelShap, attribute, decodePipeline, float32, kernelShap, lime, type HostTensor } from '../../../src/index.js'

// F(x) = 2·x0 + x1 − x2 on one example
const model = fromFunction(([x]) => {
  const n = x!.shape[0]!
  return float32([n, 1], Array.from({ length: n }, (_, i) => 2 * Number(x!.data[3 * i]) + Number(x!.data[3 * i + 1]) - Number(x!.data[3 * i + 2])))
})
const input = float32([1, 3], [1, 2, 3])

describe('KernelShap nSamples', () => {
  it('nSamples: 1 is an InvalidSpec naming nSamples, through the facade', async () => {
    // async wrapper: the facade may throw before it returns its promise
    const run = (async () => new KernelShap(model).attribute(input, { target: 0, nSamples: 1 }))()
    await expect(run).rejects.toBeInstanceOf(ClarusError)
    await expect(run).rejects.toMatchObject({ error: { _tag: 'InvalidSpec', path: ['nSamples'] } })
  })
  it('a hand-written spec with the kernelShap sampler and nSamples 1 is refused at decode, with the path of the field', () => {
    const good = JSON.parse(JSON.stringify(kernelShap({ nSamples: 5 }))) as { stages: Record<string, unknown>[] }
    const bad = JSON.parse(JSON.stringify(good).replace('"nSamples":5', '"nSamples":1')) as unknown
    const r = decodePipeline(bad)
    if (E.isRight(r)) throw new Error('expected an InvalidSpec')
    if (r.left._tag !== 'InvalidSpec') throw new Error(r.left._tag)
    expect(r.left.issues.some((i) => i.path[i.path.length - 1] === 'nSamples' && /nSamples ≥ 2/.test(i.message))).toBe(true)
    expect(E.isRight(decodePipeline(good))).toBe(true)
  })
  it('the builder refuses it too (it throws the typed error, as the builders do)', () => {
    expect(() => kernelShap({ nSamples: 1 })).toThrow(ClarusError)
  })
  it('two samples, the minimum, give a defined fit: F(x) − F(x′) split over the features', async () => {
    const r = await attribute(kernelShap({ nSamples: 2 }), model, input, { target: 0 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    const a = Array.from((r.right.attributions[0] as HostTensor).data as Float32Array)
    // F(x) − F(0) = 2 + 2 − 3 = 1, spread evenly by the minimum-norm fit; nonzero unlike before
    for (const v of a) expect(v).toBeCloseTo(1 / 3, 4)
  })
  it('Lime (another sampler) keeps accepting nSamples 1: the limit is KernelShap’s', () => {
    expect(() => lime({ nSamples: 1 })).not.toThrow()
  })
})
