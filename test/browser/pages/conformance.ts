// The reference runner in a browser page: fetches the fixture files the server lists
// (/manifest.json), runs every case on onnxruntime-web (wasm) through clarus's ONNX backend (its
// default runtime in browsers) — backward graphs built in the page — and leaves the report on
// `window.__conformance`.
// `?target=onnx-webgpu` runs them on onnxruntime-web's WebGPU execution provider (its full build, which
// fromOnnx loads for device 'webgpu'); `?target=tfjs-cpu` (or tfjs-wasm, tfjs-webgl, tfjs-webgpu) runs the
// networks rebuilt in TensorFlow.js instead.
// the wasm-only build, which clarus's ONNX backend loads by default in browsers (the same module instance)
import * as ort from 'onnxruntime-web/wasm'
import * as E from 'fp-ts/lib/Either.js'
import { loadReference, memoryFiles } from '../../../src/conformance/load.js'
import { runReference, type CaseReport } from '../../../src/conformance/runner.js'
import { onnxTargetWith, tfjsTarget } from '../../../src/conformance/targets.js'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-webgl'
import '@tensorflow/tfjs-backend-webgpu'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'

interface PageReport {
  readonly done: boolean
  readonly error?: string
  readonly cases?: readonly CaseReport[]
  readonly fetchMs?: number
  readonly runMs?: number
  readonly log: string[]
}

const out: PageReport = { done: false, log: [] }
;(globalThis as { __conformance?: PageReport }).__conformance = out

const run = async (): Promise<PageReport> => {
  ort.env.wasm.numThreads = 1
  const params = new URLSearchParams(location.search)
  const filter = params.get('filter')
  const t0 = performance.now()
  const manifest = (await (await fetch('/manifest.json')).json()) as string[]
  const files = new Map<string, Uint8Array>()
  await Promise.all(manifest.map(async (rel) => {
    const res = await fetch(`/ref/${rel}`)
    if (!res.ok) throw new Error(`GET /ref/${rel}: ${res.status}`)
    files.set(rel, new Uint8Array(await res.arrayBuffer()))
  }))
  const t1 = performance.now()
  const ref = loadReference(memoryFiles(`${location.origin}/ref`, files))
  if (E.isLeft(ref)) return { ...out, done: true, error: ref.left.message }
  const which = params.get('target') ?? 'onnx-web'
  if (which.startsWith('tfjs-')) {
    const backend = which.slice('tfjs-'.length)
    if (backend === 'wasm') setWasmPaths('/')
    if (!(await tf.setBackend(backend))) return { ...out, done: true, error: `tfjs backend ${backend} is not available in this browser` }
    await tf.ready()
  }
  const options = { ...(filter !== null ? { filter: new RegExp(filter) } : {}), log: (l: string) => void out.log.push(l) }
  const report = which.startsWith('tfjs-')
    ? await runReference(ref.right, { ...tfjsTarget, name: which }, options)
    : which === 'onnx-webgpu'
      ? await runReference(ref.right, onnxTargetWith('onnx-webgpu', 'webgpu'), options)
      : await runReference(ref.right, onnxTargetWith('onnx-web', 'cpu'), options)
  if (E.isLeft(report)) return { ...out, done: true, error: report.left.message }
  return { done: true, cases: report.right.cases, fetchMs: t1 - t0, runMs: performance.now() - t1, log: out.log }
}

run().then(
  (r) => { (globalThis as { __conformance?: PageReport }).__conformance = r },
  (e: unknown) => { (globalThis as { __conformance?: PageReport }).__conformance = { ...out, done: true, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) } },
)
