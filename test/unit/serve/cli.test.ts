// `clarus serve`: flags checked before anything starts; the server answers, then stops on SIGTERM
// (in-process with stand-in signals, and once as a real process sent a real SIGTERM).
import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/clarus.js'
import { runServe } from '../../helpers/serveCli.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const MODELS = path.join(REFERENCE_DIR, 'models')

const cli = async (...argv: string[]): Promise<{ code: number; err: string }> => {
  let err = ''
  const code = await main(argv, { write: () => undefined }, { write: (s: string) => (err += s) })
  return { code, err }
}

describe('clarus serve', () => {
  it('refuses bad flags with exit code 2 and a message naming the flag', async () => {
    expect(await cli('serve')).toMatchObject({ code: 2, err: expect.stringContaining('--models') })
    expect(await cli('serve', '--models', MODELS, '--port', 'http')).toMatchObject({ code: 2, err: expect.stringContaining('--port') })
    expect(await cli('serve', '--models', MODELS, '--max-concurrent', '0')).toMatchObject({ code: 2, err: expect.stringContaining('--max-concurrent') })
    expect(await cli('serve', '--models', MODELS, '--token-env', 'CLARUS_TEST_UNSET_TOKEN')).toMatchObject({ code: 2, err: expect.stringContaining('CLARUS_TEST_UNSET_TOKEN') })
    expect(await cli('serve', '--models', path.join(MODELS, 'no-such-dir'))).toMatchObject({ code: 2, err: expect.stringContaining('models') })
  })

  it('serves with a token from the environment and stops on SIGTERM', async () => {
    process.env.CLARUS_TEST_TOKEN = 'tok'
    const run = await runServe(['--models', MODELS, '--port', '0', '--token-env', 'CLARUS_TEST_TOKEN', '--max-steps', '8'])
    const url = run.url
    delete process.env.CLARUS_TEST_TOKEN
    expect(run.log()).toContain('bearer token required')
    expect((await fetch(`${url}/health`)).status).toBe(200)
    expect((await fetch(`${url}/methods`)).status).toBe(401)
    const r = await fetch(`${url}/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok' },
      body: JSON.stringify({ model: 'mlp.onnx', spec: { method: 'integratedGradients', options: { nSteps: 9 } }, inputs: [{ dtype: 'float32', shape: [1, 12], data: new Array<number>(12).fill(0.1) }], target: 0 }),
    })
    expect(r.status).toBe(400)
    expect(((await r.json()) as { issues: { path: string }[] }).issues[0]!.path).toBe('spec.options.nSteps')
    run.terminate()
    await run.done
    expect(run.log()).toContain('stopped')
    await expect(fetch(`${url}/health`)).rejects.toThrow()
  })

  it('a real process exits 0 after SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/clarus.ts', 'serve', '--models', MODELS, '--port', '0'], { cwd: path.resolve('.'), stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString()
        const m = /listening on (http:\/\/\S+)/.exec(err)
        if (m !== null) resolve(m[1]!)
      })
      child.on('close', () => reject(new Error(`serve exited early: ${err}`)))
    })
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true })
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
    expect(err).toContain('stopped')
  })
})
