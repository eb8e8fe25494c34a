/**
 * README and docs snippets are example files shown verbatim. A TypeScript block in a markdown file
 * must sit right under a marker naming its file:
 *
 *   <!-- snippet: examples/snippets/onnx-quickstart.ts -->
 *   ```ts
 *   …the file's text…
 *   ```
 *
 * `snippetBlocks` finds every block with its marker; `npm run snippets` copies the files into the
 * markdown, and test/docs/snippets.test.ts fails when a block and its file differ or a block has no
 * marker.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import * as path from 'node:path'

export const MARKER = /^<!-- snippet: (\S+) -->$/

export interface SnippetBlock {
  readonly doc: string
  /** 0-based line of the opening fence. */
  readonly line: number
  readonly file: string | null
  readonly body: string
}

/** The markdown files that may hold snippets: README.md and docs/ (not the generated API pages). */
export const markdownFiles = (root: string): string[] => {
  const out = ['README.md']
  const walk = (dir: string): void => {
    for (const name of readdirSync(path.join(root, dir)).sort()) {
      const rel = path.join(dir, name)
      if (rel === path.join('docs', 'api')) continue
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel)
      else if (name.endsWith('.md')) out.push(rel)
    }
  }
  walk('docs')
  return out
}

/** Every ```ts block of one markdown text, with the file its marker names (null: no marker). */
export const snippetBlocks = (doc: string, text: string): SnippetBlock[] => {
  const lines = text.split('\n')
  const blocks: SnippetBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (/^\s+```(ts|typescript)\s*$/.test(lines[i]!)) throw new Error(`${doc}:${i + 1}: an indented ts block; snippets must start at column 0 to be checked`)
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'))
    if (end < 0) throw new Error(`${doc}:${i + 1}: a code block that never closes`)
    const m = i > 0 ? MARKER.exec(lines[i - 1]!) : null
    blocks.push({ doc, line: i, file: m ? m[1]! : null, body: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  return blocks
}

/** A snippet file's text as the markdown shows it (no trailing newline). */
export const fileBody = (root: string, file: string): string => readFileSync(path.join(root, file), 'utf8').replace(/\n+$/, '')

/** The markdown with every marked block replaced by its file's text. */
export const syncedText = (root: string, doc: string, text: string): string => {
  const lines = text.split('\n')
  const blocks = snippetBlocks(doc, text).reverse()
  for (const b of blocks) {
    if (b.file === null) continue
    const oldLen = b.body === '' ? 0 : b.body.split('\n').length
    lines.splice(b.line + 1, oldLen, ...fileBody(root, b.file).split('\n'))
  }
  return lines.join('\n')
}
