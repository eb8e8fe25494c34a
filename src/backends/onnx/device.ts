/**
 * Where an ONNX model runs: `'cpu'` (the default, ONNX Runtime's CPU provider) or `'webgpu'` (the
 * WebGPU execution provider that onnxruntime-node bundles; on Linux it drives the GPU through Vulkan,
 * so CUDA is not needed). The device picks the execution providers of every session clarus builds for
 * the model and the formulation of the few gradient rules whose CPU form the WebGPU provider cannot
 * run (see `gradients/maxPoolRoute.ts`). A machine without a usable GPU adapter gets an
 * `Unsupported` error at `['device']` when the model is loaded, never a silent fallback to the CPU.
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, invalidSpec, type AttributionError } from '../../core/errors.js'
import { ElemType, toProto, type Graph } from './graph/ir.js'
import { encodeModel } from './graph/proto.js'
import type { OrtModule } from './ort.js'

/** The devices an ONNX model can run on. */
export type OnnxDevice = 'cpu' | 'webgpu'

export const ONNX_DEVICES: readonly OnnxDevice[] = ['cpu', 'webgpu']

/**
 * Default working-memory budget per chunk, by device. On WebGPU each model call pays a fixed cost
 * (uploads, dispatches, a read back), so fewer, larger chunks are faster; a GPU has the memory for
 * them. Pass `chunk: { memoryBudgetBytes }` on a call to choose otherwise.
 */
export const DEVICE_MEMORY_BUDGET: Readonly<Record<OnnxDevice, number>> = {
  cpu: 512 * 1024 * 1024,
  webgpu: 2 * 1024 * 1024 * 1024,
}

/** The execution providers ONNX Runtime gets for a device (it adds the CPU provider itself, for the ops that stay on the host). */
export const providersOf = (device: OnnxDevice): readonly string[] => (device === 'webgpu' ? ['webgpu'] : ['cpu'])

/**
 * The device of a model from its options: `device` when given; otherwise `'webgpu'` when the session
 * options name the WebGPU provider, else `'cpu'`. Giving both `device` and different providers is an
 * InvalidSpec error (one switch decides).
 */
export const resolveDevice = (device: unknown, executionProviders: readonly string[] | undefined): E.Either<AttributionError, OnnxDevice> => {
  if (device !== undefined && !ONNX_DEVICES.includes(device as OnnxDevice)) {
    return E.left(invalidSpec([{ path: ['device'], message: `device must be 'cpu' or 'webgpu', got ${JSON.stringify(device)}` }]))
  }
  const named = executionProviders?.some((p) => p.toLowerCase() === 'webgpu') === true ? 'webgpu' : undefined
  if (device === undefined) return E.right(named ?? 'cpu')
  const d = device as OnnxDevice
  if (executionProviders !== undefined && executionProviders.length > 0 && (named ?? 'cpu') !== d) {
    return E.left(invalidSpec([{
      path: ['session', 'executionProviders'],
      message: `device '${d}' and session.executionProviders [${executionProviders.join(', ')}] disagree; give only device ('cpu' or 'webgpu'), which sets the providers`,
    }]))
  }
  return E.right(d)
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** How to get a WebGPU adapter, and the way out. */
export const WEBGPU_HELP =
  'ONNX Runtime\'s WebGPU provider needs a GPU adapter: on Linux the Vulkan loader (apt-get install libvulkan1) and the GPU vendor\'s ' +
  'Vulkan driver (NVIDIA: the proprietary driver with its Vulkan ICD; AMD/Intel: mesa-vulkan-drivers), visible to this process ' +
  '(check with vulkaninfo --summary; VK_ICD_FILENAMES must not point at a missing file); without a GPU, Mesa\'s lavapipe software driver ' +
  'works for testing (bash scripts/setup-lavapipe.sh in the clarus repository). Or load the model with device: \'cpu\', which works everywhere.'

/**
 * True when an ONNX Runtime error says the WebGPU provider could not start: no adapter, no Vulkan,
 * or a runtime build without the provider.
 */
export const isWebGpuStartFailure = (e: unknown): boolean => {
  const m = message(e).toLowerCase()
  return m.includes('webgpu') && (m.includes('adapter') || m.includes('not supported') || m.includes('not found') || m.includes('invalid ep') || m.includes('backend') || m.includes('vulkan') || m.includes('device'))
}

/** The typed error for a WebGPU provider that could not start. */
export const webGpuUnavailable = (e: unknown): AttributionError => {
  // ORT prefixes the reason with its source location and the failed check; keep the reason
  const first = message(e).split('\n')[0]?.trim() ?? ''
  const reason = /(Failed to [^\n]*)$/.exec(first)?.[1] ?? first
  return err('Unsupported', `device 'webgpu' is not available here (${reason}). ${WEBGPU_HELP}`, ['device'])
}

/** A one-node model (Relu over one float) that creating a session for proves the provider starts. */
const probeGraph: Graph = {
  name: 'clarus_device_probe',
  nodes: [{ name: 'probe', opType: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attributes: [] }],
  inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: [1] }],
  outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: [1] }],
  initializers: new Map(),
  valueInfo: [],
  opsetImports: [{ domain: '', version: 13 }],
  irVersion: 8,
  modelExtras: {},
}

/** One check per runtime module: the adapter does not come and go within a process. */
const checked = new WeakMap<OrtModule, Promise<E.Either<AttributionError, void>>>()

/**
 * Checks that `ort` can run on `device` by creating (and releasing) a one-node session there. CPU
 * always can. The answer is remembered per runtime module.
 */
export const checkDevice = (ort: OrtModule, device: OnnxDevice): Promise<E.Either<AttributionError, void>> => {
  if (device === 'cpu') return Promise.resolve(E.right(undefined))
  const known = checked.get(ort)
  if (known !== undefined) return known
  const run = async (): Promise<E.Either<AttributionError, void>> => {
    try {
      const s = await ort.InferenceSession.create(encodeModel(toProto(probeGraph)), { executionProviders: [...providersOf(device)] })
      await s.release()
      return E.right(undefined)
    } catch (e) {
      return E.left(isWebGpuStartFailure(e) ? webGpuUnavailable(e) : err('Unsupported', `device 'webgpu' could not start: ${message(e)}. ${WEBGPU_HELP}`, ['device']))
    }
  }
  const p = run()
  checked.set(ort, p)
  return p
}
