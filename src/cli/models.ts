/**
 * Loading a model file for the CLI: `.onnx` through `clarus/onnx` (ONNX Runtime), `model.json`
 * (a TensorFlow.js LayersModel or GraphModel with its weight files next to it) through
 * `clarus/tfjs` on the CPU backend. Each backend is imported only when its kind of file is given.
 *
 * @category cli
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as path from 'node:path'
import type { Model } from '../core/backend.js'
import type { HostTensor } from '../core/tensor.js'
import { CliError } from './args.js'
import { readBytes, readJson } from './files.js'
import { concatBytes } from '../core/bytes.js'

/** A loaded model of either backend (the CLI runs the same code on both through a generic function). */
export type LoadedModel = (
  | { readonly kind: 'onnx'; readonly model: Model<HostTensor> }
  | { readonly kind: 'tfjs'; readonly model: Model<unknown> }
) & {
  /** Releases everything loaded: the clarus model and, for tfjs, the weights the CLI created. */
  readonly release: () => Promise<void>
}

interface WeightsGroup {
  readonly paths: readonly string[]
  readonly weights: readonly unknown[]
}

const loadTfjs = async (file: string): Promise<LoadedModel> => {
  const json = readJson(file, 'model') as { modelTopology?: unknown; weightsManifest?: readonly WeightsGroup[]; format?: string; signature?: unknown; userDefinedMetadata?: unknown; modelInitializer?: unknown }
  if (typeof json !== 'object' || json === null || json.modelTopology === undefined) {
    throw new CliError(`${file} is not a TensorFlow.js model.json: it has no modelTopology (give an .onnx file or a tfjs model.json)`)
  }
  const groups = json.weightsManifest ?? []
  const dir = path.dirname(file)
  const shards = groups.flatMap((g) => g.paths.map((p) => readBytes(path.resolve(dir, p), 'weight file')))
  const weightData = concatBytes(shards)
  let tf: typeof import('@tensorflow/tfjs-core')
  try {
    tf = await import('@tensorflow/tfjs-core')
    await import('@tensorflow/tfjs-backend-cpu')
  } catch (e) {
    throw new CliError(`TensorFlow.js models need @tensorflow/tfjs-core, -backend-cpu, -layers and -converter installed (npm install them next to clarus): ${(e as Error).message}`, 1)
  }
  await tf.setBackend('cpu')
  const { fromTfjs } = await import('../backends/tfjs/index.js')
  const artifacts = {
    modelTopology: json.modelTopology as object,
    weightSpecs: groups.flatMap((g) => g.weights) as never,
    weightData: weightData.buffer,
    ...(json.format !== undefined ? { format: json.format } : {}),
    ...(json.signature !== undefined ? { signature: json.signature as object } : {}),
    ...(json.modelInitializer !== undefined ? { modelInitializer: json.modelInitializer as object } : {}),
  }
  const isGraph = json.format === 'graph-model' || (typeof json.modelTopology === 'object' && 'node' in (json.modelTopology as object))
  try {
    if (isGraph) {
      const { loadGraphModelSync } = await import('@tensorflow/tfjs-converter')
      const g = loadGraphModelSync(artifacts)
      const model = fromTfjs(g) as Model<unknown>
      return { kind: 'tfjs', model, release: async () => { await model.dispose(); g.dispose() } }
    }
    const layers = await import('@tensorflow/tfjs-layers')
    const m = await layers.loadLayersModel(tf.io.fromMemory(artifacts))
    const model = fromTfjs(m) as Model<unknown>
    // fromTfjs never frees the user's weights; here the CLI created them, so it frees them.
    return { kind: 'tfjs', model, release: async () => { await model.dispose(); m.dispose() } }
  } catch (e) {
    throw new CliError(`cannot load the TensorFlow.js model ${file}: ${(e as Error).message}`)
  }
}

/** How to load: `threads` caps ONNX Runtime's intra-op threads (one per worker when several workers share a machine). */
export interface LoadOptions {
  readonly threads?: number
}

/** Loads `file` by its extension; a CliError for an unknown kind or a model that does not load. */
export const loadModel = async (file: string, options: LoadOptions = {}): Promise<LoadedModel> => {
  const ext = path.extname(file).toLowerCase()
  if (ext === '.onnx') {
    readBytes(file, 'model')
    const { fromOnnx } = await import('../backends/onnx/index.js')
    const m = await fromOnnx(file, options.threads !== undefined ? { session: { intraOpNumThreads: options.threads } } : {})
    if (E.isLeft(m)) throw new CliError(`cannot load the ONNX model ${file}: ${m.left.message}`)
    const model = m.right
    return { kind: 'onnx', model, release: () => model.dispose() }
  }
  if (ext === '.json') return loadTfjs(file)
  throw new CliError(`unknown model file ${file}: give an .onnx file or a TensorFlow.js model.json`)
}
