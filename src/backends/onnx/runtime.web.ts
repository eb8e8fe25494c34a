/**
 * The ONNX Runtime module used when none is injected, in browsers: `onnxruntime-web` (its wasm
 * execution provider, and WebGPU where the browser has it). See `runtime.ts` for the Node half.
 *
 * @internal
 */
import { missingPeerMessage } from '../../core/peers.js'
import type { OrtModule } from './ort.js'

/** The package {@link loadDefaultRuntime} loads, for error messages. */
export const DEFAULT_RUNTIME = 'onnxruntime-web'

/** onnxruntime-web, loaded on first use. */
export const loadDefaultRuntime = async (): Promise<OrtModule> => {
  try {
    return await import('onnxruntime-web')
  } catch (e) {
    throw new Error(missingPeerMessage('clarus/onnx', ['onnxruntime-web'], 'onnxruntime-web'), { cause: e })
  }
}
