import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/clarus.js'
import { encode as encodeJpeg } from 'jpeg-js'
import { decodePng } from '../../../src/viz/index.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const MODELS = path.join(REFERENCE_DIR, 'models')
const root = mkdtempSync(path.join(tmpdir(), 'clarus-cli-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const file = (name: string, content: unknown): string => {
  const p = path.join(root, name)
  writeFileSync(p, typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content))
  return p
}

/** Runs the CLI in-process; returns the exit code and what it printed. */
const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) })
  return { code, out, err }
}

/** Spawns the CLI as a user would (node + tsx on the source); resolves with the exit code and stderr. */
const spawnCli = (args: readonly string[], onStderr?: (text: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; err: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/clarus.ts', ...args], { cwd: path.resolve('.'), stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      onStderr?.(err, () => child.kill('SIGINT'))
    })
    child.on('close', (code, signal) => resolve({ code, signal, err }))
  })

const x12 = [[0.5, -1, 0.2, 0.3, 1.5, -0.7, 0.1, 0, 0.9, -0.4, 0.6, 1.1]]

describe('clarus (in process)', () => {
  it('methods: lists every method with its options', async () => {
    const r = await cli('methods', '--json')
    expect(r.code).toBe(0)
    const rows = JSON.parse(r.out) as { name: string; options: { name: string; required: boolean }[] }[]
    expect(rows.find((m) => m.name === 'integratedGradients')?.options.map((o) => o.name)).toEqual(expect.arrayContaining(['nSteps', 'method']))
    expect(rows.find((m) => m.name === 'layerGradCam')?.options.find((o) => o.name === 'layer')?.required).toBe(true)
    expect((await cli('methods')).out).toMatch(/^occlusion {2}\(Captum Occlusion; primary\)$/m)
  })

  it('layers: names, op types and shapes', async () => {
    const r = await cli('layers', path.join(MODELS, 'cnn.onnx'))
    expect(r.code).toBe(0)
    expect(r.out).toContain('inputs:  input float32 [batch, 3, 32, 32]')
    expect(r.out).toMatch(/\/conv1\/Conv_output_0 {2}Conv \[8, 32, 32\] NCHW/)
  })

  it('describe: prints a valid spec, and names every bad field of a bad one', async () => {
    const good = await cli('describe', file('good.json', { method: 'integratedGradients', options: { nSteps: 8 }, preprocess: { mean: [0.5] } }))
    expect(good.code).toBe(0)
    expect(good.out).toContain('interpolate(nSteps=8, method=gausslegendre)')
    expect(good.out).toContain('preprocess: {"mean":[0.5]}')
    const bad = await cli('describe', file('bad.json', { method: 'integratedGradients', options: { nSteps: 'many', bogus: 1 }, extra: true, preprocess: { std: [0] } }))
    expect(bad.code).toBe(2)
    for (const field of ['extra:', 'preprocess.std.0:', 'options.bogus:', 'options.nSteps:']) expect(bad.err).toContain(field)
    const pipe = await cli('describe', file('pipe.json', { _tag: 'Pipeline', name: 'p', stages: [{ _tag: 'nope' }] }))
    expect(pipe.code).toBe(2)
    expect(pipe.err).toMatch(/stages\.0\._tag: unknown stage "nope"/)
    expect((await cli('describe', file('broken.json', '{ "method": '))).err).toMatch(/is not valid JSON/)
  })

  it('explain: bad input, method, flag or target gives a clear message, exit 2 and no output', async () => {
    const out = path.join(root, 'never')
    const mlp = path.join(MODELS, 'mlp.onnx')
    const cases: [string[], RegExp][] = [
      [['--input', file('ragged.json', [[1, 2], [3]]), '--method', 'saliency'], /input\[1\] has shape \[1\] but input\[0\] has \[2\]/],
      [['--input', file('x.json', x12), '--method', 'integratedGradient'], /unknown method "integratedGradient" \(did you mean integratedGradients\?\)/],
      [['--input', file('x.json', x12), '--method', 'saliency', '--colour', 'red'], /unknown option --colour/],
      [['--input', file('x.json', x12), '--method', 'saliency', '--target', '7'], /--target 7 is out of range: the model has 3 outputs/],
      [['--input', file('x.json', x12), '--method', 'saliency', '--options', '{nSteps: 3}'], /--options is not valid JSON/],
      [['--input', path.join(root, 'missing.json'), '--method', 'saliency'], /cannot read input .*missing\.json: no such file/],
      [['--input', file('x.json', x12), '--method', 'integratedGradients', '--baseline', file('b.json', [1, 2])], /baseline .* has 2 values; the input \[1, 12\] needs 12/],
      [['--input', file('x.json', x12), '--method', 'saliency', '--baseline', '0.5'], /Saliency does not use baselines/],
      [['--input', file('x.json', x12), '--method', 'layerGradCam', '--options', '{"layer": "/fc9/Gemm_output_0"}'], /fc9/],
      [['--input', file('broken.jpg', 'GIF89a, not a JPEG'), '--method', 'saliency'], /broken\.jpg is not a readable PNG or JPEG image: .*first bytes are 47 49 46 38/],
    ]
    for (const [args, message] of cases) {
      const r = await cli('explain', mlp, ...args, '--out', out)
      expect(r.code, r.err).toBe(2)
      expect(r.err).toMatch(message)
    }
    expect(existsSync(out)).toBe(false)
  })

  it('explain: writes attributions, charts and the report for a tabular model', async () => {
    const out = path.join(root, 'mlp')
    const r = await cli('explain', path.join(MODELS, 'mlp.onnx'), '--input', file('x.json', x12), '--method', 'integratedGradients', '--options', '{"nSteps": 64}', '--target', '1', '--out', out)
    expect(r.code, r.err).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['attributions.json', 'bar.svg', 'report.html', 'waterfall.svg'])
    const a = JSON.parse(readFileSync(path.join(out, 'attributions.json'), 'utf8')) as { target: number; attributions: { shape: number[]; data: number[] }[]; delta: number[]; prediction: number[] }
    expect(a.target).toBe(1)
    expect(a.attributions[0]!.shape).toEqual([1, 12])
    expect(Math.abs(a.delta[0]!)).toBeLessThan(1e-2)
    const report = readFileSync(path.join(out, 'report.html'), 'utf8')
    expect(report).toContain('convergence delta')
    expect(report).toContain('completenessDelta')
    expect(report).toContain('&quot;nSteps&quot;: 64')
    // the waterfall ends at f(0) + Σ attributions = f(x) + delta (δ = Σ attr − (f(x) − f(0))), to 3 digits
    const total = a.prediction[1]! + a.delta[0]!
    expect(readFileSync(path.join(out, 'waterfall.svg'), 'utf8')).toContain(`>${Number(total.toPrecision(3))}<`)
  })

  it('explain: a token model gets a token heat map with every token escaped', async () => {
    const out = path.join(root, 'tokens')
    const tokens = ['the', '<img src=x onerror=alert(1)>', ...Array.from({ length: 14 }, (_, i) => `w${i}`)]
    const input = file('tokens.json', { ids: tokens.map((_, i) => 3 + i), tokens })
    const r = await cli('explain', path.join(MODELS, 'textcls.onnx'), '--input', input, '--method', 'layerIntegratedGradients', '--options', '{"layer": "/embedding/Gather_output_0", "nSteps": 8}', '--out', out)
    expect(r.code, r.err).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['attributions.json', 'bar.svg', 'report.html', 'tokens.svg'])
    for (const f of ['tokens.svg', 'report.html', 'bar.svg']) {
      const doc = readFileSync(path.join(out, f), 'utf8')
      expect(doc, f).toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(doc, f).not.toContain('<img src=x')
    }
    const a = JSON.parse(readFileSync(path.join(out, 'attributions.json'), 'utf8')) as { attributions: { shape: number[] }[] }
    expect(a.attributions[0]!.shape).toEqual([1, 16, 32])
  })

  it('explain: a folder in the way of an output is refused before anything is written', async () => {
    const out = path.join(root, 'blocked')
    mkdirSync(path.join(out, 'report.html'), { recursive: true })
    const r = await cli('explain', path.join(MODELS, 'mlp.onnx'), '--input', file('x.json', x12), '--method', 'saliency', '--out', out)
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/report\.html .* a folder of that name is in the way; nothing was written/)
    expect(readdirSync(out)).toEqual(['report.html'])
  })

  it('explain: a JPEG input is read like a PNG (decoded, resized to the model input)', async () => {
    const [w, h] = [40, 24]
    const rgba = Buffer.alloc(w * h * 4, 255)
    for (let p = 0; p < w * h; p++) if (p % w < w / 2) rgba.fill(0, p * 4, p * 4 + 3) // left half black
    const out = path.join(root, 'jpeg')
    const r = await cli('explain', path.join(MODELS, 'cnn.onnx'), '--input', file('photo.JPG', encodeJpeg({ width: w, height: h, data: rgba }, 90).data), '--method', 'saliency', '--out', out)
    expect(r.code, r.err).toBe(0)
    const a = JSON.parse(readFileSync(path.join(out, 'attributions.json'), 'utf8')) as { attributions: { shape: number[] }[] }
    expect(a.attributions[0]!.shape).toEqual([1, 3, 32, 32])
    const heat = decodePng(readFileSync(path.join(out, 'heatmap.png')))
    expect([heat.width, heat.height]).toEqual([256, 256])
  })
})

