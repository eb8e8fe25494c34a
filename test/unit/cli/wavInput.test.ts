import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/clarus.js'
import { loadInput } from '../../../src/cli/inputs.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const MODELS = path.join(REFERENCE_DIR, 'models')
const root = mkdtempSync(path.join(tmpdir(), 'clarus-wav-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A 16-bit PCM mono WAV at 8 kHz holding `values` (already scaled to integers). */
const wavFile = (name: string, values: readonly number[]): string => {
  const v = new DataView(new ArrayBuffer(44 + 2 * values.length))
  const cc = (at: number, id: string): void => [...id].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)))
  cc(0, 'RIFF')
  v.setUint32(4, 36 + 2 * values.length, true)
  cc(8, 'WAVE')
  cc(12, 'fmt ')
  v.setUint32(16, 16, true)
  v.setUint16(20, 1, true)
  v.setUint16(22, 1, true)
  v.setUint32(24, 8000, true)
  v.setUint32(28, 16000, true)
  v.setUint16(32, 2, true)
  v.setUint16(34, 16, true)
  cc(36, 'data')
  v.setUint32(40, 2 * values.length, true)
  values.forEach((x, i) => v.setInt16(44 + 2 * i, x, true))
  const p = path.join(root, name)
  writeFileSync(p, new Uint8Array(v.buffer))
  return p
}

const cli = async (...argv: string[]): Promise<{ code: number; err: string }> => {
  let err = ''
  const code = await main(argv, { write: () => undefined }, { write: (s: string) => (err += s) })
  return { code, err }
}

describe('CLI --input sound.wav', () => {
  it('reads a WAV as one [1, samples] float32 row and keeps the sample rate for the picture', () => {
    const input = loadInput(wavFile('a.wav', [16384, -8192, 0]), undefined, undefined)
    expect(input.tensor.dtype).toBe('float32')
    expect(input.tensor.shape).toEqual([1, 3])
    expect(Array.from(input.tensor.data as Float32Array)).toEqual([0.5, -0.25, 0])
    expect(input.view).toEqual({ kind: 'audio', sampleRate: 8000 })
  })

  it('explains a 12-sample sound with a tabular model and draws it as a time series', async () => {
    const out = path.join(root, 'out')
    const r = await cli('explain', path.join(MODELS, 'mlp.onnx'), '--input', wavFile('x.wav', [100, -3000, 900, 12000, 0, 5, -7, 30000, 42, 1, -1, 2000]), '--method', 'saliency', '--out', out)
    expect(r.code, r.err).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['attributions.json', 'report.html', 'timeseries.svg'])
    const svg = readFileSync(path.join(out, 'timeseries.svg'), 'utf8')
    expect(svg).toContain('waveform, time in s')
    expect(svg).toContain('>0.0014<') // the last sample's time, 11 / 8000 s
    expect(svg.match(/<polyline points="([^"]*)"/)![1]!.split(' ')).toHaveLength(12) // one point per sample
  })

  it('a file that is not a readable WAV is a usage error naming the problem', async () => {
    const p = path.join(root, 'bad.wav')
    writeFileSync(p, 'ID3 this is an mp3')
    const r = await cli('explain', path.join(MODELS, 'mlp.onnx'), '--input', p, '--method', 'saliency', '--out', path.join(root, 'bad'))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/bad\.wav is not a readable WAV file: decodeWav: not a WAV file: it starts with "ID3 "/)
  })
})
