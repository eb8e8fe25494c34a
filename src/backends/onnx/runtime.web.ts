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

/**
 * onnxruntime-web, loaded on first use: its full build (wasm + WebGPU, a 29 MB binary) when the
 * model is to run on WebGPU, else its wasm-only build (a 15 MB binary: half the download and
 * compile time of the page's first session).
 */
export const loadDefaultRuntime = async (device: 'cpu' | 'webgpu' = 'cpu'): Promise<OrtModule> => {
  try {
    return device === 'webgpu' ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm')
  } catch (e) {
    throw new Error(missingPeerMessage('clarus/onnx', ['onnxruntime-web'], 'onnxruntime-web'), { cause: e })
  }
}
