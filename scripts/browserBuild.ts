/**
 * Browser bundles of clarus, made with esbuild from the sources.
 *
 * A module with a `*.web.ts` sibling has a Node half and a browser half (`core/platform/files.ts`:
 * file system vs fetch; `backends/onnx/runtime.ts`: onnxruntime-node vs onnxruntime-web). The
 * published package swaps them with its `browser` field; bundles made from the sources swap them
 * with {@link webVariants}. After the swap nothing on the browser path imports `node:*`, which
 * {@link buildBrowser} checks on every build (a `node:` import is an error, not an external).
 *
 * `npm run build:browser` writes `dist/browser/`: the library as ES modules (`index.js`, `onnx.js`,
 * `tfjs.js`, `viz.js`, shared chunks) plus the onnxruntime-web wasm binary they load.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The wasm binaries onnxruntime-web's ESM bundles load from beside the module that imports them:
 * the wasm-only build's (what clarus loads by default in browsers) and the full build's (WebGPU).
 */
export const ORT_WASM = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.jsep.wasm'] as const

/** Resolves `./x.js` to `./x.web.ts` when the sibling exists (our relative imports only). */
export const webVariants: esbuild.Plugin = {
  name: 'clarus-web-variants',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.resolveDir === '' || !args.resolveDir.startsWith(path.join(ROOT, 'src'))) return undefined
      const stem = path.resolve(args.resolveDir, args.path).replace(/\.(js|ts)$/, '')
      const web = `${stem}.web.ts`
      return existsSync(web) ? { path: web } : undefined
    })
  },
}

/** Fails the build on any `node:` import (static or dynamic) that survived the swap. */
const noNodeBuiltins: esbuild.Plugin = {
  name: 'clarus-no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} imported from ${path.relative(ROOT, args.importer)}: the browser build must not use Node built-ins` }],
    }))
  },
}

/** The package's entry points by name, so browser code imports `clarus/onnx` as a user does. */
export const PACKAGE_ALIASES: Readonly<Record<string, string>> = {
  clarus: 'src/index.ts',
  'clarus/onnx': 'src/backends/onnx/index.ts',
  'clarus/tfjs': 'src/backends/tfjs/index.ts',
  'clarus/host': 'src/backends/host/index.ts',
  'clarus/viz': 'src/viz/index.ts',
}

export interface BrowserBuildOptions {
  /** Entry modules: output name → source path (relative to the repository root). */
  readonly entryPoints: Readonly<Record<string, string>>
  readonly outdir: string
  readonly minify?: boolean
  /** Extra esbuild options (e.g. `define`). */
  readonly extra?: esbuild.BuildOptions
}

/** Bundles `entryPoints` for browsers (ESM, code splitting) and copies the ONNX Runtime wasm binary beside them. */
export const buildBrowser = async (o: BrowserBuildOptions): Promise<esbuild.Metafile> => {
  await mkdir(o.outdir, { recursive: true })
  const r = await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(o.entryPoints).map(([k, v]) => [k, path.resolve(ROOT, v)])),
    outdir: o.outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: o.minify ?? true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    // Node-only code the tfjs/webgpu paths reach through non-literal specifiers stays out of the bundle.
    plugins: [webVariants, noNodeBuiltins],
    alias: Object.fromEntries(Object.entries(PACKAGE_ALIASES).map(([k, v]) => [k, path.resolve(ROOT, v)])),
    ...o.extra,
  })
  for (const w of ORT_WASM) await copyFile(path.join(ROOT, 'node_modules/onnxruntime-web/dist', w), path.join(o.outdir, w))
  return r.metafile ?? { inputs: {}, outputs: {} }
}

/** The library's browser entry points. */
export const LIBRARY_ENTRIES: Readonly<Record<string, string>> = {
  index: 'src/index.ts',
  onnx: 'src/backends/onnx/index.ts',
  tfjs: 'src/backends/tfjs/index.ts',
  viz: 'src/viz/index.ts',
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = path.join(ROOT, 'dist/browser')
  const meta = await buildBrowser({ entryPoints: LIBRARY_ENTRIES, outdir })
  const bytes = Object.values(meta.outputs).reduce((s, x) => s + x.bytes, 0)
  console.log(`dist/browser: ${Object.keys(meta.outputs).filter((f) => f.endsWith('.js')).length} modules, ${(bytes / 1e6).toFixed(1)} MB of JS (+ ${ORT_WASM.join(', ')})`)
}
