// fromOnnx(model, { device: 'webgpu' }): ONNX Runtime's WebGPU provider gives the Captum reference
// values (within each case's own tolerance) for gradient, layer and perturbation methods on the mlp
// and the cnn, the same values as the CPU provider, and a typed error where there is no adapter.
// Without a GPU this runs on Mesa's lavapipe (bash scripts/setup-lavapipe.sh; vitest.config.ts hands
// its Vulkan driver to the test processes). A machine without any adapter FAILS here: it does not skip.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { resolveDevice } from '../../../../src/backends/onnx/device.js'
import { runConformance } from '../../../../src/conformance/files.js'
import { onnxWebGpuTarget } from '../../../../src/conformance/targets.js'
import { attribute, int64, IntegratedGradients, integratedGradients, Occlusion, type HostTensor, type Model } from '../../../../src/index.js'
import { left, REFERENCE_DIR, right } from '../../../helpers/reference.js'
import { modelPath, randomTensor, worstExcess } from './fixtures.js'

const SETUP = 'WebGPU is not usable in this process. Without a GPU, install the software Vulkan driver with `bash scripts/setup-lavapipe.sh` ' +
  '(CI runs it; vitest.config.ts then passes its VK_ICD_FILENAMES and LD_LIBRARY_PATH to the tests).'

let cpu: Model<HostTensor>
let gpu: Model<HostTensor>

beforeAll(async () => {
  const g = await fromOnnx(modelPath('cnn'), { device: 'webgpu' })
  if (E.isLeft(g)) throw new Error(`${SETUP}\n${g.left._tag}: ${g.left.message}`)
  gpu = g.right
  cpu = right(await fromOnnx(modelPath('cnn')))
})
afterAll(async () => {
  await gpu?.dispose()
  await cpu?.dispose()
})

describe("device 'webgpu' on the reference cases (lavapipe without a GPU)", () => {
  // one case per kind: gradient (IG with the all-tied zero baseline, Saliency), modified gradient
  // (DeepLift's MaxPool rule), layer (GradCAM, LayerIG), perturbation (Occlusion, FeatureAblation)
  const CASES = [
    'mlp.ig.gausslegendre50.zeros.t0', 'mlp.saliency.abs_true.t0', 'mlp.layerig.fc1.gausslegendre50.t0', 'mlp.featureablation.default.t0',
    'cnn.ig.left16.t1', 'cnn.saliency.abs_false.tlist', 'cnn.deeplift.zeros.t0', 'cnn.layergradcam.conv2.t0', 'cnn.occlusion.w3x8x8.s3x4x4.t1',
  ]
  it(`passes ${CASES.length} cases within the reference tolerances`, async () => {
    const filter = new RegExp(`^(${CASES.map((c) => c.replace(/\./g, '\\.')).join('|')})$`)
    const report = right(await runConformance(REFERENCE_DIR, onnxWebGpuTarget, { filter }))
    expect(report.cases.map((c) => c.id).sort()).toEqual([...CASES].sort())
    expect(report.cases.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status} ${c.detail}`)).toEqual([])
  })
})

describe("device 'webgpu' gives the CPU provider's values", () => {
  const x = randomTensor([2, 3, 32, 32], 4)
  const tol = { abs: 1e-6, rel: 1e-3 }

  it('IntegratedGradients and Occlusion on the cnn', async () => {
    const ig = { target: [1, 4], nSteps: 8 }
    expect(worstExcess((await new IntegratedGradients(gpu).attribute(x, ig)).data as Float32Array, (await new IntegratedGradients(cpu).attribute(x, ig)).data as Float32Array, tol)).toBeLessThanOrEqual(0)
    const occ = { target: 2, slidingWindowShapes: [3, 8, 8], strides: [3, 8, 8] }
    expect(worstExcess((await new Occlusion(gpu).attribute(x, occ)).data as Float32Array, (await new Occlusion(cpu).attribute(x, occ)).data as Float32Array, tol)).toBeLessThanOrEqual(0)
  })

  it('plans fewer, larger chunks: the model carries a 2 GiB default budget, the CPU model none (512 MiB)', async () => {
    expect(gpu.memoryBudgetBytes).toBe(2 * 1024 ** 3)
    expect(cpu.memoryBudgetBytes).toBeUndefined()
    // 100 MiB a row: 5 rows per chunk on the CPU default, 20 on WebGPU's
    const rowBytes = 100 * 1024 ** 2
    const chunksOn = async (device: 'cpu' | 'webgpu'): Promise<number> => {
      const m = right(await fromOnnx(modelPath('cnn'), { device, bytesPerRow: rowBytes }))
      try {
        return right(await attribute(integratedGradients({ nSteps: 20 }), m, randomTensor([1, 3, 32, 32], 8), { target: 0 })()).meta.chunks
      } finally {
        await m.dispose()
      }
    }
    expect([await chunksOn('cpu'), await chunksOn('webgpu')]).toEqual([4, 1])
  })
})

describe("device 'webgpu' for causal LMs", () => {
  it("the next-token scoring head (its log softmax spelled in ops the WebGPU provider has) gives the CPU's log-probabilities", async () => {
    const ids = int64([2, 6], [1, 10, 20, 30, 40, 50, 1, 7, 8, 9, 11, 12])
    const lp = async (device: 'cpu' | 'webgpu'): Promise<Float32Array> => {
      const m = right(await fromOnnx(modelPath('tinylm'), { device }))
      try {
        return right(await m.nextTokenLogProbs!([ids])()).data as Float32Array
      } finally {
        await m.dispose()
      }
    }
    const [c, g] = [await lp('cpu'), await lp('webgpu')]
    expect(c.length).toBe(12)
    expect(worstExcess(g, c, { abs: 1e-5, rel: 1e-5 })).toBeLessThanOrEqual(0)
  })
})

describe('choosing the device', () => {
  it("device and session.executionProviders must agree; the providers alone pick 'webgpu' too", () => {
    expect(resolveDevice(undefined, undefined)).toEqual(E.right('cpu'))
    expect(resolveDevice(undefined, ['webgpu'])).toEqual(E.right('webgpu'))
    expect(resolveDevice('webgpu', ['webgpu'])).toEqual(E.right('webgpu'))
    expect(left(resolveDevice('webgpu', ['cpu'])).path).toEqual(['session', 'executionProviders'])
    expect(left(resolveDevice('cuda', undefined)).message).toMatch(/'cpu' or 'webgpu'/)
  })

  it('no adapter (a Vulkan driver file that does not exist) is an Unsupported error at device that says what to do', () => {
    const child = spawnSync(fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url)), [fileURLToPath(new URL('./webgpuProbe.fixture.ts', import.meta.url))], {
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/clarus_icd.json' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    const line = child.stdout.trim().split('\n').at(-1) ?? ''
    const res = JSON.parse(line) as { ok: boolean; tag?: string; path?: string[]; message?: string }
    expect(res.ok).toBe(false)
    expect(res.tag).toBe('Unsupported')
    expect(res.path).toEqual(['device'])
    expect(res.message).toMatch(/adapter/)
    expect(res.message).toMatch(/Vulkan/)
    expect(res.message).toMatch(/device: 'cpu'/)
    // the control: the same child with this process's Vulkan set-up loads the model
    const ok = spawnSync(fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url)), [fileURLToPath(new URL('./webgpuProbe.fixture.ts', import.meta.url))], { env: process.env, encoding: 'utf8', timeout: 60_000 })
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ ok: true })
  })
})
