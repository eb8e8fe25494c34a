/**
 * Copies each snippet file into the markdown block under its marker (see test/helpers/snippets.ts).
 *
 *   npm run snippets            # rewrite README.md and docs/*.md from examples/
 *   npm run snippets -- --check # exit 1 when a block differs from its file or has no marker
 */
import { readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { markdownFiles, snippetBlocks, syncedText } from '../test/helpers/snippets.js'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const check = process.argv.includes('--check')
let problems = 0
for (const doc of markdownFiles(root)) {
  const text = readFileSync(path.join(root, doc), 'utf8')
  for (const b of snippetBlocks(doc, text)) {
    if (b.file === null) {
      problems++
      console.error(`${doc}:${b.line + 1}: a ts block without a "<!-- snippet: file -->" marker above it`)
    }
  }
  const next = syncedText(root, doc, text)
  if (next !== text) {
    if (check) {
      problems++
      console.error(`${doc}: blocks differ from their files (run npm run snippets)`)
    } else {
      writeFileSync(path.join(root, doc), next)
      console.log(`${doc}: updated`)
    }
  }
}
process.exit(problems > 0 ? 1 : 0)
