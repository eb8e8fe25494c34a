// Many layers in one pass: a list call makes one backward pass (counted on a wrapped model), bad
// lists are typed errors naming the layer, no tfjs tensor is left behind, and the single-string
// form of every spec and option still decodes and runs as before.
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  decodePipeline,
  describe as describePipeline,
  float32,
  InternalInfluence,
  LayerActivation,
  LayerGradCam,
  LayerGradientXActivation,
  LayerIntegratedGradients,
  METHODS,
  NoiseTunnel,
  pipeline,
  stage,
  type HostTensor,
  type Model,
} from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** BasicModel_MultiLayer-like, tapped everywhere, plus a parallel branch `side` for joint LIG. */
const base = fromTfjs({
  layers: ['linear0', 'linear1', 'relu', 'side', 'linear2'],
  fn: (tap, x) => {
    const l0 = tap('linear0', tf.add(x!, 0))
    const l1 = tap('linear1', tf.add(tf.matMul(l0, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    const r = tap('relu', tf.relu(l1))
    const side = tap('side', tf.tanh(tf.matMul(x!, tf.fill([3, 4], 0.1))))
    return tap('linear2', tf.add(tf.matMul(tf.add(r, side), tf.ones([4, 2])), tf.tensor1d([-1, 1])))
  },
})

/** `model` with its forward and vjp calls counted. */
const counted = <T>(model: Model<T>): { model: Model<T>; calls: { forward: number; vjp: number } } => {
  const calls = { forward: 0, vjp: 0 }
  return {
    calls,
    model: {
      ...model,
      forward: (inputs, options) => {
        calls.forward++
        return model.forward(inputs, options)
      },
      vjp: (inputs, selector, options) => {
        calls.vjp++
        return model.vjp(inputs, selector, options)
      },
    },
  }
}

const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
const baselines = float32([2, 3], [1, -2, 0, 0, 1, 1])
const LIST = ['linear1', 'relu', 'linear0'] as const

describe('one list call = one backward pass', () => {
  it('LayerGradCam, LayerGradientXActivation: one vjp and no other model call for three layers; one per layer when run one by one', async () => {
    const c = counted(base)
    const cam = await new LayerGradCam(c.model, [...LIST]).attribute(x, { target: 0 })
    expect(cam).toHaveLength(3)
    expect(c.calls).toEqual({ forward: 0, vjp: 1 })
    await new LayerGradientXActivation(c.model, [...LIST]).attribute(x, { target: 0 })
    expect(c.calls).toEqual({ forward: 0, vjp: 2 })
    for (const l of LIST) await new LayerGradCam(c.model, l).attribute(x, { target: 0 })
    expect(c.calls).toEqual({ forward: 0, vjp: 5 })
  })

  it('LayerActivation: one forward pass for three layers', async () => {
    const c = counted(base)
    const acts = await new LayerActivation(c.model, [...LIST]).attribute(x)
    expect(acts.map((a) => a.shape)).toEqual([[2, 4], [2, 4], [2, 3]])
    expect(c.calls).toEqual({ forward: 1, vjp: 0 })
  })

  it('InternalInfluence: one vjp for all layers and all steps of one chunk; one per chunk when chunked', async () => {
    const c = counted(base)
    await new InternalInfluence(c.model, [...LIST]).attribute(x, { target: 0, baselines, nSteps: 5 })
    expect(c.calls).toEqual({ forward: 0, vjp: 1 })
    await new InternalInfluence(c.model, [...LIST]).attribute(x, { target: 0, baselines, nSteps: 5, internalBatchSize: 4 })
    expect(c.calls).toEqual({ forward: 0, vjp: 1 + 3 })
  })

  it('LayerIntegratedGradients: two forward passes (the endpoints of every layer) and one vjp; the delta is one per example over all layers', async () => {
    const c = counted(base)
    const [attrs, delta] = await new LayerIntegratedGradients(c.model, ['relu', 'side']).attribute(x, { target: 0, baselines, nSteps: 6, returnConvergenceDelta: true })
    expect(attrs.map((a) => a.shape)).toEqual([[2, 4], [2, 4]])
    expect(delta.shape).toEqual([2])
    // the delta's two forward passes F(x), F(x′) come on top
    expect(c.calls).toEqual({ forward: 4, vjp: 1 })
  })
})

describe('the result type follows the layer argument', () => {
  // types only: the calls are wrapped in functions that are never called
  it('a string gives a HostTensor, a list a HostTensor[]; LIG with a delta pairs either with one delta tensor', () => {
    expectTypeOf(() => new LayerGradCam(base, 'relu').attribute(x)).returns.resolves.toEqualTypeOf<HostTensor>()
    expectTypeOf(() => new LayerGradCam(base, ['relu', 'side']).attribute(x)).returns.resolves.toEqualTypeOf<HostTensor[]>()
    expectTypeOf(() => new LayerActivation(base, ['relu']).attribute(x)).returns.resolves.toEqualTypeOf<HostTensor[]>()
    expectTypeOf(() => new InternalInfluence(base, 'relu').attribute(x)).returns.resolves.toEqualTypeOf<HostTensor>()
    expectTypeOf(() => new LayerGradientXActivation(base, ['relu']).attribute(x)).returns.resolves.toEqualTypeOf<HostTensor[]>()
    expectTypeOf(() => new LayerIntegratedGradients(base, ['relu', 'side']).attribute(x, { returnConvergenceDelta: true })).returns.resolves.toEqualTypeOf<[HostTensor[], HostTensor]>()
    // (a tuple of two HostTensors trips expectTypeOf's equality; an annotated function checks it instead)
    const single = (): Promise<[HostTensor, HostTensor]> => new LayerIntegratedGradients(base, 'relu').attribute(x, { returnConvergenceDelta: true })
    expectTypeOf(single).toBeFunction()
    const either: string | readonly string[] = Math.random() > 2 ? 'relu' : ['relu']
    expectTypeOf(() => new LayerGradCam(base, either).attribute(x)).returns.resolves.toEqualTypeOf<HostTensor | HostTensor[]>()
  })
})

describe('bad lists are typed errors naming the problem', () => {
  const classes = [
    (l: readonly string[]) => new LayerGradCam(base, l).attribute(x, { target: 0 }),
    (l: readonly string[]) => new LayerGradientXActivation(base, l).attribute(x, { target: 0 }),
    (l: readonly string[]) => new LayerActivation(base, l).attribute(x),
    (l: readonly string[]) => new InternalInfluence(base, l).attribute(x, { target: 0, nSteps: 4 }),
    (l: readonly string[]) => new LayerIntegratedGradients(base, l).attribute(x, { target: 0, nSteps: 4 }),
  ]
  it.each(classes.map((f, i) => [i, f] as const))('class %i: empty list, duplicate layer, unknown layer', async (_i, call) => {
    const empty = await errorOf(call([]))
    expect(empty._tag).toBe('InvalidSpec')
    expect(empty.path).toEqual(['layer'])
    expect(empty.message).toMatch(/list of layers is empty/)
    const dup = await errorOf(call(['relu', 'linear1', 'relu']))
    expect(dup._tag).toBe('InvalidSpec')
    expect(dup.message).toContain('"relu" is listed twice')
    const unknown = await errorOf(call(['relu', 'conv9']))
    expect(unknown._tag).toBe('UnknownTensor')
    expect(unknown.message).toContain('conv9')
  })

  it('the option codecs of METHODS: both forms decode, bad lists do not', () => {
    for (const name of ['layerGradCam', 'layerGradientXActivation', 'layerActivation', 'internalInfluence', 'layerIntegratedGradients'] as const) {
      const m = METHODS[name]!
      expect(E.isRight(m.options.decode({ layer: 'relu' }))).toBe(true)
      expect(E.isRight(m.options.decode({ layer: ['relu', 'linear1'] }))).toBe(true)
      expect(E.isLeft(m.options.decode({ layer: [] }))).toBe(true)
      expect(E.isLeft(m.options.decode({ layer: ['relu', 'relu'] }))).toBe(true)
      expect(E.isLeft(m.options.decode({ layer: ['relu', 3] }))).toBe(true)
      expect(m.build({ layer: ['relu', 'linear1'] }).stages.length).toBeGreaterThan(0)
    }
  })

  it('grad({ inject }) must name the layers layerEndpoints moved into (checked before running)', () => {
    const bad = decodePipeline({
      _tag: 'Pipeline',
      name: 'mismatched',
      stages: [stage.layerEndpoints({ layer: ['relu', 'side'] }), stage.interpolate({ nSteps: 4, method: 'gausslegendre' }), stage.grad({ layer: ['side', 'relu'], inject: true }), stage.quadrature()],
    })
    expect(E.isLeft(bad) && bad.left._tag).toBe('BadPipeline')
    expect(E.isLeft(bad) && bad.left.message).toContain('["relu", "side"]')
  })
})

describe('the single-string form is unchanged', () => {
  it('a pipeline serialised with one layer decodes to the same value, runs the same, and prints the same', async () => {
    const json = '{"_tag":"Pipeline","name":"LayerIntegratedGradients","stages":[{"_tag":"layerEndpoints","layer":"relu"},{"_tag":"interpolate","nSteps":8,"method":"gausslegendre"},{"_tag":"grad","layer":"relu","inject":true},{"_tag":"quadrature"},{"_tag":"scaleByDelta"}]}'
    const decoded = decodePipeline(JSON.parse(json))
    if (E.isLeft(decoded)) throw new Error(decoded.left.message)
    expect(JSON.stringify(decoded.right)).toBe(json)
    expect(decoded.right).toEqual(METHODS['layerIntegratedGradients']!.build({ layer: 'relu', nSteps: 8 }))
    expect(describePipeline(decoded.right)).toContain('layerEndpoints(a = layer "relu" at x and x′)')
    const list = METHODS['layerIntegratedGradients']!.build({ layer: ['relu', 'side'], nSteps: 8 })
    expect(JSON.parse(JSON.stringify(list))).toEqual(list)
    expect(describePipeline(list)).toContain('grad(wrt layer ["relu", "side"] (injected))')
  })

  it('a list pipeline round-trips through JSON and runs to the same values', async () => {
    const p = pipeline('LayerGradCam', stage.grad({ layer: ['relu', 'linear1'] }), stage.gradCam())
    const back = decodePipeline(JSON.parse(JSON.stringify(p)))
    if (E.isLeft(back)) throw new Error(back.left.message)
    expect(back.right).toEqual(p)
  })
})

describe('no tfjs tensor is left behind', () => {
  it('every list call, whole and chunked, and NoiseTunnel around a list method', async () => {
    const before = tf.memory().numTensors
    await new LayerGradCam(base, [...LIST]).attribute(x, { target: 0 })
    await new LayerGradientXActivation(base, [...LIST]).attribute(x, { target: 1 })
    await new LayerActivation(base, [...LIST]).attribute(x)
    await new InternalInfluence(base, [...LIST]).attribute(x, { target: 0, baselines, nSteps: 6, internalBatchSize: 4 })
    await new LayerIntegratedGradients(base, ['relu', 'side']).attribute(x, { target: 0, baselines, nSteps: 6, returnConvergenceDelta: true, internalBatchSize: 4 })
    const nt = await new NoiseTunnel(new LayerGradCam(base, ['relu', 'side'])).attribute(x, { target: 0, nSamples: 3, stdevs: 0.1, seed: 3 })
    // typed from the wrapped class: a list of layers gives HostTensor[], one layer a HostTensor (npm run typecheck checks these)
    expectTypeOf(nt).toEqualTypeOf<HostTensor[]>()
    expect(nt.map((a) => a.shape)).toEqual([[2, 1], [2, 1]])
    const single = await new NoiseTunnel(new LayerGradCam(base, 'relu')).attribute(x, { target: 0, nSamples: 3, stdevs: 0.1, seed: 3 })
    expectTypeOf(single).toEqualTypeOf<HostTensor>()
    expect(single.shape).toEqual([2, 1])
    // errors release what they made too
    await errorOf(new LayerIntegratedGradients(base, ['linear1', 'relu']).attribute(x, { target: 0, nSteps: 4 }))
    await errorOf(new LayerGradCam(base, ['relu', 'conv9']).attribute(x, { target: 0 }))
    expect(tf.memory().numTensors).toBe(before)
  })
})
