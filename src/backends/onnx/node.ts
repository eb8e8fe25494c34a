/**
 * The Node-only half of the ONNX backend: reading a model file and loading onnxruntime-node. The
 * session layer imports this module dynamically, and only when it needs it (a path was given as the
 * model, or no runtime module was injected), so the rest of the backend has no Node dependency and
 * can run on onnxruntime-web.
 *
 * @internal
 */
import { readFile } from 'node:fs/promises'
import { missingPackageOf, missingPeerMessage } from '../../core/peers.js'
import type { OrtModule } from './ort.js'

/** The bytes of a model file. */
export const readModelFile = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(path))

/**
 * onnxruntime-node, loaded on first use. It is a CommonJS package: Node's loader exposes its exports
 * as named bindings and as `default`, but some loaders (tsx) give only the named ones and others
 * (bundlers) only `default`, so take whichever has the API.
 */
export const loadNodeRuntime = async (): Promise<OrtModule> => {
  const load = () => import('onnxruntime-node')
  let m: Awaited<ReturnType<typeof load>>
  try {
    m = await load()
  } catch (e) {
    // onnxruntime-node is an optional peer dependency: say what to install instead of a bare ERR_MODULE_NOT_FOUND.
    if (missingPackageOf(e) !== 'onnxruntime-node') throw e
    throw new Error(missingPeerMessage('clarus/onnx', ['onnxruntime-node'], 'onnxruntime-node'), { cause: e })
  }
  const named: Partial<OrtModule> = m
  if (named.InferenceSession !== undefined && named.Tensor !== undefined) return m
  return m.default
}
