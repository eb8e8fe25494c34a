import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as tfl from '@tensorflow/tfjs-layers'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/clarus.js'

const root = mkdtempSync(path.join(tmpdir(), 'clarus-tfjs-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) })
  return { code, out, err }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  // y = W2 · relu(W1 x): weights fixed so the expected saliency is known
  const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'relu', useBias: false, name: 'hidden' }), tfl.layers.dense({ units: 2, useBias: false, name: 'out' })] })
  m.getLayer('hidden').setWeights([tf.tensor2d([[1, 0], [0, 1], [1, 1]])])
  m.getLayer('out').setWeights([tf.tensor2d([[2, 0], [0, 3]])])
  await m.save(tf.io.withSaveHandler(async (a) => {
    const data = Array.isArray(a.weightData) ? Buffer.concat(a.weightData.map((b) => Buffer.from(b))) : Buffer.from(a.weightData as ArrayBuffer)
    writeFileSync(path.join(root, 'weights.bin'), data)
    writeFileSync(path.join(root, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }))
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
  }))
  m.dispose()
})

describe('clarus on a TensorFlow.js model.json', () => {
  it('lists its layers', async () => {
    const r = await cli('layers', path.join(root, 'model.json'))
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/hidden {2}Dense/)
  })

  it('explains it: saliency of output 1 is |3 · [0, 1, 1]| where the hidden unit is active', async () => {
    writeFileSync(path.join(root, 'x.json'), JSON.stringify([1, 2, 3]))
    const before = tf.memory().numTensors
    const r = await cli('explain', path.join(root, 'model.json'), '--input', path.join(root, 'x.json'), '--method', 'saliency', '--target', '1', '--out', path.join(root, 'out'))
    expect(r.code, r.err).toBe(0)
    const a = JSON.parse(readFileSync(path.join(root, 'out', 'attributions.json'), 'utf8')) as { prediction: number[]; attributions: { data: number[] }[] }
    // hidden = relu([1 + 3, 2 + 3]) = [4, 5]; y = [8, 15]
    expect(a.prediction).toEqual([8, 15])
    expect(a.attributions[0]!.data).toEqual([0, 3, 3])
    expect(tf.memory().numTensors).toBe(before) // the loaded weights are freed too
  })

  it('a model.json without a topology is refused with a message', async () => {
    writeFileSync(path.join(root, 'not-a-model.json'), JSON.stringify({ hello: 1 }))
    const r = await cli('layers', path.join(root, 'not-a-model.json'))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/not a TensorFlow\.js model\.json: it has no modelTopology/)
  })
})
