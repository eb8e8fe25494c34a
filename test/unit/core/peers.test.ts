// Missing optional peers (the engines) are reported as a package to install; other failures pass through.
import { describe, expect, it } from 'vitest'
import { ClarusError } from '../../../src/core/errors.js'
import { importPeer, missingPackageOf } from '../../../src/core/peers.js'

const notFound = (message: string, code = 'ERR_MODULE_NOT_FOUND'): Error => Object.assign(new Error(message), { code })

describe('missingPackageOf', () => {
  it('reads the package out of Node ESM and CommonJS not-found errors', () => {
    expect(missingPackageOf(notFound("Cannot find package '@tensorflow/tfjs' imported from /x/dist/backends/tfjs/engine.js"))).toBe('@tensorflow/tfjs')
    expect(missingPackageOf(notFound("Cannot find package 'onnxruntime-node' imported from /x/node.js"))).toBe('onnxruntime-node')
    expect(missingPackageOf(notFound("Cannot find module '@tensorflow/tfjs-core/dist/ops' from x", 'MODULE_NOT_FOUND'))).toBe('@tensorflow/tfjs-core')
    expect(missingPackageOf(notFound("Cannot find module 'long/index.js'", 'MODULE_NOT_FOUND'))).toBe('long')
  })

  it('is undefined for a missing file (a broken install, not a missing package) and for other errors', () => {
    expect(missingPackageOf(notFound("Cannot find module '/x/dist/backends/tfjs/engine.js' imported from /x/index.js"))).toBeUndefined()
    expect(missingPackageOf(notFound("Cannot find module './engine.js'"))).toBeUndefined()
    expect(missingPackageOf(notFound("Cannot find package 'fp-ts' imported from /x", 'EACCES'))).toBeUndefined()
    expect(missingPackageOf(new TypeError('x is not a function'))).toBeUndefined()
    expect(missingPackageOf('Cannot find package')).toBeUndefined()
  })
})

describe('importPeer', () => {
  it('passes a loaded module through', async () => {
    await expect(importPeer('clarus/tfjs', ['@tensorflow/tfjs'], () => Promise.resolve({ a: 1 }))).resolves.toEqual({ a: 1 })
  })

  it('turns a missing peer, or a missing package of its scope, into a ClarusError naming what to install', async () => {
    for (const missing of ['@tensorflow/tfjs', '@tensorflow/tfjs-layers']) {
      const cause = notFound(`Cannot find package '${missing}' imported from /x/engine.js`)
      const e: unknown = await importPeer('clarus/tfjs', ['@tensorflow/tfjs'], () => Promise.reject(cause)).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(ClarusError)
      const error = (e as ClarusError).error
      expect(error._tag).toBe('BackendFailure')
      expect(error.message).toContain('clarus/tfjs needs @tensorflow/tfjs')
      expect(error.message).toContain(`'${missing}' cannot be found`)
      expect(error.message).toContain('npm install @tensorflow/tfjs')
      expect(error.path).toEqual(['peerDependencies', missing])
      expect(error._tag === 'BackendFailure' && error.cause).toBe(cause)
    }
  })

  it('rethrows a missing package outside the peers, and any other error, unchanged', async () => {
    const other = notFound("Cannot find package 'fp-ts' imported from /x/engine.js")
    await expect(importPeer('clarus/tfjs', ['@tensorflow/tfjs'], () => Promise.reject(other))).rejects.toBe(other)
    const boom = new RangeError('boom')
    await expect(importPeer('clarus/tfjs', ['@tensorflow/tfjs'], () => Promise.reject(boom))).rejects.toBe(boom)
  })
})
