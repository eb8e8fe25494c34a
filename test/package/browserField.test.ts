// The browser halves: every `src/**/X.web.ts` has a Node sibling `X.ts` with the same exports, and
// package.json's `browser` field maps the built Node half to the built browser half (bundlers read
// that field; scripts/browserBuild.ts does the same swap for bundles made from the sources).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../..')
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? walk(path.join(dir, n)) : [path.join(dir, n)]))
const webHalves = walk(path.join(ROOT, 'src')).filter((f) => f.endsWith('.web.ts')).map((f) => path.relative(path.join(ROOT, 'src'), f))
const browser = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { browser: Record<string, string> }).browser

/** The names a module exports (`export const|function|class|type|interface NAME`), sorted. */
const exportsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^export (?:const|function|class|type|interface|async function) (\w+)/gm)].map((m) => m[1]!).sort()

describe('browser halves', () => {
  it('every *.web.ts is mapped by package.json "browser", and every mapping has its two built files', () => {
    expect(webHalves.length).toBeGreaterThan(0)
    const expected = Object.fromEntries(webHalves.map((w) => [`./dist/${w.replace(/\.web\.ts$/, '.js')}`, `./dist/${w.replace(/\.ts$/, '.js')}`]))
    expect(browser).toEqual(expected)
  })

  it.each(webHalves)('%s exports what its Node half exports', (w) => {
    const web = path.join(ROOT, 'src', w)
    expect(exportsOf(web)).toEqual(exportsOf(web.replace(/\.web\.ts$/, '.ts')))
  })
})
