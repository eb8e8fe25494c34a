// InternalInfluence and LayerGradCam against Captum's hard-coded test values (captum-semantics.md, Fixture I) on
// BasicModel_MultiLayer written as a tapped tfjs function: linear0 = identity, linear1 (W = ones,
// b = [−10, 1, 1, 1]), relu, linear2 (W = ones, b = [−1, 1]).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { InternalInfluence, LayerGradCam, float32, type HostTensor } from '../../src/index.js'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { compareTensors, loadReferenceDir, type ReferenceCase } from '../../src/conformance/index.js'
import { ClarusError, LayerConductance, MAX_STEPS, METHODS, attribute, layerConductance, pipeline, stage, type AttributionError, type Model } from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'
import { REFERENCE_DIR } from '../helpers/reference.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const multiLayer = fromTfjs({
  layers: ['linear0', 'linear1', 'relu', 'linear2'],
  fn: (tap, x) => {
    const l0 = tap('linear0', tf.add(x!, 0))
    const l1 = tap('linear1', tf.add(tf.matMul(l0, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    const r = tap('relu', tf.relu(l1))
    return tap('linear2', tf.add(tf.matMul(r, tf.ones([4, 2])), tf.tensor1d([-1, 1])))
  },
})

const close = (got: HostTensor, want: readonly number[], tol: number): void => {
  const g = Array.from(got.data as Float32Array)
  expect(g).toHaveLength(want.length)
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol))
}

describe('InternalInfluence (riemann_trapezoid, 500 steps), x = [[0, 100, 0]], target 0', () => {
  const x = float32([1, 3], [0, 100, 0])
  const opts = { target: 0, nSteps: 500, method: 'riemann_trapezoid' as const }
  it('linear0 → [[3.9, 3.9, 3.9]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear0').attribute(x, opts), [3.9, 3.9, 3.9], 0.01)
  })
  it('linear1 → [[0.9, 1, 1, 1]]; linear2 → [[1, 0]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(x, opts), [0.9, 1, 1, 1], 0.01)
    close(await new InternalInfluence(multiLayer, 'linear2').attribute(x, opts), [1, 0], 0.01)
  })
  it('relu, x = [[3, 4, 0]] → [[1, 1, 1, 1]]', async () => {
    close(await new InternalInfluence(multiLayer, 'relu').attribute(float32([1, 3], [3, 4, 0]), opts), [1, 1, 1, 1], 0.01)
  })
  it('linear1 with baselines: one example, and a batch of two', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(float32([1, 3], [0, 80, 0]), { ...opts, baselines: float32([1, 3], [0, -20, 0]) }), [0.7, 0.8, 0.8, 0.8], 0.01)
    const batch = await new InternalInfluence(multiLayer, 'linear1').attribute(float32([2, 3], [0, 80, 0, 30, 30, 0]), { ...opts, baselines: float32([2, 3], [0, -20, 0, -20, -20, 0]) })
    close(batch, [0.7, 0.8, 0.8, 0.8, 0.5, 0.6, 0.6, 0.6], 0.01)
  })
  it('leaves no tensor behind', async () => {
    const before = tf.memory().numTensors
    await new InternalInfluence(multiLayer, 'relu').attribute(x, { ...opts, nSteps: 20 })
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('InternalInfluence and LayerGradCam on two examples, x = [[20, 50, 30], [2, 10, 3]], target 0', () => {
  const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
  it('InternalInfluence(linear1), Gauss–Legendre 50 steps → [[0.90179, 1, 1, 1], [0.34695, 1, 1, 1]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(x, { target: 0 }), [0.90179, 1, 1, 1, 0.34695, 1, 1, 1], 1e-4)
  })
  it('LayerGradCam(linear1), a 2-D layer: Σ_c ∂F/∂A_c · A_c → [[393], [53]]', async () => {
    const m = await new LayerGradCam(multiLayer, 'linear1').attribute(x, { target: 0 })
    expect(m.shape).toEqual([2, 1])
    close(m, [393, 53], 1e-3)
  })
  it('LayerGradCam(linear0), x = [[0, 100, 0]] → [[400]]; with ReLU a negative map is 0', async () => {
    close(await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, 100, 0]), { target: 0 }), [400], 1e-3)
    const neg = await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, -100, 0]), { target: 0 })
    const relu = await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, -100, 0]), { target: 0, reluAttributions: true })
    expect(Array.from(relu.data as Float32Array)).toEqual(Array.from(neg.data as Float32Array, (v) => Math.max(0, v)))
  })
})

