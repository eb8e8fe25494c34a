// TCAV on a tiny tfjs function model with a planted concept, where every score is known by hand:
// h = x (tapped), output 0 = relu(h₀), output 1 = −h₀. The "bright" concept sits at h = e₀, the
// random one at 0, so the mean-difference CAV rows are ±0.5·e₀ and an input's score is
// ±0.5·∂out/∂h₀: +0.5 where target 0's relu is open, 0 where it is shut, −0.5 for target 1.
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { cavsFromJson, cavsToJson, type Cavs } from '../../../src/concept/cav.js'
import type { ClassifierFn } from '../../../src/concept/classifier.js'
import { concept, type Concept } from '../../../src/concept/concept.js'
import { TCAV } from '../../../src/concept/facade.js'
import { tcavSignificance } from '../../../src/concept/significance.js'
import { computeCavs, tcav, type TcavCall } from '../../../src/concept/tcav.js'
import { tTest } from '../../../src/concept/tTest.js'
import { ClarusError } from '../../../src/core/errors.js'
import { keyOf, normals } from '../../../src/core/random.js'
import { float32, type HostTensor } from '../../../src/core/tensor.js'
import { left, REFERENCE_DIR, right } from '../../helpers/reference.js'

const model = fromTfjs({
  layers: ['h'],
  fn: (tap, x) => {
    const h = tap('h', tf.mul(x!, 1))
    const h0 = tf.slice(h, [0, 0], [-1, 1])
    return tf.concat([tf.relu(h0), tf.neg(h0)], 1)
  },
})

const bright = concept(0, 'bright', float32([4, 3], [1, 0.2, 0, 1, -0.2, 0, 1, 0, 0.1, 1, 0, -0.1]))
const random = concept(1, 'random', float32([4, 3], [0, 0.3, 0, 0, -0.3, 0.2, 0, 0, -0.2, 0, 0, 0]))
// relu(h₀) is open for inputs 0 and 2 only
const x = float32([3, 3], [1, 0.5, 0, -1, 0.2, 0.3, 2, 0, -1])
const f = Math.fround
const vals = (h: HostTensor): number[] => Array.from(h.data as Float32Array)
const run = async (call: TcavCall, inputs: HostTensor = x) => right(await tcav(model, inputs, call)())
const fails = async (call: TcavCall, inputs: HostTensor = x) => left(await tcav(model, inputs, call)())
const meanDiff = { classifier: { _tag: 'meanDifference' } } as const

describe('tcav scores (planted concept, mean-difference CAVs)', () => {
  it('sign_count and magnitude per concept, per-input scores and CAVs are the hand values', async () => {
    const r = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 0, ...meanDiff })
    const cav = r.cavs['0-1']!['h']!
    expect(cav.classes).toEqual([0, 1])
    expect(vals(cav.weights)).toEqual([0.5, 0, 0, -0.5, 0, 0].map(f))
    expect(cav.accuracy).toBe(1)
    expect(vals(r.perInputScores['0-1']!['h']!)).toEqual([0.5, -0.5, 0, 0, 0.5, -0.5])
    expect(vals(r.scores['0-1']!['h']!.signCount)).toEqual([f(2 / 3), 0])
    expect(vals(r.scores['0-1']!['h']!.magnitude)).toEqual([f(1 / 3), f(-1 / 3)])
    const t1 = await run({ layers: ['h'], experimentalSets: [[bright, random]], target: 1, ...meanDiff })
    expect(vals(t1.scores['0-1']!['h']!.signCount)).toEqual([0, 1])
    expect(vals(t1.scores['0-1']!['h']!.magnitude)).toEqual([-0.5, 0.5])
  })

  it('inputs may be tfjs tensors (read back, not disposed); a layer listed twice is an InvalidSpec', async () => {
    const host = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 0, ...meanDiff })
    const xt = tf.tensor2d(Array.from(x.data as Float32Array), [3, 3])
    const r = right(await tcav(model, xt, { layers: 'h', experimentalSets: [[bright, random]], target: 0, ...meanDiff })())
    expect(xt.isDisposed).toBe(false)
    xt.dispose()
    expect(vals(r.perInputScores['0-1']!['h']!)).toEqual(vals(host.perInputScores['0-1']!['h']!))
    expect(await fails({ layers: ['h', 'h'], experimentalSets: [[bright, random]], ...meanDiff })).toMatchObject({ _tag: 'InvalidSpec', path: ['layers', '1'] })
  })

  it("scores follow the set's concept order, and the key joins the ids in that order", async () => {
    const r = await run({ layers: 'h', experimentalSets: [[random, bright]], target: 0, ...meanDiff })
    expect(Object.keys(r.scores)).toEqual(['1-0'])
    expect(vals(r.scores['1-0']!['h']!.signCount)).toEqual([0, f(2 / 3)])
    expect(vals(r.perInputScores['1-0']!['h']!)).toEqual([-0.5, 0.5, 0, 0, -0.5, 0.5])
    // the CAV's rows stay in ascending class order
    expect(r.cavs['1-0']!['h']!.classes).toEqual([0, 1])
  })

  it('concept data as a list of batches or an async source gives the same CAVs', async () => {
    const rows = bright.data as HostTensor
    const half = (i: number): HostTensor => float32([2, 3], (rows.data as Float32Array).slice(i * 6, i * 6 + 6))
    async function* source(): AsyncGenerator<HostTensor> {
      yield half(0)
      yield float32([0, 3], [])
      yield half(1)
    }
    const base = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 0, ...meanDiff })
    for (const data of [[half(0), half(1)], source()]) {
      const r = await run({ layers: 'h', experimentalSets: [[concept(0, 'bright', data), random]], target: 0, ...meanDiff })
      expect(vals(r.cavs['0-1']!['h']!.weights)).toEqual(vals(base.cavs['0-1']!['h']!.weights))
    }
  })
})

