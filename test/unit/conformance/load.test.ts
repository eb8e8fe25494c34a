import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { isHostTensor } from '../../../src/core/codecs.js'
import { sizeOf, type HostTensor } from '../../../src/core/tensor.js'
import { ArgBaselines, ArgTarget, ArgTensor, IntOrInts, readArg, requireArg } from '../../../src/conformance/format.js'
import { loadModelWeights, type ReferenceCase } from '../../../src/conformance/load.js'
import { loadCase, loadReferenceDir } from '../../../src/conformance/files.js'
import { REFERENCE_DIR, left, right } from '../../helpers/reference.js'

const referenceDir = REFERENCE_DIR

/** The index as written on disk: every count below is read from it, never hard-coded. */
const rawIndex = JSON.parse(readFileSync(path.join(referenceDir, 'index.json'), 'utf8')) as {
  cases: { id: string; kind: string; model: string }[]
  models: Record<string, unknown>
  failures: { id: string }[]
}

const ref = right(loadReferenceDir(referenceDir))
const cases: ReferenceCase[] = ref.cases.map((c) => right(c.load()))
const byId = (id: string): ReferenceCase => {
  const c = cases.find((x) => x.id === id)
  if (c === undefined) throw new Error(`no case ${id}`)
  return c
}

describe('loadReferenceDir', () => {
  it('decodes the index: every case, model and recorded failure it lists', () => {
    expect(ref.index.cases).toHaveLength(rawIndex.cases.length)
    expect(Object.keys(ref.index.models).sort()).toEqual(Object.keys(rawIndex.models).sort())
    for (const m of ['cnn', 'mlp', 'resnet18', 'sigmoidnet', 'textcls']) expect(ref.index.models[m], m).toBeDefined()
    expect(ref.index.failures?.map((f) => f.id)).toEqual(rawIndex.failures.map((f) => f.id))
    expect(ref.index.failures?.map((f) => f.id)).toContain('sigmoidnet.lrp.tnone')
    expect(ref.index.default_tolerance).toEqual({ abs: 1e-4, rel: 1e-3 })
    expect(ref.index.models['resnet18']?.weights).toBeNull()
    expect(ref.index.models['cnn']?.inputs[0]?.shape).toEqual(['batch', 3, 32, 32])
  })

  it('lists every case file on disk exactly once', () => {
    const onDisk = readdirSync(path.join(referenceDir, 'cases')).flatMap((m) =>
      readdirSync(path.join(referenceDir, 'cases', m))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `cases/${m}/${f}`),
    )
    expect(ref.index.cases.map((c) => c.file).sort()).toEqual(onDisk.sort())
  })

  it('reads the weight JSON of a model, and reports a model without one', () => {
    expect(right(loadModelWeights(ref, 'mlp'))).toMatchObject({ model: 'mlp' })
    expect(left(loadModelWeights(ref, 'resnet18')).path).toEqual(['index.json', 'models', 'resnet18', 'weights'])
  })
})

