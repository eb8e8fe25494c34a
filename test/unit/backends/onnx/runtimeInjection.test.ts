import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadDefaultRuntime as loadNodeRuntime } from '../../../../src/backends/onnx/runtime.js'

const ONNX = fileURLToPath(new URL('../../../../src/backends/onnx', import.meta.url))
/** The one file of the backend allowed to touch Node: the default runtime (its browser half is runtime.web.ts). */
const NODE_ONLY = 'runtime.ts'
/** File reading, shared by every entry point: Node's file system here, fetch in files.web.ts. */
const FILES = fileURLToPath(new URL('../../../../src/core/platform/files.ts', import.meta.url))

const tsFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [])

const stripComments = (src: string): string => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

/** Specifiers of the static imports and re-exports of a module (`import … from 'x'`, `import 'x'`, `export … from 'x'`). */
export const staticImports = (src: string): string[] => {
  const code = stripComments(src)
  const specs: string[] = []
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^'"`;()=]*?(?:\bfrom\s*)?['"]([^'"]+)['"]/gm)) specs.push(m[1]!)
  return specs
}

const forbidden = (spec: string): boolean =>
  spec === 'onnxruntime-node' || spec.startsWith('onnxruntime-node/') || spec.startsWith('node:') || builtinModules.includes(spec)

describe('the ONNX backend has no Node dependency at module scope', () => {
  it('the import scanner sees static imports and not dynamic ones (negative controls)', () => {
    const sample = [
      "import { readFile } from 'node:fs/promises'",
      "import ort from 'onnxruntime-node'",
      "import type { X } from 'onnxruntime-node'",
      "import 'fs'",
      "export { a } from 'node:path'",
      "import {\n  b,\n  c,\n} from 'path'",
      "const later = await import('onnxruntime-node')",
      "// import x from 'node:os'",
      "/* import y from 'node:os' */",
      "export const load = async () => {\n  const m = await import('onnxruntime-node')\n}",
    ].join('\n')
    expect(staticImports(sample)).toEqual(['node:fs/promises', 'onnxruntime-node', 'onnxruntime-node', 'fs', 'node:path', 'path'])
    expect(staticImports(sample).filter(forbidden)).toHaveLength(6)
    // and the Node half of file reading does import Node at module scope, which the scan would catch
    expect(staticImports(readFileSync(FILES, 'utf8')).filter(forbidden)).toEqual(['node:fs/promises'])
  })

  it('no file under src/backends/onnx except runtime.ts imports onnxruntime-node or a Node built-in statically', () => {
    const files = tsFiles(ONNX).filter((f) => relative(ONNX, f) !== NODE_ONLY)
    expect(files.length).toBeGreaterThan(10)
    const offenders = files.flatMap((f) => staticImports(readFileSync(f, 'utf8')).filter(forbidden).map((s) => `${relative(ONNX, f)}: ${s}`))
    expect(offenders).toEqual([])
  })

  it('onnxruntime-node is reached only through dynamic imports in runtime.ts', () => {
    const src = stripComments(readFileSync(join(ONNX, NODE_ONLY), 'utf8'))
    expect(src).toMatch(/\bimport\('onnxruntime-node'\)/)
    expect(staticImports(src)).not.toContain('onnxruntime-node')
    const session = stripComments(readFileSync(join(ONNX, 'session.ts'), 'utf8'))
    expect(session).toMatch(/import\('\.\/runtime\.js'\)/)
    expect(staticImports(session)).not.toContain('./runtime.js')
  })
})

describe('the default runtime', () => {
  it('loadNodeRuntime gives onnxruntime-node with a working session factory and tensor constructor', async () => {
    const ort = await loadNodeRuntime()
    expect(typeof ort.InferenceSession.create).toBe('function')
    const t = new ort.Tensor('float32', Float32Array.of(1, 2), [2])
    expect([t.type, [...t.dims]]).toEqual(['float32', [2]])
  })
})
