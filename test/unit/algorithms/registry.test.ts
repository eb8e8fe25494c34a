// METHODS decodes options with each algorithm's own io-ts codec: bad options are an InvalidSpec
// naming every bad field, unknown entries are ignored, and NoiseTunnel hands the rest to the method
// it wraps.
import { describe, expect, it } from 'vitest'
import { IntegratedGradientsOptions } from '../../../src/algorithms/integratedGradients.js'
import { LimeOptions } from '../../../src/algorithms/lime.js'
import { METHODS } from '../../../src/algorithms/registry.js'
import { ClarusError, integratedGradients, lime, noiseTunnel, occlusion } from '../../../src/index.js'

/** The paths of the InvalidSpec `f` throws (fails the test if it returns or throws anything else). */
const badPaths = (f: () => unknown): readonly string[] => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ClarusError)
    const err = (e as ClarusError).error
    expect(err._tag).toBe('InvalidSpec')
    return err._tag === 'InvalidSpec' ? err.issues.map((i) => i.path.join('.')) : []
  }
  throw new Error('expected a ClarusError')
}

describe('METHODS options', () => {
  it('exposes each method file\'s options codec', () => {
    expect(METHODS['integratedGradients']!.options).toBe(IntegratedGradientsOptions)
    expect(METHODS['lime']!.options).toBe(LimeOptions)
    for (const [name, m] of Object.entries(METHODS)) expect(typeof m.options.decode, name).toBe('function')
  })

  it('builds the same pipeline as the method function, ignoring entries the method does not take', () => {
    expect(METHODS['integratedGradients']!.build({ nSteps: 7, method: 'riemann_left', abs: true, layer: 'x' })).toEqual(integratedGradients({ nSteps: 7, method: 'riemann_left' }))
    expect(METHODS['occlusion']!.build({ slidingWindowShapes: [2, 2], strides: 1 })).toEqual(occlusion({ slidingWindowShapes: [2, 2], strides: 1 }))
    // undefined entries are absent ones: the defaults apply
    expect(METHODS['integratedGradients']!.build({ nSteps: undefined })).toEqual(integratedGradients())
    expect(METHODS['saliency']!.build()).toEqual(METHODS['saliency']!.build({}))
  })

  it('passes every Lime option the codec knows, similarity and interpretableModel included', () => {
    const o = { nSamples: 9, similarity: { _tag: 'kernelShap' }, interpretableModel: { _tag: 'ridge', alpha: 0.5 }, sampler: 'enumerate', returnInputShape: false } as const
    expect(METHODS['lime']!.build(o)).toEqual(lime(o))
    expect(METHODS['lime']!.build(o)).not.toEqual(lime({ nSamples: 9, sampler: 'enumerate', returnInputShape: false }))
  })

  it('throws an InvalidSpec naming every bad field', () => {
    expect(badPaths(() => METHODS['integratedGradients']!.build({ nSteps: 0, method: 'simpson' }))).toEqual(['nSteps', 'method'])
    expect(badPaths(() => METHODS['lime']!.build({ similarity: { _tag: 'expKernel', distance: 'manhattan', kernelWidth: 1 } }))).toEqual(['similarity.distance'])
    expect(badPaths(() => METHODS['kernelShap']!.build({ nSamples: 1 }))).toEqual(['nSamples'])
    expect(badPaths(() => METHODS['occlusion']!.build({}))).toEqual(['slidingWindowShapes'])
    expect(badPaths(() => METHODS['layerActivation']!.build({ layer: 3 }))).toEqual(['layer'])
    expect(badPaths(() => METHODS['saliency']!.build(null))).toEqual([''])
  })

  it('NoiseTunnel: its own options, the rest to the method it wraps', () => {
    const built = METHODS['noiseTunnel']!.build({ wrapped: 'integratedGradients', nSteps: 4, ntSamples: 3, ntType: 'vargrad', stdevs: [0.1, 0.2], returnConvergenceDelta: true })
    expect(built).toEqual(noiseTunnel(integratedGradients({ nSteps: 4, returnConvergenceDelta: true }), { nSamples: 3, ntType: 'vargrad', stdevs: [0.1, 0.2] }))
    for (const wrapped of ['noiseTunnel', 'tcav', 'toString']) expect(badPaths(() => METHODS['noiseTunnel']!.build({ wrapped })), wrapped).toEqual(['wrapped'])
    expect(badPaths(() => METHODS['noiseTunnel']!.build({}))).toEqual(['wrapped'])
    expect(badPaths(() => METHODS['noiseTunnel']!.build({ wrapped: 'saliency', ntSamples: 0 }))).toEqual(['ntSamples'])
    // the wrapped method decodes its own entries
    expect(badPaths(() => METHODS['noiseTunnel']!.build({ wrapped: 'integratedGradients', nSteps: -1 }))).toEqual(['nSteps'])
  })
})
