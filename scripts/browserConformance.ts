/**
 * The conformance cases in real headless Chromium: builds test/browser/pages/conformance.ts for
 * browsers, serves it with the fixture directory, and runs every case on onnxruntime-web (wasm,
 * one thread) through clarus's ONNX backend, whose backward graphs are built in the page.
 *
 *   npm run conformance:browser [-- ../shared/reference] [--target onnx-web|onnx-webgpu|tfjs-cpu|tfjs-wasm|tfjs-webgl|tfjs-webgpu]
 *                               [--filter REGEX] [--exclude REGEX] [--skip-resnet18]
 *
 * `--target tfjs-…` runs the networks rebuilt in TensorFlow.js (from the fixtures' weight JSON) on
 * that tfjs backend in the page; `onnx-webgpu` uses onnxruntime-web's WebGPU provider. The WebGPU
 * targets start Chromium with its SwiftShader WebGPU adapter (software; no GPU needed).
 *
 * Prints one line per case and the counts (known gaps of `onnx` / `onnx-web` in
 * conformance-known-gaps.json are labelled as such); exits 1 on any other failure.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { buildBrowser, ROOT } from './browserBuild.js'
import { gapKeys, gapsFor, parseKnownGaps } from '../src/conformance/knownGaps.js'
import type { CaseReport } from '../src/conformance/runner.js'
import { CHROMIUM, haveChromium, launchChromium, serveStatic } from '../test/helpers/browser.js'

/** Every file under `dir` (relative, `/`-separated) that `keep` accepts. */
const listFiles = (dir: string, keep: (rel: string) => boolean, base = ''): string[] =>
  readdirSync(path.join(dir, base)).flatMap((name) => {
    const rel = base === '' ? name : `${base}/${name}`
    if (statSync(path.join(dir, rel)).isDirectory()) return listFiles(dir, keep, rel)
    return keep(rel) ? [rel] : []
  })

export interface BrowserConformance {
  readonly cases: readonly CaseReport[]
  /** Failures not listed as known gaps. */
  readonly newFailures: readonly CaseReport[]
  readonly knownGaps: readonly CaseReport[]
  /** Page navigation to the last result, fetching the fixtures included. */
  readonly pageMs: number
  readonly fetchMs: number
  readonly runMs: number
  readonly chromium: string
}

interface PageReport { done: boolean; error?: string; cases?: CaseReport[]; fetchMs?: number; runMs?: number; log: string[] }

/** Where the page runs the cases: onnxruntime-web, or the networks rebuilt in TensorFlow.js on a tfjs backend. */
export type BrowserTarget = 'onnx-web' | 'onnx-webgpu' | 'tfjs-cpu' | 'tfjs-wasm' | 'tfjs-webgl' | 'tfjs-webgpu'

