/**
 * Where an ONNX model comes from: its bytes (`Uint8Array`, `ArrayBuffer`), a `Blob` or `File` (a
 * browser file input or drop), or a string / `URL`: a file path or `file:` URL under Node, an
 * `http(s):` URL anywhere (resolved against the page in a browser).
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../core/errors.js'

/** What `fromOnnx` and the other ONNX entry points accept as a model. */
export type ModelSource = Uint8Array | ArrayBuffer | Blob | string | URL

const isBlob = (s: ModelSource): s is Blob => typeof Blob !== 'undefined' && s instanceof Blob

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The bytes of a model source; a `BadModel` error names the source when it cannot be read. */
export const modelBytes = async (source: ModelSource): Promise<E.Either<AttributionError, Uint8Array>> => {
  if (source instanceof Uint8Array) return E.right(source)
  if (source instanceof ArrayBuffer) return E.right(new Uint8Array(source))
  try {
    if (isBlob(source)) return E.right(new Uint8Array(await source.arrayBuffer()))
    if (typeof source !== 'string' && !(source instanceof URL)) {
      return E.left(err('BadModel', `an ONNX model must be bytes (Uint8Array, ArrayBuffer), a Blob/File, a path or a URL; got ${Object.prototype.toString.call(source)}`, ['model']))
    }
    return E.right(await (await import('../../core/platform/files.js')).readSource(source))
  } catch (e) {
    const name = isBlob(source) ? `the dropped file${'name' in source && typeof source.name === 'string' ? ` ${source.name}` : ''}` : `the ONNX model file`
    return E.left(err('BadModel', `cannot read ${name}: ${message(e)}`, ['model']))
  }
}