describe('the default linear classifier and given CAVs', () => {
  it('finds the planted direction; the same seed reproduces every number, another seed changes the CAVs', async () => {
    const call: TcavCall = { layers: 'h', experimentalSets: [[bright, random]], target: 0, seed: 7 }
    const a = await run(call)
    expect(vals(a.scores['0-1']!['h']!.signCount)).toEqual([f(2 / 3), 0])
    expect(a.cavs['0-1']!['h']!.weights.data[0]!).toBeGreaterThan(0)
    const b = await run(call)
    expect(cavsToJson(b.cavs)).toBe(cavsToJson(a.cavs))
    expect(vals(b.perInputScores['0-1']!['h']!)).toEqual(vals(a.perInputScores['0-1']!['h']!))
    const c = await run({ ...call, seed: 8 })
    expect(vals(c.cavs['0-1']!['h']!.weights)).not.toEqual(vals(a.cavs['0-1']!['h']!.weights))
  })

  it('given CAVs are used as they are: scores are gradient · row, exactly', async () => {
    const cavs: Cavs = { '0-1': { h: { concepts: [{ id: 0, name: 'bright' }, { id: 1, name: 'random' }], layer: 'h', classes: [1, 0], accuracy: 0.5, weights: float32([2, 3], [-1, 0, 1, 3, 2, 1]) } } }
    let trained = 0
    const counting: ClassifierFn = () => {
      trained++
      return E.left({ _tag: 'Unsupported', message: 'should not train', path: [] })
    }
    const r = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 1, cavs, classifierFn: counting })
    expect(trained).toBe(0)
    // target 1: gradient −e₀ for every input; bright's row is [3, 2, 1] (class 0 is row 1), random's [−1, 0, 1]
    expect(vals(r.perInputScores['0-1']!['h']!)).toEqual([-3, 1, -3, 1, -3, 1])
    expect(vals(r.scores['0-1']!['h']!.magnitude)).toEqual([-3, 1])
  })

  it('CAVs round-trip through JSON bit for bit and score the same', async () => {
    const r = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 0, seed: 3 })
    const odd: Cavs = { '0-1': { h: { ...r.cavs['0-1']!['h']!, weights: float32([2, 3], [f(0.1), f(1e-38), -f(1 / 3), 3.4028234663852886e38, 0, f(Math.PI)]) } } }
    for (const cavs of [r.cavs, odd]) {
      const back = right(cavsFromJson(cavsToJson(cavs)))
      expect(back).toEqual(cavs)
      expect(Array.from(back['0-1']!['h']!.weights.data as Float32Array)).toEqual(Array.from(cavs['0-1']!['h']!.weights.data as Float32Array))
    }
    const again = await run({ layers: 'h', experimentalSets: [[bright, random]], target: 0, cavs: right(cavsFromJson(cavsToJson(r.cavs))) })
    expect(vals(again.perInputScores['0-1']!['h']!)).toEqual(vals(r.perInputScores['0-1']!['h']!))
  })

  it('bad CAV JSON is an InvalidSpec naming the field', () => {
    const good = JSON.parse(cavsToJson({ '0-1': { h: { concepts: [{ id: 0, name: 'a' }, { id: 1, name: 'b' }], layer: 'h', classes: [0, 1], accuracy: 1, weights: float32([2, 1], [1, -1]) } } })) as Record<string, Record<string, Record<string, unknown>>>
    const rowsOff = structuredClone(good)
    rowsOff['0-1']!['h']!['classes'] = [0]
    expect(left(cavsFromJson(rowsOff)).message).toMatch(/cavs\.0-1\.h.*2 row\(s\) but classes lists 1/)
    const stray = structuredClone(good)
    stray['0-1']!['h']!['classes'] = [0, 5]
    expect(left(cavsFromJson(stray)).message).toMatch(/class 5 is not one of the concepts' ids/)
    expect(left(cavsFromJson('{')).path).toEqual(['cavs'])
  })
})