describe('clarus (spawned)', () => {
  it('explains an image model end to end: PNG pictures and a standalone report', async () => {
    const out = path.join(root, 'cnn')
    const r = await spawnCli(['explain', path.join(MODELS, 'cnn.onnx'), '--input', 'examples/assets/text-line.png', '--method', 'saliency', '--out', out])
    expect(r.code, r.err).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['attributions.json', 'grid.svg', 'heatmap.png', 'overlay.png', 'report.html'])
    const heat = decodePng(readFileSync(path.join(out, 'heatmap.png')))
    expect([heat.width, heat.height]).toEqual([256, 256]) // 32 × 32 upscaled 8×
    const report = readFileSync(path.join(out, 'report.html'), 'utf8')
    expect(report.match(/data:image\/png;base64,/g)?.length).toBeGreaterThanOrEqual(2)
    expect(report).not.toMatch(/<script|(src|href)="https?:/)
  })

  it('a bad spec exits with status 2 and a message naming the field, writing nothing', async () => {
    const out = path.join(root, 'bad-spec')
    const r = await spawnCli(['explain', path.join(MODELS, 'mlp.onnx'), '--input', file('x.json', x12), '--spec', file('s.json', { method: 'occlusion', options: { slidingWindowShapes: 'big' } }), '--out', out])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/options\.slidingWindowShapes/)
    expect(existsSync(out)).toBe(false)
  })

  it('Ctrl-C cancels a long run cleanly: status 130, nothing written', async () => {
    const out = path.join(root, 'cancelled')
    let sent = false
    const r = await spawnCli(
      ['explain', path.join(MODELS, 'cnn.onnx'), '--input', 'examples/assets/text-line.png', '--method', 'integratedGradients', '--options', '{"nSteps": 10000}', '--progress', '--out', out],
      (text, kill) => {
        if (!sent && text.includes('progress')) {
          sent = true
          kill()
        }
      },
    )
    expect(sent).toBe(true)
    expect(r.code, r.err).toBe(130)
    expect(r.err).toContain('cancelled; nothing was written')
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([])
  })
})
