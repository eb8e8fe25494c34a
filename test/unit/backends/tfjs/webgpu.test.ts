// TensorFlow.js on WebGPU (Dawn for Node) through useWebGpu(): its errors, its set-up, and attribution
// on WebGPU giving the CPU backend's numbers. On CI and on machines without a GPU, WebGPU runs on
// Mesa's lavapipe (software Vulkan): `bash scripts/setup-lavapipe.sh` installs it, and
// vitest.config.ts hands its environment to the test workers. Without it these tests fail (they never skip).
import * as tf from '@tensorflow/tfjs'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs, useWebGpu } from '../../../../src/backends/tfjs/index.js'
import { firstMaxRoute } from '../../../../src/backends/tfjs/modified/maxPoolRouting.js'
import { defaultWebGpuDeps, useWebGpuWith, type WebGpuDeps } from '../../../../src/backends/tfjs/webgpu.js'
import { tfjsTarget } from '../../../../src/conformance/targets.js'
import { runConformance } from '../../../../src/conformance/files.js'
import { FeatureAblation, float32, int64, IntegratedGradients, LayerGradCam, LayerIntegratedGradients, Saliency, type HostTensor, type Model } from '../../../../src/index.js'
import { flowers, layersModel as iris } from '../../../../examples/snippets/iris-model.js'
import { errorOf } from '../../../helpers/errors.js'
import { REFERENCE_DIR } from '../../../helpers/reference.js'

const LAVAPIPE_HINT = 'WebGPU needs a Vulkan driver: without a GPU run `bash scripts/setup-lavapipe.sh` (software Vulkan; vitest.config.ts passes its environment to the tests)'

/** The error Node's ESM loader throws for a package that is not installed. */
const notFound = (name: string): Error =>
  Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/clarus/dist/backends/tfjs/webgpu.js`), { code: 'ERR_MODULE_NOT_FOUND' })

/** Runs `f` with `navigator.gpu` replaced by `gpu` (undefined: removed), then puts the old one back. */
const withNavigatorGpu = async <A>(gpu: unknown, f: () => Promise<A>): Promise<A> => {
  const g = globalThis as { navigator?: { gpu?: unknown } }
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  Object.defineProperty(globalThis, 'navigator', { value: gpu === undefined ? undefined : { ...g.navigator, gpu }, configurable: true, writable: true })
  try {
    return await f()
  } finally {
    if (saved !== undefined) Object.defineProperty(globalThis, 'navigator', saved)
    else delete g.navigator
  }
}

/** Switches tfjs to WebGPU, or fails the test saying why and what to install. */
const onWebGpu = async (): Promise<void> => {
  const r = await useWebGpu()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}\n${LAVAPIPE_HINT}`)
}

const values = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
/** |a − e| ≤ 1e-5 + 1e-4·|e| everywhere (float32 kernels on two devices, same math). */
const expectClose = (actual: HostTensor, expected: HostTensor, what: string): void => {
  expect(actual.shape, what).toEqual(expected.shape)
  const a = values(actual)
  const e = values(expected)
  const worst = e.reduce((w, v, i) => Math.max(w, Math.abs(a[i]! - v) - 1e-4 * Math.abs(v)), 0)
  expect(worst, `${what}: max excess over 1e-4·|e| (CPU ${e.slice(0, 4).join(', ')}…, WebGPU ${a.slice(0, 4).join(', ')}…)`).toBeLessThanOrEqual(1e-5)
  expect(e.some((v) => v !== 0), `${what}: the CPU result is all zeros, so the comparison proves nothing`).toBe(true)
}

// A small conv net (channels last) for the layer method, seeded; the iris MLP is trained by its import.
let conv: tf.Sequential
const image = float32([2, 6, 5, 2], Array.from({ length: 120 }, (_, i) => Math.sin(0.7 * i) + 0.2))
/** The two iris flowers as a host tensor (read once, on the CPU). */
const irisRows = float32([2, 4], flowers.dataSync())

/** The methods compared, each run on whichever tfjs backend is active. */
const runAll = async (): Promise<Record<string, HostTensor>> => {
  const mlp: Model<tf.Tensor> = fromTfjs(iris)
  const cnn: Model<tf.Tensor> = fromTfjs(conv)
  const x = irisRows
  return {
    ig: await new IntegratedGradients(mlp).attribute(x, { target: [0, 2], nSteps: 16 }),
    saliency: await new Saliency(mlp).attribute(x, { target: [0, 2] }),
    layerIg: await new LayerIntegratedGradients(mlp, 'hidden').attribute(x, { target: 1, nSteps: 8 }),
    featureAblation: await new FeatureAblation(mlp).attribute(x, { target: [0, 2] }),
    layerGradCam: await new LayerGradCam(cnn, 'conv').attribute(image, { target: 1 }),
  }
}

