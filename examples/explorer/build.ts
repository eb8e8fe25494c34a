/**
 * Builds the explorer into a static folder (default `examples/explorer/dist/`): index.html, the
 * page and worker bundles (made by scripts/browserBuild.ts from the library's sources), the ONNX
 * Runtime wasm binary, and the demo models and inputs. Any static web server can host the folder.
 *
 *   npx tsx examples/explorer/build.ts [outdir]
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBrowser, ROOT } from '../../scripts/browserBuild.js'

export const EXPLORER = path.dirname(fileURLToPath(import.meta.url))
export const DEFAULT_OUT = path.join(EXPLORER, 'dist')

/** Demo files that live with other examples, copied into `demos/` rather than kept twice in the repository. */
const SHARED_DEMOS = [
  'examples/assets/penguins/penguins.onnx',
  'examples/assets/penguins/penguins.meta.json',
  'examples/assets/spam/spam.onnx',
  'examples/assets/spam/vocab.json',
  'examples/assets/emotion/emotion.json',
  'examples/assets/emotion/emotion.bin',
  'examples/assets/emotion/smiling.jpg',
]

export interface BuiltExplorer {
  readonly outdir: string
  /** Bytes of JavaScript written (all bundles and chunks, source maps left out). */
  readonly jsBytes: number
  readonly ms: number
}

/** Writes the explorer to `outdir` (emptied first). */
export const buildExplorer = async (outdir = DEFAULT_OUT, o: { readonly minify?: boolean } = {}): Promise<BuiltExplorer> => {
  const t0 = performance.now()
  await rm(outdir, { recursive: true, force: true })
  const meta = await buildBrowser({
    entryPoints: { main: 'examples/explorer/src/main.ts', worker: 'examples/explorer/src/worker.ts' },
    outdir,
    minify: o.minify ?? true,
    extra: { sourcemap: false },
  })
  for (const f of ['index.html', 'style.css']) await copyFile(path.join(EXPLORER, f), path.join(outdir, f))
  const demos = path.join(outdir, 'demos')
  await mkdir(demos, { recursive: true })
  for (const f of await readdir(path.join(EXPLORER, 'demos'))) {
    if (!f.endsWith('.ts')) await copyFile(path.join(EXPLORER, 'demos', f), path.join(demos, f))
  }
  for (const f of SHARED_DEMOS) await copyFile(path.join(ROOT, f), path.join(demos, path.basename(f)))
  const jsBytes = Object.entries(meta.outputs).filter(([f]) => f.endsWith('.js')).reduce((s, [, x]) => s + x.bytes, 0)
  return { outdir, jsBytes, ms: performance.now() - t0 }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] !== undefined ? path.resolve(process.argv[2]) : DEFAULT_OUT
  const b = await buildExplorer(out)
  console.log(`explorer built in ${(b.ms / 1000).toFixed(1)} s: ${path.relative(process.cwd(), b.outdir) || '.'} (${(b.jsBytes / 1e6).toFixed(2)} MB of JavaScript)`)
  console.log('serve that folder with any static server (e.g. npx http-server, python3 -m http.server), or run: npx tsx examples/explorer/serve.ts')
}
