// Fastify stays out of `import 'clarus'`: only the service module imports it, and only the service
// entry point and the `clarus serve` command reach that module (the command by a dynamic import).
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = path.resolve('src')
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []))
const rel = (f: string): string => path.relative(SRC, f).split(path.sep).join('/')
const staticImports = (text: string): string[] => [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].filter((m) => !/^\s*import\s+type\s/.test(m[0])).map((m) => m[1]!)

describe('fastify is loaded only by the service', () => {
  const all = files(SRC).map((f) => ({ file: rel(f), text: readFileSync(f, 'utf8') }))
  it('only src/serve/server.ts imports fastify', () => {
    expect(all.filter((f) => staticImports(f.text).includes('fastify')).map((f) => f.file)).toEqual(['serve/server.ts'])
  })
  it('nothing outside src/serve imports it statically', () => {
    const importers = all.filter((f) => !f.file.startsWith('serve/') && staticImports(f.text).some((s) => /(^|\/)serve\/(server|index)\.js$/.test(s)))
    expect(importers.map((f) => f.file)).toEqual([])
    // The command reaches it dynamically, and the test above would see a static import.
    expect(all.find((f) => f.file === 'cli/serve.ts')!.text).toContain("await import('../serve/server.js')")
  })
})
