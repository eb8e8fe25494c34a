// Model files of the served folder: names that leave it are refused; each file loads once; releaseAll frees them.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { float32 } from '../../../src/core/tensor.js'
import { modelCache } from '../../../src/serve/modelCache.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const dir = mkdtempSync(path.join(tmpdir(), 'clarus-models-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('modelCache', () => {
  it('loads a file once and releases it on releaseAll', async () => {
    copyFileSync(path.join(REFERENCE_DIR, 'models', 'mlp.onnx'), path.join(dir, 'mlp.onnx'))
    const cache = modelCache(dir)
    const where = cache.resolve('./mlp.onnx')
    if (!('file' in where)) throw new Error(where.problem.message)
    const [a, b] = await Promise.all([cache.load(where.file), cache.load(where.file)])
    expect(a).toBe(b)
    const x = float32([1, 12], new Array<number>(12).fill(0.5))
    expect(E.isRight(await a.model.forward([a.model.backend.fromHost(x) as never])())).toBe(true)
    await cache.releaseAll()
    const after = await a.model.forward([a.model.backend.fromHost(x) as never])()
    expect(E.isLeft(after) && after.left._tag).toBe('BadModel')
    // A later request loads it afresh.
    expect(await cache.load(where.file)).not.toBe(a)
    await cache.releaseAll()
  })

  it('refuses names outside the folder (400) and reports missing files (404)', () => {
    const cache = modelCache(dir)
    const status = (name: string): number | 'ok' => {
      const r = cache.resolve(name)
      return 'file' in r ? 'ok' : r.problem.status
    }
    expect(status('missing.onnx')).toBe(404)
    expect(status('../mlp.onnx')).toBe(400)
    expect(status('a/../../mlp.onnx')).toBe(400)
    expect(status('..\\mlp.onnx')).toBe(400)
    expect(status('/etc/passwd.onnx')).toBe(400)
    expect(status('C:\\models\\mlp.onnx')).toBe(400)
    expect(status('mlp.onnx\0.onnx')).toBe(400)
    expect(status('mlp.bin')).toBe(400)
    expect(status('mlp.onnx')).toBe('ok')
  })
})
