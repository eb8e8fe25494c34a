/**
 * The models a server may run: files inside one folder, named relative to it. A name that leaves
 * the folder (`../x.onnx`, an absolute path, a symbolic link pointing out) is refused; each file is
 * loaded once (with the CLI's `loadModel`) and kept until the server closes.
 *
 * @category serve
 * @since 0.6.0
 */
import { realpathSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { CliError } from '../cli/args.js'
import * as E from 'fp-ts/lib/Either.js'
import type { LoadedModel } from '../cli/models.js'
import { modelCache as sharedCache } from '../scale/models.js'

/**
 * Why a model name cannot be served: 400 (not a name the server accepts) or 404 (no such file).
 *
 * @internal
 */
export interface ModelProblem {
  readonly status: 400 | 404
  readonly error: 'InvalidRequest' | 'UnknownModel'
  readonly message: string
}

/** @internal */
export interface ModelCache {
  /** The real path of the model file `name`, or why it cannot be served. */
  readonly resolve: (name: string) => { readonly file: string } | { readonly problem: ModelProblem }
  /** The loaded model of a resolved file (loaded on first use; a failed load is retried next time). */
  readonly load: (file: string) => Promise<LoadedModel>
  /** Releases every loaded model. */
  readonly releaseAll: () => Promise<void>
}

const MODEL_EXTENSIONS = ['.onnx', '.json']

/**
 * A cache over the models folder `dir`.
 *
 * @internal
 */
export const modelCache = (dir: string): ModelCache => {
  const root = realpathSync(dir)
  const refuse = (message: string): { problem: ModelProblem } => ({ problem: { status: 400, error: 'InvalidRequest', message } })

  const resolve = (name: string): { file: string } | { problem: ModelProblem } => {
    if (name === '' || name.includes('\0')) return refuse('give a file name inside the models folder, e.g. "mlp.onnx"')
    if (path.isAbsolute(name) || path.win32.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      return refuse(`${JSON.stringify(name)} is not a name inside the models folder; give a relative name without ".." (e.g. "mlp.onnx")`)
    }
    if (!MODEL_EXTENSIONS.includes(path.extname(name).toLowerCase())) {
      return refuse(`${JSON.stringify(name)} is not a model file; give an .onnx file or a TensorFlow.js model.json`)
    }
    const full = path.resolve(root, name)
    let real: string
    try {
      real = realpathSync(full)
      if (!statSync(real).isFile()) throw new Error('not a file')
    } catch {
      return { problem: { status: 404, error: 'UnknownModel', message: `there is no model file ${JSON.stringify(name)} in the models folder` } }
    }
    const rel = path.relative(root, real)
    if (rel.startsWith('..') || path.isAbsolute(rel)) return refuse(`${JSON.stringify(name)} points outside the models folder`)
    return { file: real }
  }

  // loading once per file, retrying a failed load, releasing at close: the scale executors' cache
  const loaded = sharedCache()
  const load = async (file: string): Promise<LoadedModel> => {
    const r = await loaded.get(file)
    if (E.isLeft(r)) throw new CliError(r.left.message)
    return r.right
  }
  const releaseAll = (): Promise<void> => loaded.close()

  return { resolve, load, releaseAll }
}
