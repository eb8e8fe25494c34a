/**
 * TensorFlow.js on the GPU through WebGPU, in Node and in browsers, behind one call: {@link useWebGpu}.
 *
 * In Node (20 has no `navigator`), WebGPU comes from the `webgpu` package (Google's Dawn, prebuilt):
 * its `globals` (`GPUBufferUsage`, …) go onto `globalThis` and its `create()` becomes
 * `navigator.gpu`. This must happen before `@tensorflow/tfjs-backend-webgpu` is imported, because
 * that package registers its backend only when `navigator.gpu` exists at import time. In a browser
 * `navigator.gpu` is already there and nothing is installed.
 *
 * On Linux, Dawn drives the GPU through Vulkan: the host needs `libvulkan.so.1` and the vendor's
 * Vulkan driver. Without a GPU, Mesa's lavapipe (software Vulkan) gives a working, slow adapter.
 *
 * @category backends
 * @since 0.4.0
 */
import * as tf from '@tensorflow/tfjs-core'
import * as E from 'fp-ts/lib/Either.js'
import { backendFailure, err, type BackendFailure, type Unsupported } from '../../core/errors.js'
import { missingPackageOf } from '../../core/peers.js'

/**
 * The two packages WebGPU needs in Node (in a browser only the second).
 *
 * @internal
 */
export const WEBGPU_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const
type WebGpuPackage = (typeof WEBGPU_PACKAGES)[number]

/** What {@link useWebGpu} found. */
export interface WebGpuInfo {
  /** The tfjs backend now active. */
  readonly backend: 'webgpu'
  /** The adapter WebGPU picked, as it describes itself (fields are empty strings where the driver says nothing). */
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string }
  /** True when clarus installed `navigator.gpu` from the `webgpu` package (Node); false when the runtime had it (browsers). */
  readonly nodeSetup: boolean
}

/**
 * Why WebGPU could not be used: `BackendFailure` when a package is missing (its `path` is
 * `['peerDependencies', <package>]`) or the backend failed to start, `Unsupported` when the
 * runtime has no WebGPU adapter (`path: ['webgpu', 'adapter']`). The message says what to do.
 */
export type WebGpuError = BackendFailure | Unsupported

/** Options of {@link useWebGpu}. */
export interface UseWebGpuOptions {
  /**
   * Node only: Dawn toggles passed to the `webgpu` package's `create` (for example
   * `['backend=vulkan']`, or `['adapter=llvmpipe']` to pick an adapter by name). Used on the first
   * successful set-up only. Default: none.
   */
  readonly dawnOptions?: readonly string[]
}

// --- minimal shapes of the WebGPU objects this module touches (no dependency on @webgpu/types) ---

interface AdapterInfoLike { readonly vendor?: string; readonly architecture?: string; readonly device?: string; readonly description?: string }
interface AdapterLike { readonly info?: AdapterInfoLike }
interface GpuLike { requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null> }
interface DawnModule { create(options: string[]): GpuLike; readonly globals: object }

/**
 * How {@link useWebGpuWith} reaches the outside world; tests replace parts of it.
 *
 * @internal
 */
export interface WebGpuDeps {
  /** Imports one of the two packages (a module-not-found error means it is not installed). */
  readonly importPackage: (name: WebGpuPackage) => Promise<unknown>
  /** True when running under Node (where the `webgpu` package supplies `navigator.gpu`). */
  readonly isNode: () => boolean
}

// The Node-only package goes through a non-literal specifier so that browser bundlers do not try to
// pull Dawn's native addon into a web build.
const NODE_WEBGPU: string = WEBGPU_PACKAGES[0]

/** @internal */
export const defaultWebGpuDeps: WebGpuDeps = {
  importPackage: (name) => (name === 'webgpu' ? import(NODE_WEBGPU) : import('@tensorflow/tfjs-backend-webgpu')),
  isNode: () => typeof process !== 'undefined' && typeof process.versions?.node === 'string',
}

const navigatorGpu = (): GpuLike | undefined => (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu

const installNavigatorGpu = (gpu: GpuLike): void => {
  const g = globalThis as { navigator?: object }
  // Node 21+ has a `navigator` of its own: add `gpu` to it; Node 20 has none: give it one.
  if (g.navigator !== undefined) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true })
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
}

const isDawnModule = (m: unknown): m is DawnModule =>
  typeof m === 'object' && m !== null && typeof (m as { create?: unknown }).create === 'function' &&
  typeof (m as { globals?: unknown }).globals === 'object' && (m as { globals?: unknown }).globals !== null

const installHint = (packages: readonly string[]): string => `npm install ${packages.join(' ')}`