describe('loadCase on every fixture', () => {
  it('decodes every indexed case into well-formed host tensors', () => {
    expect(cases).toHaveLength(rawIndex.cases.length)
    const all: HostTensor[] = []
    for (const c of cases) {
      all.push(...c.inputs, ...c.expected.attributions)
      if (c.expected.convergenceDelta) all.push(c.expected.convergenceDelta)
      if (c.modelOutput) all.push(c.modelOutput)
    }
    for (const x of all) expect(isHostTensor(x)).toBe(true)
  })

  it('matches expected_shapes, batch sizes and model outputs', () => {
    for (const c of cases) {
      // Wave 1: batches of 2 (resnet18: 1). Wave 2 has its own batches (LLM prompts 1, TracIn test
      // sets 3, TCAV inputs 4); there the model output, where recorded, has the input's rows.
      const batch = c.inputs[0]?.shape[0]
      if (c.json.area === undefined) expect(batch, c.id).toBe(c.model === 'resnet18' ? 1 : 2)
      if (c.modelOutput !== undefined) expect(c.modelOutput.shape[0], c.id).toBe(batch)
      const shapes = c.json.expected_shapes
      if (shapes !== undefined) {
        expect(c.expected.attributions[0]?.shape, c.id).toEqual(shapes['attribution'])
        if (c.expected.convergenceDelta) expect(c.expected.convergenceDelta.shape, c.id).toEqual(shapes['convergence_delta'])
      }
      // A delta tolerance comes with every convergence delta.
      expect(c.deltaTolerance !== undefined, c.id).toBe(c.expected.convergenceDelta !== undefined)
    }
  })

  it('stores float32 values exactly as written (parse as double, round to float32)', () => {
    const c = byId('mlp.saliency.abs_true.t0')
    const raw = JSON.parse(readFileSync(path.join(referenceDir, c.file), 'utf8')) as { inputs: { data: number[][] }[] }
    const first = raw.inputs[0]?.data[0]?.[0] as number
    expect(c.inputs[0]?.data[0]).toBe(Math.fround(first))
    expect(c.inputNames).toEqual(['input'])
  })

  it('loads the resnet18 .bin tensors with their lengths and offsets', () => {
    const ig = byId('resnet18.ig.gausslegendre8.zeros.t3')
    const x = ig.inputs[0] as HostTensor
    expect(x.shape).toEqual([1, 3, 224, 224])
    expect(x.data).toBeInstanceOf(Float32Array)
    expect(x.data.length).toBe(150528)
    // torch.rand: uniform on [0, 1)
    expect(Array.from(x.data as Float32Array).every((v) => v >= 0 && v < 1)).toBe(true)
    expect(ig.expected.attributions[0]?.data.length).toBe(150528)
    expect(ig.expected.convergenceDelta?.data.length).toBe(1)
    expect(ig.modelOutput?.data.length).toBe(10)
    // The .bin is exactly these tensors back to back (delta after the logits).
    const bin = readFileSync(path.join(referenceDir, 'cases/resnet18/resnet18.ig.gausslegendre8.zeros.t3.bin'))
    expect(bin.byteLength).toBe(4 * (150528 * 2 + 10 + 1))
    expect(ig.expected.convergenceDelta?.data[0]).toBe(bin.readFloatLE(1204264))
    expect(ig.modelOutput?.data[9]).toBe(bin.readFloatLE(1204224 + 36))
    const sal = byId('resnet18.saliency.abs_true.t3')
    expect(Array.from(sal.inputs[0]?.data as Float32Array)).toEqual(Array.from(x.data as Float32Array))
    expect(Array.from(sal.expected.attributions[0]?.data as Float32Array).every((v) => v >= 0)).toBe(true)
  })

  it('turns tensors inside args into host tensors of the right dtype', () => {
    const kinds = new Map<string, Set<string>>()
    for (const c of cases) {
      for (const [k, v] of Object.entries(c.args)) {
        if (isHostTensor(v)) kinds.set(k, (kinds.get(k) ?? new Set()).add(v.dtype))
        else expect(typeof v === 'object' && v !== null && 'dtype' in v, `${c.id} args.${k}`).toBe(false)
      }
    }
    expect(Object.fromEntries([...kinds].map(([k, s]) => [k, [...s].sort()]))).toEqual({
      baselines: ['float32', 'int64'],
      feature_mask: ['int64'],
      layer_mask: ['int64'],
      perturbation: ['float32'],
      attributions: ['float32'],
    })
    const mask = right(requireArg(byId('mlp.kernelshap.grouped4.t0.limit').args, 'feature_mask', ArgTensor))
    expect(mask.data).toBeInstanceOf(BigInt64Array)
    expect(mask.shape).toEqual([1, 12])
    const ids = right(requireArg(byId('textcls.layerig.embedding.left16.not_multiplied.t0').args, 'baselines', ArgBaselines))
    expect(ids !== null && typeof ids === 'object' && ids.dtype).toBe('int64')
    const inf = byId('cnn.infidelity.saliency.t1')
    expect(right(requireArg(inf.args, 'perturbation', ArgTensor)).shape).toEqual([6, 3, 32, 32])
    expect(inf.explanation).toEqual({ algorithm: 'Saliency', args: { target: 1, abs: false } })
  })

  it('reads typed args and reports a wrong type with its path', () => {
    // Wave-2 areas (LLM targets are strings, robustness targets labels) have their own arguments.
    for (const c of cases.filter((x) => x.json.area === undefined)) {
      expect(E.isRight(readArg(c.args, 'target', ArgTarget)), c.id).toBe(true)
      expect(E.isRight(readArg(c.args, 'baselines', ArgBaselines)), c.id).toBe(true)
      expect(E.isRight(readArg(c.args, 'sliding_window_shapes', IntOrInts)), c.id).toBe(true)
      expect(E.isRight(readArg(c.args, 'strides', IntOrInts)), c.id).toBe(true)
      expect(E.isRight(readArg(c.args, 'neuron_selector', IntOrInts)), c.id).toBe(true)
    }
    expect(right(readArg(byId('mlp.saliency.abs_true.t0').args, 'n_steps', IntOrInts))).toBeUndefined()
    const e = left(readArg({ target: 'zero' }, 'target', ArgTarget, ['x.json']))
    expect(e._tag).toBe('InvalidSpec')
    expect(e.path).toEqual(['x.json', 'args', 'target'])
    expect(left(requireArg({}, 'n_steps', IntOrInts)).path).toEqual(['args', 'n_steps'])
  })

  it('carries the limit and Monte-Carlo extras', () => {
    const mc = byId('mlp.noisetunnel.smoothgrad.saliency.t0.montecarlo')
    expect(mc.kind).toBe('monte_carlo')
    expect(mc.standardError?.shape).toEqual([2, 12])
    expect(mc.perSampleStd?.shape).toEqual([2, 12])
    expect(mc.tolerance.note).toMatch(/nt_samples/)
    const limits = cases.filter((c) => c.kind === 'limit')
    expect(limits).toHaveLength(rawIndex.cases.filter((c) => c.kind === 'limit').length)
    expect(limits.length).toBeGreaterThanOrEqual(4)
    for (const c of limits) expect(c.captumSample?.shape, c.id).toEqual(c.expected.attributions[0]?.shape)
  })
})

