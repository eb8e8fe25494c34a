import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { METHODS } from 'clarus'
import { applicableMethods, decodeForm, formSchema, formValues, readForm, type FormField, type RawForm } from '../../../examples/explorer/src/formSchema.js'

/** A valid text for every field of a schema (what a user would type), by kind. */
const validRaw = (fields: readonly FormField[]): Record<string, string> => {
  const raw: Record<string, string> = {}
  for (const f of fields) {
    if (!f.required) {
      raw[f.name] = ''
      continue
    }
    if (f.name === 'layer') raw[f.name] = 'conv1'
    else if (f.name === 'neuronSelector') raw[f.name] = '0'
    else if (f.name === 'slidingWindowShapes') raw[f.name] = '[1, 2, 2]'
    else if (f.name === 'wrapped') raw[f.name] = 'saliency'
    else throw new Error(`no test value for required field ${f.name}`)
  }
  return raw
}

describe('formSchema: every registered method gets a form', () => {
  for (const [name, info] of Object.entries(METHODS)) {
    it(`${name}: a schema whose default form and filled form decode with the method's codec`, () => {
      const fields = formSchema(info.options)
      // Every option the codec knows is a field (the CLI's reading of the codec agrees on the names).
      const props = JSON.stringify(fields.map((f) => f.name))
      expect(new Set(fields.map((f) => f.name)).size, props).toBe(fields.length)
      const raw = validRaw(fields)
      const decoded = decodeForm(info.options, fields, raw)
      expect(E.isRight(decoded), JSON.stringify(decoded)).toBe(true)
      // The decoded options also build the method's pipeline.
      if (E.isRight(decoded)) expect(info.build(decoded.right)._tag).toBe('Pipeline')
    })
  }
})

describe('formSchema: widget kinds', () => {
  const ig = formSchema(METHODS['integratedGradients']!.options)
  const byName = (fs: readonly FormField[], n: string): FormField => {
    const f = fs.find((x) => x.name === n)
    if (f === undefined) throw new Error(`no field ${n}`)
    return f
  }
  it('reads integers, literal unions and booleans off the IntegratedGradients codec', () => {
    expect(byName(ig, 'nSteps')).toMatchObject({ kind: 'integer', required: false })
    expect(byName(ig, 'method').kind).toBe('select')
    expect(byName(ig, 'method').choices).toEqual(['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'])
    expect(byName(ig, 'multiplyByInputs')).toMatchObject({ kind: 'boolean', choices: [true, false] })
  })
  it('gives layer methods a layer field and nested options a JSON field', () => {
    const lig = formSchema(METHODS['layerIntegratedGradients']!.options)
    expect(byName(lig, 'layer')).toMatchObject({ kind: 'layer', required: true })
    const occ = formSchema(METHODS['occlusion']!.options)
    expect(byName(occ, 'slidingWindowShapes')).toMatchObject({ kind: 'json', required: true })
    expect(byName(occ, 'strides').kind).toBe('json')
    expect(byName(formSchema(METHODS['gradientShap']!.options), 'stdevs').kind).toBe('json')
  })
  it('finds real numbers by asking a refinement codec', () => {
    const c = t.partial({ sigma: t.refinement(t.number, (n) => n > 0, 'Positive'), name: t.string })
    expect(formSchema(c).map((f) => [f.name, f.kind])).toEqual([['sigma', 'number'], ['name', 'text']])
  })
  it('rejects a codec that is not an object codec', () => {
    expect(() => formSchema(t.number)).toThrow(/not an object codec/)
  })
})

describe('formSchema: errors next to their fields', () => {
  const info = METHODS['integratedGradients']!
  const fields = formSchema(info.options)
  const base: RawForm = { nSteps: '', method: '', multiplyByInputs: '', returnConvergenceDelta: '' }
  it('reports a number the codec refuses under its field, with the codec message', () => {
    const r = decodeForm(info.options, fields, { ...base, nSteps: '2.5' })
    expect(E.isLeft(r) && r.left.fields).toEqual({ nSteps: 'expected an integer ≥ 1, got 2.5' })
  })
  it('reports unreadable text before decoding', () => {
    const r = decodeForm(info.options, fields, { ...base, nSteps: 'many', multiplyByInputs: 'yes' })
    expect(E.isLeft(r) && Object.keys(r.left.fields).sort()).toEqual(['multiplyByInputs', 'nSteps'])
  })
  it('reports a missing required field and bad JSON', () => {
    const occ = METHODS['occlusion']!
    const of = formSchema(occ.options)
    const missing = decodeForm(occ.options, of, { slidingWindowShapes: '', strides: '' })
    expect(E.isLeft(missing) && missing.left.fields['slidingWindowShapes']).toMatch(/required/)
    const bad = decodeForm(occ.options, of, { slidingWindowShapes: '[1, 4', strides: '' })
    expect(E.isLeft(bad) && bad.left.fields['slidingWindowShapes']).toMatch(/not valid JSON/)
    const wrongType = decodeForm(occ.options, of, { slidingWindowShapes: '"big"', strides: '' })
    expect(E.isLeft(wrongType) && wrongType.left.fields['slidingWindowShapes']).toMatch(/"big"/)
  })
  it('leaves empty optional fields out and round-trips through formValues', () => {
    const r = readForm(fields, { ...base, nSteps: '16', method: 'riemann_left', multiplyByInputs: 'false' })
    expect(r).toEqual(E.right({ nSteps: 16, method: 'riemann_left', multiplyByInputs: false }))
    if (E.isRight(r)) {
      const back = formValues(fields, r.right)
      expect(back.unknown).toEqual([])
      expect(readForm(fields, back.raw)).toEqual(r)
    }
    expect(formValues(fields, { nSteps: 3, colour: 'red' }).unknown).toEqual(['colour'])
  })
})

describe('applicableMethods', () => {
  it('offers layer and neuron methods only when the model has layers', () => {
    const without = applicableMethods(METHODS, 0)
    const withLayers = applicableMethods(METHODS, 3)
    expect(without).toContain('integratedGradients')
    expect(without).not.toContain('layerIntegratedGradients')
    expect(without.every((m) => METHODS[m]!.family === 'primary')).toBe(true)
    expect(withLayers).toHaveLength(Object.keys(METHODS).length)
  })
})
