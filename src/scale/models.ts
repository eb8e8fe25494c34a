/**
 * Models loaded once per process (or worker) and kept until the executor closes: a job names its
 * model by file, and every task of every job on the same file shares one loaded model.
 *
 * @category scale
 * @since 0.6.0
 */
import { loadModel, type LoadedModel, type LoadOptions } from '../cli/models.js'
import { CliError } from '../cli/args.js'
import { err, type AttributionError } from '../core/errors.js'
import * as E from 'fp-ts/lib/Either.js'

export interface ModelCache {
  readonly get: (file: string) => Promise<E.Either<AttributionError, LoadedModel>>
  readonly close: () => Promise<void>
}

/** A cache loading through `loadModel` (ONNX or tfjs by extension) with `options`. */
export const modelCache = (options: LoadOptions = {}): ModelCache => {
  const loaded = new Map<string, Promise<E.Either<AttributionError, LoadedModel>>>()
  return {
    get: (file) => {
      let m = loaded.get(file)
      if (m === undefined) {
        m = loadModel(file, options).then(
          (l) => E.right(l),
          (e: unknown) => {
            loaded.delete(file)
            return E.left(err('BadModel', e instanceof CliError || e instanceof Error ? e.message : String(e), ['model']))
          },
        )
        loaded.set(file, m)
      }
      return m
    },
    close: async () => {
      const all = [...loaded.values()]
      loaded.clear()
      for (const m of all) {
        const r = await m
        if (E.isRight(r)) await r.right.release()
      }
    },
  }
}
