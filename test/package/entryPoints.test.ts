// What each entry point loads when it is imported. The engines are optional peers, so the core,
// host, viz and onnx entries must not import TensorFlow.js or ONNX Runtime at module load (onnx loads
// onnxruntime-node with a dynamic import on first use), and the tfjs and conformance entries load
// theirs through importPeer, so their index must re-export exactly what their engine module exports.
import * as esbuild from 'esbuild'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as conformanceEngine from '../../src/conformance/engine.js'
import * as conformanceIndex from '../../src/conformance/index.js'
import * as tfjsEngine from '../../src/backends/tfjs/engine.js'
import * as tfjsIndex from '../../src/backends/tfjs/index.js'

const repo = resolve(import.meta.dirname, '../..')
const engine = /^(@tensorflow\/|onnxruntime-)/

/** Every bare package the entry's module graph imports, with how (static or dynamic). */
const packagesOf = async (entry: string): Promise<{ readonly path: string; readonly kind: string }[]> => {
  const r = await esbuild.build({
    entryPoints: [resolve(repo, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  })
  return Object.values(r.metafile.inputs).flatMap((i) => i.imports.filter((m) => m.external === true).map((m) => ({ path: m.path, kind: m.kind })))
}

describe('entry points and the engines', () => {
  it.each(['src/index.ts', 'src/backends/host/index.ts', 'src/viz/index.ts'])('%s imports no engine, statically or dynamically', async (entry) => {
    const found = await packagesOf(entry)
    expect(found.filter((m) => engine.test(m.path))).toEqual([])
    expect(found.length).toBeGreaterThan(0) // the graph was walked (fp-ts, io-ts, pngjs, …)
  }, 60_000)

  it('src/backends/onnx/index.ts loads onnxruntime-node only by dynamic import, and never TensorFlow.js', async () => {
    const found = (await packagesOf('src/backends/onnx/index.ts')).filter((m) => engine.test(m.path))
    expect(found.length).toBeGreaterThan(0)
    expect(found.every((m) => m.path === 'onnxruntime-node' && m.kind === 'dynamic-import')).toBe(true)
  }, 60_000)

  it('the tfjs and conformance entries import their engine modules only dynamically', async () => {
    for (const entry of ['src/backends/tfjs/index.ts', 'src/conformance/index.ts']) {
      const r = await esbuild.build({ entryPoints: [resolve(repo, entry)], bundle: true, external: ['*'], write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent' })
      const imports = Object.values(r.metafile.inputs).flatMap((i) => i.imports)
      expect(imports.filter((m) => m.kind !== 'dynamic-import' && (engine.test(m.path) || m.path.endsWith('engine.js'))), entry).toEqual([])
      expect(imports.some((m) => m.kind === 'dynamic-import' && m.path.endsWith('engine.js')), entry).toBe(true)
    }
  }, 60_000)

  it.each([
    ['clarus/tfjs', tfjsIndex, tfjsEngine],
    ['clarus/conformance', conformanceIndex, conformanceEngine],
  ] as const)('%s re-exports every value of its engine module, the same objects', (_, index, eng) => {
    const names = Object.keys(eng).sort()
    expect(Object.keys(index).sort()).toEqual(names)
    for (const n of names) expect((index as Record<string, unknown>)[n], n).toBe((eng as Record<string, unknown>)[n])
  })
})
