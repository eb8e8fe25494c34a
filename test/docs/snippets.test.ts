import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fileBody, markdownFiles, snippetBlocks } from '../helpers/snippets.js'

// Every TypeScript block of README.md and docs/ is an example file shown verbatim: the block must
// name its file, equal it, and the file must type-check (npm run typecheck) and run (below).
const root = path.resolve(__dirname, '../..')
const docs = markdownFiles(root)
const blocks = docs.flatMap((doc) => snippetBlocks(doc, readFileSync(path.join(root, doc), 'utf8')))
const snippetDir = path.join(root, 'examples', 'snippets')
const files = readdirSync(snippetDir).filter((f) => f.endsWith('.ts')).sort()

describe('docs snippets', () => {
  it('every ts block names its example file, which exists', () => {
    const unmarked = blocks.filter((b) => b.file === null).map((b) => `${b.doc}:${b.line + 1}`)
    expect(unmarked).toEqual([])
    const missing = blocks.filter((b) => b.file !== null && !existsSync(path.join(root, b.file))).map((b) => b.file)
    expect(missing).toEqual([])
  })

  it('every block equals its file (npm run snippets copies them)', () => {
    const differ = blocks.filter((b) => b.file !== null && b.body !== fileBody(root, b.file)).map((b) => `${b.doc}:${b.line + 1} ${b.file}`)
    expect(differ).toEqual([])
  })

  it('every snippet file is shown somewhere or imported by one that is', () => {
    const shown = new Set(blocks.map((b) => b.file && path.basename(b.file)))
    const imported = new Set(files.flatMap((f) => [...readFileSync(path.join(snippetDir, f), 'utf8').matchAll(/from '\.\/([\w-]+)\.js'/g)].map((m) => `${m[1]}.ts`)))
    expect(files.filter((f) => !shown.has(f) && !imported.has(f))).toEqual([])
  })

  it.each(files)('%s runs', async (f) => {
    await expect(import(pathToFileURL(path.join(snippetDir, f)).href)).resolves.toBeDefined()
  })
})