describe('useWebGpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
    conv = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 5, 2], filters: 3, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 1 }), biasInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 2 }) }),
        tf.layers.activation({ activation: 'relu', name: 'act' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'dense', kernelInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 3 }) }),
      ],
    })
  })
  afterAll(async () => {
    conv.dispose()
    await tf.setBackend('cpu')
  })

  it('names both packages to install when neither is there, and leaves the backend alone', async () => {
    const missing: WebGpuDeps = { isNode: () => true, importPackage: (name) => Promise.reject(notFound(name)) }
    const r = await withNavigatorGpu(undefined, () => useWebGpuWith(missing))
    if (E.isRight(r)) throw new Error('expected a missing-package error')
    expect(r.left._tag).toBe('BackendFailure')
    expect(r.left.path).toEqual(['peerDependencies', 'webgpu'])
    expect(r.left.message).toContain('npm install webgpu @tensorflow/tfjs-backend-webgpu')
    expect(r.left.message).toContain('tf.setBackend(\'cpu\')')
    expect(tf.getBackend()).toBe('cpu')
  })

  it('reports a Dawn binary that fails to load as a typed error, not a throw', async () => {
    const broken: WebGpuDeps = { isNode: () => true, importPackage: () => Promise.reject(new Error('dawn.node: invalid ELF header')) }
    const r = await withNavigatorGpu(undefined, () => useWebGpuWith(broken))
    if (E.isRight(r)) throw new Error('expected a set-up error')
    expect(r.left._tag).toBe('BackendFailure')
    expect(r.left.path).toEqual(['webgpu'])
    expect(r.left.message).toMatch(/invalid ELF header/)
  })

  it('names only the tfjs backend package when the webgpu package is there', async () => {
    const noBackend: WebGpuDeps = {
      ...defaultWebGpuDeps,
      importPackage: (name) => (name === 'webgpu' ? defaultWebGpuDeps.importPackage(name) : Promise.reject(notFound(name))),
    }
    const r = await useWebGpuWith(noBackend)
    if (E.isRight(r)) throw new Error('expected a missing-package error')
    if (r.left._tag === 'Unsupported') throw new Error(`${r.left.message}\n${LAVAPIPE_HINT}`)
    expect(r.left.path).toEqual(['peerDependencies', '@tensorflow/tfjs-backend-webgpu'])
    expect(r.left.message).toMatch(/npm install @tensorflow\/tfjs-backend-webgpu(?! webgpu)/)
    expect(tf.getBackend()).toBe('cpu')
  })

  it('says what to install when the runtime has no adapter (no Vulkan driver)', async () => {
    const r = await withNavigatorGpu({ requestAdapter: () => Promise.resolve(null) }, () => useWebGpuWith(defaultWebGpuDeps))
    if (E.isRight(r)) throw new Error('expected a no-adapter error')
    expect(r.left._tag).toBe('Unsupported')
    expect(r.left.path).toEqual(['webgpu', 'adapter'])
    expect(r.left.message).toMatch(/Vulkan driver/)
    expect(r.left.message).toMatch(/lavapipe/)
    expect(tf.getBackend()).toBe('cpu')
  })

  it('sets up WebGPU (here on lavapipe) and is idempotent', async () => {
    const r = await useWebGpu()
    if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}\n${LAVAPIPE_HINT}`)
    expect(r.right.backend).toBe('webgpu')
    expect(r.right.nodeSetup).toBe(true)
    expect(Object.values(r.right.adapter).join('')).not.toBe('')
    expect(tf.getBackend()).toBe('webgpu')
    // a second call changes nothing; after a switch to cpu it switches back
    expect(await useWebGpu()).toEqual(r)
    await tf.setBackend('cpu')
    await onWebGpu()
    expect(tf.getBackend()).toBe('webgpu')
    await tf.setBackend('cpu')
  })

  it('IG, Saliency, LayerIntegratedGradients, LayerGradCam and FeatureAblation give the CPU results, leaking no tensor', async () => {
    await tf.setBackend('cpu')
    const onCpu = await runAll()
    await onWebGpu()
    const before = tf.memory().numTensors
    const onGpu = await runAll()
    expect(tf.memory().numTensors).toBe(before)
    expect(tf.getBackend()).toBe('webgpu')
    for (const k of Object.keys(onCpu)) expectClose(onGpu[k]!, onCpu[k]!, k)
    await tf.setBackend('cpu')
  })

  it('routes MaxPool gradients to the first maximum on WebGPU as on the CPU (stride 2, ties included)', async () => {
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as const
    const route = async (): Promise<Float32Array> => {
      const x = tf.tensor4d([0, 0, 1, 1, 0, 0, 1, 1, 3, 2, 0, 0, 2, 3, 0, 0], [1, 4, 4, 1])
      const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])
      const g = tf.tidy(() => firstMaxRoute(dy, x, tf.maxPool(x, attrs.filterSize, attrs.strides, attrs.pad), attrs))
      const out = (await g.data()) as Float32Array
      tf.dispose([x, dy, g])
      return out
    }
    await tf.setBackend('cpu')
    const cpu = await route()
    await onWebGpu()
    const gpu = await route()
    // windows of ties send their gradient to the first (top-left) position
    expect(Array.from(cpu)).toEqual([1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0])
    expect(Array.from(gpu)).toEqual(Array.from(cpu))
    await tf.setBackend('cpu')
  })

  it('a non-finite float baseline on an integer input is a NonFinite error on WebGPU as on the CPU (no synchronous read)', async () => {
    const model = fromTfjs((x: tf.Tensor) => tf.sum(tf.cast(x, 'float32'), 1))
    const call = (): Promise<unknown> => new FeatureAblation(model).attribute(int64([1, 2], [3, 4]), { baselines: float32([1, 2], [0, Number.NaN]) })
    await tf.setBackend('cpu')
    const onCpu = await errorOf(call())
    await onWebGpu()
    const onGpu = await errorOf(call())
    for (const e of [onCpu, onGpu]) {
      expect(e._tag).toBe('NonFinite')
      expect(e.path).toEqual(['baselines', '0'])
    }
    await tf.setBackend('cpu')
  })

  it('passes reference cases of the conformance suite on WebGPU', async () => {
    await onWebGpu()
    const lines: string[] = []
    const r = await runConformance(REFERENCE_DIR, tfjsTarget, { filter: /^mlp\.(ig\.gausslegendre|saliency|lrp|featureablation\.default)/, log: (l) => lines.push(l) })
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.failed, lines.join('\n')).toBe(0)
    expect(r.right.passed, lines.join('\n')).toBeGreaterThanOrEqual(3)
    await tf.setBackend('cpu')
  })
})