export const BROWSER_TARGETS: readonly BrowserTarget[] = ['onnx-web', 'onnx-webgpu', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu']

/** Chromium's switches for WebGPU without a GPU: its SwiftShader adapter (software Vulkan inside Chromium). */
export const WEBGPU_SWITCHES = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader']

export interface BrowserConformanceOptions {
  readonly dir: string
  /** Default `onnx-web`. */
  readonly target?: BrowserTarget
  /** Only case ids this regular expression matches. */
  readonly filter?: string
  /** Leaves out case ids this regular expression matches. */
  readonly exclude?: string
  /** Leaves out resnet18 (its 45 MB are not even fetched). */
  readonly skipResnet18?: boolean
  readonly log?: (line: string) => void
}

export const runBrowserConformance = async (o: BrowserConformanceOptions): Promise<BrowserConformance> => {
  if (!haveChromium()) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium), as .ci/run does`)
  const dir = path.resolve(o.dir)
  const out = mkdtempSync(path.join(tmpdir(), 'clarus-conf-page-'))
  const skip = o.skipResnet18 === true
  const manifest = JSON.stringify(listFiles(dir, (rel) => !(skip && rel.includes('resnet18'))))
  const filter = ['^', skip ? '(?!resnet18)' : '', o.exclude !== undefined ? `(?!.*(?:${o.exclude}))` : '', o.filter !== undefined ? `(?=.*(?:${o.filter}))` : ''].join('')
  try {
    await buildBrowser({ entryPoints: { conformance: 'test/browser/pages/conformance.ts' }, outdir: out, minify: false, extra: { sourcemap: false } })
    // tfjs-backend-wasm fetches its binaries from the path the page sets (the root)
    for (const w of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      copyFileSync(path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', w), path.join(out, w))
    }
    const server = await serveStatic({ '/ref/': dir, '/': out }, (req, res) => {
      if (req.url === '/manifest.json') { res.writeHead(200, { 'content-type': 'application/json' }).end(manifest); return true }
      if (req.url?.startsWith('/index.html') === true) { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/conformance.js"></script>'); return true }
      return false
    })
    const browser = await launchChromium((o.target ?? 'onnx-web').endsWith('webgpu') ? WEBGPU_SWITCHES : [])
    try {
      const page = await browser.newPage()
      const t0 = Date.now()
      const target = o.target ?? 'onnx-web'
      await page.goto(`${server.url}/index.html?target=${target}${filter !== '' ? `&filter=${encodeURIComponent(filter)}` : ''}`)
      let shown = 0
      for (;;) {
        const r = await page.evaluate(() => (globalThis as unknown as { __conformance?: PageReport }).__conformance)
        const lines = r?.log ?? []
        for (const l of lines.slice(shown)) o.log?.(l)
        shown = lines.length
        if (r?.done === true) {
          if (r.error !== undefined) throw new Error(`the page failed: ${r.error}`)
          const gapsFile = parseKnownGaps(readFileSync(path.join(ROOT, 'conformance-known-gaps.json'), 'utf8'), 'conformance-known-gaps.json')
          const gaps = E.isRight(gapsFile) ? gapsFor(gapsFile.right, target.startsWith('onnx-') ? gapKeys(target) : gapKeys('tfjs', target.slice('tfjs-'.length))) : {}
          const cases = r.cases ?? []
          return {
            cases,
            newFailures: cases.filter((c) => c.status === 'fail' && gaps[c.id] === undefined),
            knownGaps: cases.filter((c) => c.status === 'fail' && gaps[c.id] !== undefined),
            pageMs: Date.now() - t0,
            fetchMs: r.fetchMs ?? 0,
            runMs: r.runMs ?? 0,
            chromium: browser.version(),
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    } finally {
      await browser.close()
      await server.close()
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
  const dir = args.find((a, i) => !a.startsWith('--') && (i === 0 || !['--filter', '--exclude', '--target'].includes(args[i - 1]!))) ?? path.join(ROOT, '../shared/reference')
  const target = (flag('--target') ?? 'onnx-web') as BrowserTarget
  if (!BROWSER_TARGETS.includes(target)) {
    console.error(`--target must be one of ${BROWSER_TARGETS.join(', ')}, got ${target}`)
    process.exit(2)
  }
  const filter = flag('--filter')
  const exclude = flag('--exclude')
  const r = await runBrowserConformance({ dir, target, ...(filter !== undefined ? { filter } : {}), ...(exclude !== undefined ? { exclude } : {}), skipResnet18: args.includes('--skip-resnet18'), log: (l) => console.log(l) })
  const count = (s: CaseReport['status']): number => r.cases.filter((c) => c.status === s).length
  console.log(`Chromium ${r.chromium}, ${target === 'onnx-web' ? 'onnxruntime-web (wasm, 1 thread)' : target === 'onnx-webgpu' ? 'onnxruntime-web (WebGPU provider, SwiftShader adapter)' : `TensorFlow.js ${target.slice(5)} backend`}: ${count('pass')} passed, ${r.newFailures.length} failed, ${r.knownGaps.length} known gap${r.knownGaps.length === 1 ? '' : 's'}, ${count('unsupported')} unsupported`)
  console.log(`fixtures fetched in ${(r.fetchMs / 1000).toFixed(1)} s, cases run in ${(r.runMs / 1000).toFixed(1)} s (page ${(r.pageMs / 1000).toFixed(1)} s)`)
  for (const c of r.knownGaps) console.log(`known gap: ${c.id}`)
  process.exit(r.newFailures.length > 0 ? 1 : 0)
}
