// Neuron methods through the public API: NeuronGradient of a linear unit is its weight row,
// NeuronIntegratedGradients is complete for the neuron, and bad selectors are typed errors.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { attribute, float32, IntegratedGradients, LayerActivation, NeuronConductance, NeuronGradient, NeuronIntegratedGradients, neuronGradient, type HostTensor, type Model } from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

let mlp: Model<HostTensor>
let w1: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
  const json = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'models/mlp.weights.json'), 'utf8')) as { parameters: Record<string, { shape: number[]; data: number[][] }> }
  const fc1 = json.parameters['fc1.weight']!
  w1 = { shape: fc1.shape, data: fc1.data.flat() }
})
afterAll(async () => {
  await mlp.dispose()
})

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

describe('neuron methods', () => {
  it('NeuronGradient of a linear unit (fc1, before its ReLU) is that unit\'s weight row, for every example', async () => {
    for (const j of [0, 5, -1]) {
      const g = data(await new NeuronGradient(mlp, '/fc1/Gemm_output_0').attribute(x, { neuronSelector: j }))
      const rows = w1.shape[0]!
      const row = (j + rows) % rows
      const want = Array.from({ length: 12 }, (_, i) => Number(w1.data[row * 12 + i]))
      for (let e = 0; e < 2; e++) want.forEach((v, i) => expect(g[e * 12 + i]).toBeCloseTo(v, 6))
    }
  })

  it('NeuronIntegratedGradients is complete for the neuron: Σ attr = y_n(x) − y_n(x′)', async () => {
    const layer = '/relu2/Relu_output_0'
    const attr = await new NeuronIntegratedGradients(mlp, layer).attribute(x, { neuronSelector: 4, nSteps: 400, method: 'riemann_middle' })
    const act = data(await new LayerActivation(mlp, layer).attribute(x))
    const act0 = data(await new LayerActivation(mlp, layer).attribute(float32([2, 12], new Float32Array(24))))
    const width = act.length / 2
    const a = data(attr)
    for (let e = 0; e < 2; e++) {
      const sum = a.slice(e * 12, e * 12 + 12).reduce((s, v) => s + v, 0)
      expect(sum).toBeCloseTo(act[e * width + 4]! - act0[e * width + 4]!, 3)
    }
  })

  it('NeuronConductance summed over every neuron of a layer that cuts the network is IntegratedGradients (the chain rule)', async () => {
    const layer = '/relu1/Relu_output_0'
    const opts = { target: 1, nSteps: 20, method: 'riemann_trapezoid' as const }
    const width = (await new LayerActivation(mlp, layer).attribute(x)).shape[1]!
    const total = new Float64Array(24)
    for (let n = 0; n < width; n++) data(await new NeuronConductance(mlp, layer).attribute(x, { ...opts, neuronSelector: n })).forEach((v, i) => { total[i] = total[i]! + v })
    const ig = data(await new IntegratedGradients(mlp).attribute(x, opts))
    ig.forEach((v, i) => expect(total[i]).toBeCloseTo(v, 5))
    const bad = await errorOf(new NeuronConductance(mlp, layer).attribute(x, { ...opts, neuronSelector: width }))
    expect(bad.path).toEqual(['neuron'])
  })

  it('a selector outside the layer, or of the wrong length, is a typed error naming the neuron', async () => {
    const far = await errorOf(new NeuronGradient(mlp, '/fc1/Gemm_output_0').attribute(x, { neuronSelector: 999 }))
    expect(far._tag).toBe('BadTarget')
    expect(far.path).toEqual(['neuron'])
    expect(far.message).toMatch(/neuron "\/fc1\/Gemm_output_0"\[999\]/)
    const long = await errorOf(new NeuronGradient(mlp, '/fc1/Gemm_output_0').attribute(x, { neuronSelector: [1, 2] }))
    expect(long.path).toEqual(['neuron'])
    const unknown = await attribute(neuronGradient({ layer: 'nope', neuronSelector: 0 }), mlp, x)()
    expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownTensor')
    const bad = await errorOf(new NeuronGradient(mlp, '/fc1/Gemm_output_0').attribute(x, { neuronSelector: 1.5 as unknown as number }))
    expect(bad._tag).toBe('InvalidSpec')
  })
})