describe('LayerConductance on BasicModel_MultiLayer (Captum\'s own values)', () => {
  it('linear1, Gauss–Legendre 50 steps, two examples → Captum\'s attributions and deltas', async () => {
    const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
    const [attr, delta] = await new LayerConductance(multiLayer, 'linear1').attribute(x, { target: 0, returnConvergenceDelta: true })
    expect(attr.shape).toEqual([2, 4])
    close(attr, [89.57259, 99.89099, 99.89099, 99.89099, 4.80775, 14.98365, 14.98365, 14.98365], 2e-4)
    close(delta, [-0.75446, -0.2413], 2e-4)
  })
  it('Gauss–Legendre 500 steps, x = [[0, 100, 0]]: linear0 → [[0, 390, 0]], linear1 and relu → [[90, 100, 100, 100]], linear2 → [[390, 0]], |δ| < 0.01', async () => {
    const x = float32([1, 3], [0, 100, 0])
    const want: [string, number[]][] = [['linear0', [0, 390, 0]], ['linear1', [90, 100, 100, 100]], ['relu', [90, 100, 100, 100]], ['linear2', [390, 0]]]
    for (const [layer, values] of want) {
      const [attr, delta] = await new LayerConductance(multiLayer, layer).attribute(x, { target: 0, nSteps: 500, returnConvergenceDelta: true })
      close(attr, values, 0.1)
      expect(Math.abs((delta.data as Float32Array)[0]!)).toBeLessThan(0.01)
    }
  })
  it('one step of a Riemann rule is allowed (the path has two points, as in Captum): trapezoid → g(x′) ⊙ (a(x) − a(x′)), left → g(x′) ⊙ (a(x/2) − a(x′))', async () => {
    // linear1 at x′ = 0 is [−10, 1, 1, 1]: the first unit is cut by the ReLU, so g = [0, 1, 1, 1]
    const x = float32([1, 3], [0, 100, 0])
    close(await new LayerConductance(multiLayer, 'linear1').attribute(x, { target: 0, nSteps: 1, method: 'riemann_trapezoid' }), [0, 100, 100, 100], 1e-4)
    close(await new LayerConductance(multiLayer, 'linear1').attribute(x, { target: 0, nSteps: 1, method: 'riemann_left' }), [0, 50, 50, 50], 1e-4)
  })
  it('leaves no tensor behind, whole or chunked', async () => {
    const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
    const before = tf.memory().numTensors
    await new LayerConductance(multiLayer, 'relu').attribute(x, { target: 0, nSteps: 12, returnConvergenceDelta: true })
    await new LayerConductance(multiLayer, 'relu').attribute(x, { target: 0, nSteps: 12, internalBatchSize: 2, returnConvergenceDelta: true })
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('LayerConductance against the Captum reference fixtures (ONNX)', () => {
  const ref = loadReferenceDir(REFERENCE_DIR)
  const ids = ['mlp.layerconductance.fc2_input.trapezoid.t0', 'cnn.layerconductance.conv2.t0', 'sigmoidnet.layerconductance.sigmoid.tnone']
  const caseOf = (id: string): ReferenceCase => {
    if (E.isLeft(ref)) throw new Error(ref.left.message)
    const lazy = ref.right.cases.find((c) => c.entry.id === id)
    const c = lazy?.load()
    if (c === undefined || E.isLeft(c)) throw new Error(`cannot load ${id}`)
    return c.right
  }
  const expectMatch = (got: HostTensor, want: HostTensor, tol: { readonly abs: number; readonly rel: number }): void => {
    const cmp = compareTensors(got, want, tol)
    expect(cmp.ok, cmp.message).toBe(true)
  }
  it.each(ids)('%s: attributions and deltas match Captum, whole and one step per chunk', async (id) => {
    const c = caseOf(id)
    const m = await fromOnnx(path.join(REFERENCE_DIR, `models/${c.model}.onnx`))
    if (E.isLeft(m)) throw new Error(m.left.message)
    const model: Model<HostTensor> = m.right
    try {
      const a = c.args
      const method = new LayerConductance(model, c.layer!.attributed_tensor)
      const opts = {
        target: a['target'] as number | null,
        ...(a['baselines'] !== null && a['baselines'] !== undefined ? { baselines: a['baselines'] as HostTensor } : {}),
        nSteps: a['n_steps'] as number,
        method: a['method'] as 'gausslegendre' | 'riemann_trapezoid',
        returnConvergenceDelta: true as const,
      }
      const n = c.inputs[0]!.shape[0]!
      // internalBatchSize = N: one step per chunk, so every step crosses a chunk boundary
      for (const extra of [{}, { internalBatchSize: n }]) {
        const [attr, delta] = await method.attribute(c.inputs[0]!, { ...opts, ...extra })
        expect(attr.shape).toEqual(c.expected.attributions[0]!.shape)
        expectMatch(attr, c.expected.attributions[0]!, c.tolerance)
        expectMatch(delta, c.expected.convergenceDelta!, c.deltaTolerance ?? c.tolerance)
      }
    } finally {
      await model.dispose()
    }
  })
})

describe('LayerConductance: bad input is a typed error', () => {
  const x = float32([1, 3], [0, 100, 0])
  const built = (u: unknown): AttributionError => {
    try {
      METHODS['layerConductance']!.build(u)
    } catch (e) {
      expect(e).toBeInstanceOf(ClarusError)
      return (e as ClarusError).error
    }
    throw new Error('expected the options to be rejected')
  }
  it('a missing or empty layer name', async () => {
    expect(built({})).toMatchObject({ _tag: 'InvalidSpec', path: ['layer'] })
    expect(built({ layer: '' })).toMatchObject({ _tag: 'InvalidSpec', path: ['layer'] })
    expect(await errorOf(new LayerConductance(multiLayer, '').attribute(x, { target: 0 }))).toMatchObject({ _tag: 'InvalidSpec', path: ['layer'] })
  })
  it('a layer the model does not have names the layer', async () => {
    const e = await errorOf(new LayerConductance(multiLayer, 'linear9').attribute(x, { target: 0 }))
    expect(e._tag).toBe('UnknownTensor')
    expect(e.message).toContain('linear9')
  })
  it('nSteps must be an integer from 1 to MAX_STEPS − 1 (the path has nSteps + 1 points); the method one of Captum\'s rules', async () => {
    for (const nSteps of [0, -3, 2.5, MAX_STEPS]) {
      const e = built({ layer: 'linear1', nSteps })
      expect(e).toMatchObject({ _tag: 'InvalidSpec', path: ['nSteps'] })
      expect(e.message).toContain(String(MAX_STEPS - 1))
    }
    expect(() => layerConductance({ layer: 'linear1', nSteps: MAX_STEPS - 1 })).not.toThrow()
    expect(built({ layer: 'linear1', method: 'simpson' })).toMatchObject({ _tag: 'InvalidSpec', path: ['method'] })
    expect(await errorOf(new LayerConductance(multiLayer, 'linear1').attribute(x, { target: 0, nSteps: 0 }))).toMatchObject({ _tag: 'InvalidSpec', path: ['nSteps'] })
  })
  it('conductanceSum needs the activation at every point: without grad({ layer }) before it the pipeline is rejected before running', async () => {
    let error: unknown
    try {
      pipeline('broken', stage.interpolate({ nSteps: 4, method: 'riemann_trapezoid' }), stage.activation({ layer: 'linear1' }), stage.conductanceSum())
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ClarusError)
    expect((error as ClarusError).error._tag).toBe('BadPipeline')
    expect((error as ClarusError).error.message).toContain('grad({ layer })')
    const r = await attribute({ _tag: 'Pipeline', name: 'broken', stages: [stage.interpolate({ nSteps: 4, method: 'riemann_trapezoid' }), stage.activation({ layer: 'linear1' }), stage.conductanceSum()] }, multiLayer, x, {})()
    expect(E.isLeft(r) && r.left._tag).toBe('BadPipeline')
  })
})