describe('typed errors', () => {
  const base: TcavCall = { layers: 'h', experimentalSets: [[bright, random]], target: 0, ...meanDiff }
  it('a concept without examples names the concept', async () => {
    const e = await fails({ ...base, experimentalSets: [[bright, concept(1, 'empty', float32([0, 3], []))]] })
    expect(e._tag).toBe('EmptyInput')
    expect(e.message).toMatch(/concept "empty" \(id 1\) has no examples/)
    async function* junk(): AsyncGenerator<HostTensor> {
      yield { dtype: 'float32', shape: [2, 3], data: [1, 2, 3] } as never
    }
    const j = await fails({ ...base, experimentalSets: [[bright, concept(1, 'junk', junk())]] })
    expect(j).toMatchObject({ _tag: 'ShapeMismatch', path: ['concepts', '1', 'data', '0'] })
    expect(j.message).toMatch(/concept "junk" \(id 1\): batch 0 is not a host tensor/)
  })
  it('an unknown layer is named; attributeToLayerInput on a tapped function is Unsupported', async () => {
    const e = await fails({ ...base, layers: ['h', 'hh'] })
    expect(e).toMatchObject({ _tag: 'UnknownTensor', path: ['layers', '1'] })
    expect(e.message).toMatch(/"hh"/)
    expect((await fails({ ...base, attributeToLayerInput: true }))._tag).toBe('Unsupported')
  })
  it('a given CAV of another size, or without a row per concept, is a ShapeMismatch naming set and layer', async () => {
    const cav = { concepts: [{ id: 0, name: 'bright' }, { id: 1, name: 'random' }], layer: 'h', classes: [0, 1], accuracy: 1, weights: float32([2, 4], [1, 0, 0, 0, -1, 0, 0, 0]) }
    const e = await fails({ ...base, cavs: { '0-1': { h: cav } } })
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/set 0-1 at layer "h" has 4 columns but that layer has 3 values per example/)
    const e2 = await fails({ ...base, cavs: { '0-1': { h: { ...cav, classes: [0, 2] } } } })
    expect(e2.message).toMatch(/needs one row per concept of the set \(0, 1\)/)
  })
  it('concept examples shaped unlike the inputs, a one-concept set, clashing ids, bad options', async () => {
    expect((await fails({ ...base, experimentalSets: [[bright, concept(1, 'wide', float32([1, 4], [0, 0, 0, 0]))]] })).message).toMatch(/shape \[4\]; the model is given examples of shape \[3\]/)
    expect(await fails({ ...base, experimentalSets: [[bright]] })).toMatchObject({ _tag: 'EmptyInput', path: ['experimentalSets', '0'] })
    expect((await fails({ ...base, experimentalSets: [[bright, random], [concept(0, 'other', random.data), random]] }))._tag).toBe('InvalidSpec')
    expect(await fails({ ...base, classifier: { _tag: 'linear', alpha: -1 } as never })).toMatchObject({ _tag: 'InvalidSpec', path: ['classifier', 'alpha'] })
    expect((await fails({ ...base, target: 5 }))._tag).toBe('BadTarget')
    const wrong: ClassifierFn = () => E.right({ weights: new Float32Array(5), classes: [0, 1], accuracy: 1 })
    expect(await fails({ ...base, classifierFn: wrong })).toMatchObject({ _tag: 'ShapeMismatch', path: ['classifierFn'] })
  })
  it('no tfjs tensor outlives a call, successful or failed', async () => {
    const before = tf.memory().numTensors
    await run({ ...base, classifier: { _tag: 'linear' } })
    await fails({ ...base, experimentalSets: [[bright, concept(1, 'wide', float32([1, 4], [0, 0, 0, 0]))]] })
    await fails({ ...base, target: 5 })
    right(await computeCavs(model, base)())
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('TCAV facade', () => {
  it('keeps trained CAVs and reuses them; forceTrain retrains; errors throw a ClarusError', async () => {
    let fits = 0
    const counting: ClassifierFn = (a, key) => {
      fits++
      return E.right({ weights: Float32Array.from({ length: 2 * a.dim }, (_, i) => (i < a.dim ? -1 : 1) * (key[0] % 7)), classes: [0, 1], accuracy: 1 })
    }
    const t = new TCAV(model, 'h', { classifierFn: counting })
    await t.computeCavs([[bright, random]])
    expect(fits).toBe(1)
    const r = await t.interpret(x, [[bright, random]], { target: 0 })
    expect(fits).toBe(1)
    expect(r.cavs).toEqual(t.cavs)
    await t.interpret(x, [[bright, random]], { target: 0, forceTrain: true })
    expect(fits).toBe(2)
    await expect(new TCAV(model, 'nope').interpret(x, [[bright, random]], { target: 0 })).rejects.toBeInstanceOf(ClarusError)
  })
})

describe('significance against random concepts', () => {
  const noise = (id: number): Concept => concept(id, `random_${id}`, float32([4, 3], Array.from(normals(keyOf(id), 12), (v) => 0.3 * v)))
  const randoms = [2, 3, 4, 5, 6].map(noise)
  it('the planted concept is significant; a random one is not; the test equals tTest on the reported samples', async () => {
    const r = right(await tcavSignificance(model, x, { layers: 'h', target: 0, concept: bright, randomConcepts: randoms, scoreType: 'magnitude', ...meanDiff })())
    const s = r.layers['h']!
    expect(s.conceptScores).toHaveLength(5)
    expect(s.randomScores).toHaveLength(4)
    expect(s.conceptScores.every((v) => v > 0.2)).toBe(true)
    expect(s.pValue).toBe(tTest(s.conceptScores, s.randomScores).pValue)
    expect(s.significant).toBe(true)
    expect(Object.keys(r.tcav.scores)).toEqual(['0-2', '0-3', '0-4', '0-5', '0-6', '2-3', '2-4', '2-5', '2-6'])
    const nul = right(await tcavSignificance(model, x, { layers: 'h', target: 0, concept: noise(1), randomConcepts: randoms, scoreType: 'magnitude', ...meanDiff })())
    expect(nul.layers['h']!.significant).toBe(false)
    expect(nul.layers['h']!.pValue).toBeGreaterThan(0.05)
    expect(left(await tcavSignificance(model, x, { layers: 'h', concept: bright, randomConcepts: randoms.slice(0, 2) })())._tag).toBe('EmptyInput')
  })
})

describe('attributeToLayerInput (ONNX cnn)', () => {
  let cnn: Awaited<ReturnType<typeof loadCnn>>
  const loadCnn = async () => right(await fromOnnx(path.join(REFERENCE_DIR, 'models/cnn.onnx'), { session: { intraOpNumThreads: 1 } }))
  beforeAll(async () => {
    cnn = await loadCnn()
  })
  afterAll(async () => {
    await cnn.dispose()
  })
  it("conv2's input is pool1's output: the same CAVs and scores", async () => {
    const img = (id: number, n: number) => concept(id, `c${id}`, float32([n, 3, 32, 32], normals(keyOf(100 + id), n * 3072)))
    const sets = [[img(0, 3), img(1, 3)]]
    const images = float32([2, 3, 32, 32], normals(keyOf(7), 2 * 3072))
    const viaInput = right(await tcav(cnn, images, { layers: '/conv2/Conv_output_0', attributeToLayerInput: true, experimentalSets: sets, target: 2, ...meanDiff })())
    const direct = right(await tcav(cnn, images, { layers: '/pool1/MaxPool_output_0', experimentalSets: sets, target: 2, ...meanDiff })())
    expect(viaInput.cavs['0-1']!['/conv2/Conv_output_0']!.weights).toEqual(direct.cavs['0-1']!['/pool1/MaxPool_output_0']!.weights)
    expect(viaInput.perInputScores['0-1']!['/conv2/Conv_output_0']).toEqual(direct.perInputScores['0-1']!['/pool1/MaxPool_output_0'])
  })
})