describe('loadCase on broken files', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'clarus-ref-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const mlpCase = JSON.parse(readFileSync(path.join(referenceDir, 'cases/mlp/mlp.saliency.abs_true.t0.json'), 'utf8')) as Record<string, unknown>
  const binCase = JSON.parse(readFileSync(path.join(referenceDir, 'cases/resnet18/resnet18.saliency.abs_true.t3.json'), 'utf8')) as Record<string, unknown>
  const write = (rel: string, content: unknown): string => {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true })
    writeFileSync(path.join(tmp, rel), typeof content === 'string' ? content : JSON.stringify(content))
    return rel
  }
  const clone = <A>(x: A): A => JSON.parse(JSON.stringify(x)) as A

  it('reads a copy in another directory (paths relative to the directory)', () => {
    const file = write('deep/dir/a.json', mlpCase)
    const c = right(loadCase(tmp, { file, id: 'mlp.saliency.abs_true.t0' }))
    expect(c.expected.attributions[0]?.shape).toEqual([2, 12])
  })

  it('names the file and the field of a tensor whose data does not match its shape', () => {
    const bad = clone(mlpCase) as { inputs: { data: number[][] }[] }
    bad.inputs[0]?.data[1]?.pop()
    const e = left(loadCase(tmp, { file: write('short.json', bad) }))
    expect(e._tag).toBe('InvalidSpec')
    expect(e.path).toEqual(['short.json', 'inputs', '0', 'data', '1'])
    expect(e.message).toMatch(/length 12/)
  })

  it('rejects a non-number element, a bad dtype and a missing field, each at its path', () => {
    const a = clone(mlpCase) as { expected: { attribution: { data: unknown[][] } } }
    ;(a.expected.attribution.data[0] as unknown[])[3] = 'x'
    expect(left(loadCase(tmp, { file: write('a.json', a) })).path).toEqual(['a.json', 'expected', 'attribution', 'data', '0', '3'])
    const b = clone(mlpCase) as { model_output: { dtype: string } }
    b.model_output.dtype = 'float16'
    expect(left(loadCase(tmp, { file: write('b.json', b) })).path).toEqual(['b.json', 'model_output', 'dtype'])
    const c = clone(mlpCase)
    delete c['tolerance']
    expect(left(loadCase(tmp, { file: write('c.json', c) })).path).toEqual(['c.json', 'tolerance'])
    const d = clone(mlpCase) as { format: string }
    d.format = 'clarus-captum-reference/2'
    expect(left(loadCase(tmp, { file: write('d.json', d) })).path).toEqual(['d.json', 'format'])
  })

  it('reports a tensor inside args that is malformed', () => {
    const bad = clone(mlpCase) as { args: Record<string, unknown> }
    bad.args['baselines'] = { dtype: 'float32', shape: [2, 12], data: [[1, 2]] }
    expect(left(loadCase(tmp, { file: write('argbad.json', bad) })).path).toEqual(['argbad.json', 'args', 'baselines', 'data'])
  })

  it('reports unreadable files and invalid JSON without throwing', () => {
    expect(left(loadCase(tmp, { file: 'nope.json' })).path).toEqual(['nope.json'])
    expect(left(loadCase(tmp, { file: write('trunc.json', '{"format": ') })).message).toMatch(/not valid JSON/)
    expect(left(loadReferenceDir(path.join(tmp, 'nowhere'))).path).toEqual(['index.json'])
  })

  it('reports a case file that disagrees with its index entry', () => {
    const e = left(loadCase(tmp, { file: write('m.json', mlpCase), id: 'other', model: 'mlp' }))
    expect(e.path).toEqual(['m.json', 'id'])
  })

  it('reports a missing or truncated .bin file at the tensor that needs it', () => {
    write('bin/x.json', binCase)
    expect(left(loadCase(tmp, { file: 'bin/x.json' })).path).toEqual(['bin/x.json', 'inputs', '0', 'file'])
    const src = path.join(referenceDir, 'cases/resnet18/resnet18.saliency.abs_true.t3.bin')
    writeFileSync(path.join(tmp, 'bin/resnet18.saliency.abs_true.t3.bin'), readFileSync(src).subarray(0, 700_000))
    expect(left(loadCase(tmp, { file: 'bin/x.json' })).path).toEqual(['bin/x.json', 'expected', 'attribution', 'byte_offset'])
    copyFileSync(src, path.join(tmp, 'bin/resnet18.saliency.abs_true.t3.bin'))
    expect(right(loadCase(tmp, { file: 'bin/x.json' })).inputs[0]?.data.length).toBe(150528)
    const wrongLength = clone(binCase) as { inputs: { length: number }[] }
    ;(wrongLength.inputs[0] as { length: number }).length = 10
    expect(left(loadCase(tmp, { file: write('bin/y.json', wrongLength) })).path).toEqual(['bin/y.json', 'inputs', '0', 'length'])
  })

  it('rejects a malformed index with the field at fault', () => {
    const index = JSON.parse(readFileSync(path.join(referenceDir, 'index.json'), 'utf8')) as { cases: Record<string, unknown>[] }
    ;(index.cases[3] as Record<string, unknown>)['kind'] = 'approximate'
    write('badindex/index.json', index)
    expect(left(loadReferenceDir(path.join(tmp, 'badindex'))).path).toEqual(['index.json', 'cases', '3', 'kind'])
  })

  it('accepts liberal variants: no constructor key, a list of attributions, quoted NaN, int64 strings', () => {
    const v = clone(mlpCase) as Record<string, unknown> & { expected?: { attribution: unknown } }
    Reflect.deleteProperty(v, 'constructor')
    delete v['layer']
    const exp = v.expected as { attribution: unknown }
    exp.attribution = [exp.attribution, { dtype: 'float32', shape: [1], data: ['NaN'] }]
    v['args'] = { feature_mask: { dtype: 'int64', shape: [2], data: ['9007199254740993', -1] } }
    const c = right(loadCase(tmp, { file: write('liberal.json', v) }))
    expect(c.constructorArgs).toEqual({})
    expect(c.layer).toBeNull()
    expect(c.expected.attributions).toHaveLength(2)
    expect(Number.isNaN(c.expected.attributions[1]?.data[0] as number)).toBe(true)
    const mask = c.args['feature_mask'] as HostTensor<'int64'>
    expect(Array.from(mask.data)).toEqual([9007199254740993n, -1n])
    expect(sizeOf(mask.shape)).toBe(2)
  })
})