const missingPackages = (missing: readonly WebGpuPackage[], cause: unknown): WebGpuError =>
  backendFailure(
    `WebGPU for TensorFlow.js needs ${missing.map((p) => `'${p}'`).join(' and ')} (optional peer ${missing.length === 1 ? 'dependency' : 'dependencies'} of clarus), ` +
      `which ${missing.length === 1 ? 'is' : 'are'} not installed. Install ${missing.length === 1 ? 'it' : 'them'} next to clarus: ${installHint(missing)}` +
      ' — or stay on the CPU: tf.setBackend(\'cpu\') works everywhere.',
    cause,
    ['peerDependencies', missing[0]!],
  )

const noAdapter = (node: boolean): WebGpuError =>
  err('Unsupported',
    node
      ? 'WebGPU found no GPU adapter. In Node, Dawn reaches the GPU through Vulkan: install the Vulkan loader (libvulkan1 on Debian and Ubuntu) and the GPU vendor\'s Vulkan driver ' +
        '(without a GPU, Mesa\'s lavapipe software driver works: point VK_ICD_FILENAMES at its lvp_icd.json before starting Node). ' +
        'Or stay on the CPU: tf.setBackend(\'cpu\') works everywhere.'
      : 'this browser offers WebGPU but no adapter (GPU blocklisted or disabled). Use tf.setBackend(\'cpu\') (or \'webgl\'/\'wasm\') instead.',
    ['webgpu', 'adapter'])

/** Imports `name`; Left(the error) when the package is not installed; any other failure is rethrown (and reported by useWebGpuWith). */
const tryImport = async (deps: WebGpuDeps, name: WebGpuPackage): Promise<E.Either<unknown, unknown>> => {
  try {
    return E.right(await deps.importPackage(name))
  } catch (e) {
    const missing = missingPackageOf(e)
    if (missing === name) return E.left(e)
    throw e
  }
}

/** The factory tfjs-backend-webgpu registered, kept so that a failed start can unregister it and a later call register it again. */
let webgpuFactory: Parameters<typeof tf.registerBackend>[1] | undefined
/** Set once `navigator.gpu` is known to be there (installed by us or present already). */
let nodeSetupDone: boolean | undefined
/** The result of the first successful call, and a call in flight. */
let succeeded: WebGpuInfo | undefined
let inFlight: Promise<E.Either<WebGpuError, WebGpuInfo>> | undefined

