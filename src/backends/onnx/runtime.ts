/**
 * The ONNX Runtime module used when none is injected: the Node half loads `onnxruntime-node`.
 * Browser builds replace this module with `runtime.web.ts` (onnxruntime-web); the session layer
 * imports it only when no runtime module was passed, so an injected runtime never loads either.
 *
 * @internal
 */
import { missingPackageOf, missingPeerMessage } from '../../core/peers.js'
import type { OrtModule } from './ort.js'

/** The package {@link loadDefaultRuntime} loads, for error messages. */
export const DEFAULT_RUNTIME = 'onnxruntime-node'

/**
 * onnxruntime-node, loaded on first use (one build serves every device). It is a CommonJS package:
 * Node's loader exposes its exports as named bindings and as `default`, but some loaders (tsx) give
 * only the named ones and others (bundlers) only `default`, so take whichever has the API.
 */
export const loadDefaultRuntime = async (_device: 'cpu' | 'webgpu' = 'cpu'): Promise<OrtModule> => {
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