const adapterInfoOf = (a: AdapterLike): WebGpuInfo['adapter'] => {
  const i = a.info ?? {}
  return { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' }
}

const setUp = async (deps: WebGpuDeps, options: UseWebGpuOptions): Promise<E.Either<WebGpuError, WebGpuInfo>> => {
  const node = deps.isNode()
  // 1. navigator.gpu: present (browser, or a Node process set up before) or installed from `webgpu`
  if (navigatorGpu() === undefined) {
    if (!node) return E.left(err('Unsupported', 'this runtime has no WebGPU (navigator.gpu is missing). Use tf.setBackend(\'cpu\') (or \'webgl\'/\'wasm\') instead.', ['webgpu']))
    const dawn = await tryImport(deps, 'webgpu')
    if (E.isLeft(dawn)) {
      // say in one message whether the tfjs backend is missing too (importing it without navigator.gpu registers nothing)
      const backend = await tryImport(deps, '@tensorflow/tfjs-backend-webgpu')
      return E.left(missingPackages(E.isLeft(backend) ? [...WEBGPU_PACKAGES] : ['webgpu'], dawn.left))
    }
    const m = dawn.right as { default?: unknown }
    const mod = isDawnModule(m) ? m : isDawnModule(m.default) ? m.default : undefined
    if (mod === undefined) return E.left(backendFailure('the \'webgpu\' package does not export create() and globals as expected (version 0.6 or later is supported)', undefined, ['peerDependencies', 'webgpu']))
    let gpu: GpuLike
    try {
      Object.assign(globalThis, mod.globals)
      gpu = mod.create([...(options.dawnOptions ?? [])])
    } catch (e) {
      return E.left(backendFailure(`the 'webgpu' package failed to start Dawn: ${e instanceof Error ? e.message : String(e)}`, e, ['webgpu']))
    }
    installNavigatorGpu(gpu)
    nodeSetupDone = true
  } else nodeSetupDone ??= false
  const gpu = navigatorGpu()!

  // 2. an adapter, asked for the way tfjs-backend-webgpu asks (so a null here means tfjs would fail too)
  // (the flag is registered by tfjs-backend-webgpu, not imported yet: read it without evaluating it)
  const lowPower = tf.env().getFlags()['WEBGPU_USE_LOW_POWER_GPU'] === true
  const adapter = await gpu.requestAdapter({ powerPreference: lowPower ? 'low-power' : 'high-performance' }).catch(() => null)
  if (adapter === null) return E.left(noAdapter(node))

  // 3. the tfjs backend, registered by its import now that navigator.gpu exists
  if (webgpuFactory === undefined) {
    const imported = await tryImport(deps, '@tensorflow/tfjs-backend-webgpu')
    if (E.isLeft(imported)) return E.left(missingPackages(['@tensorflow/tfjs-backend-webgpu'], imported.left))
    const factory = tf.findBackendFactory('webgpu')
    if (factory === null || factory === undefined) {
      return E.left(backendFailure(
        '@tensorflow/tfjs-backend-webgpu did not register its backend: it was imported before navigator.gpu existed. ' +
          'Call useWebGpu() before anything imports @tensorflow/tfjs-backend-webgpu (useWebGpu imports it itself).',
        undefined, ['webgpu']))
    }
    webgpuFactory = factory
  } else if (tf.findBackendFactory('webgpu') == null) tf.registerBackend('webgpu', webgpuFactory, 3)

  // 4. gradients: attribution differentiates through the model, so tfjs-core's gradient configs must be registered
  if (tf.getGradient('Sum') === undefined || tf.getGradient('BatchMatMul') === undefined) {
    return E.left(backendFailure('TensorFlow.js has no gradients registered: import \'@tensorflow/tfjs\' (which registers them) rather than @tensorflow/tfjs-core alone', undefined, ['peerDependencies', '@tensorflow/tfjs']))
  }

  // 5. switch; tfjs logs and returns false when the backend's start fails
  const ok = await tf.setBackend('webgpu').catch(() => false)
  if (!ok) {
    // leave no half-started backend behind: tfjs would otherwise pick it (priority 3) as the default
    tf.removeBackend('webgpu')
    return E.left(backendFailure('tf.setBackend(\'webgpu\') failed although an adapter was found (see the tfjs message logged above); tf.setBackend(\'cpu\') works everywhere', undefined, ['webgpu']))
  }
  return E.right({ backend: 'webgpu', adapter: adapterInfoOf(adapter), nodeSetup: nodeSetupDone })
}

/**
 * {@link useWebGpu} with its imports replaced (tests inject a failing importer).
 *
 * @internal
 */
export const useWebGpuWith = async (deps: WebGpuDeps, options: UseWebGpuOptions = {}): Promise<E.Either<WebGpuError, WebGpuInfo>> => {
  if (succeeded !== undefined) {
    // already set up: only switch back if the caller changed tfjs backends in between
    if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu'))) {
      return E.left(backendFailure('tf.setBackend(\'webgpu\') failed after an earlier success', undefined, ['webgpu']))
    }
    return E.right(succeeded)
  }
  inFlight ??= setUp(deps, options)
    // anything else that goes wrong (a Dawn binary that does not load on this platform, …) is a value too
    .catch((e: unknown) => E.left<WebGpuError, WebGpuInfo>(backendFailure(`WebGPU set-up failed: ${e instanceof Error ? e.message : String(e)}; tf.setBackend('cpu') works everywhere`, e, ['webgpu'])))
    .finally(() => {
      inFlight = undefined
    })
  const r = await inFlight
  if (E.isRight(r)) succeeded = r.right
  return r
}

/**
 * Makes WebGPU the active TensorFlow.js backend, so that models, gradients and attribution run on
 * the GPU. In Node it first installs `navigator.gpu` from the `webgpu` package (Dawn); in a browser
 * it uses the browser's. It then imports and registers `@tensorflow/tfjs-backend-webgpu`, checks
 * that tfjs's gradients are registered and calls `tf.setBackend('webgpu')`.
 *
 * Returns the adapter it got, or a {@link WebGpuError} that says what to do: a missing package
 * (`BackendFailure` naming the packages to install), no adapter (`Unsupported`: in Node, a missing
 * Vulkan driver), or a backend that failed to start. On failure the active tfjs backend is left as
 * it was; `tf.setBackend('cpu')` works everywhere. Calling it again is cheap: after the first
 * success it only switches back to `webgpu` if something switched away.
 *
 * Read results with `await tensor.data()`: a synchronous `dataSync()` stalls the GPU and, in Node,
 * fails on WebGPU tensors (clarus itself reads asynchronously).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs'
 * import { useWebGpu } from 'clarus/tfjs'
 *
 * const gpu = await useWebGpu()
 * if (gpu._tag === 'Left') {
 *   console.warn(gpu.left.message)
 *   await tf.setBackend('cpu')
 * }
 * ```
 *
 * @category backends
 * @since 0.4.0
 */
export const useWebGpu = (options: UseWebGpuOptions = {}): Promise<E.Either<WebGpuError, WebGpuInfo>> => useWebGpuWith(defaultWebGpuDeps, options)
