// Target expressions: values and gradients of each step against finite differences and closed
// forms, typed errors for bad steps, and the expressions at work on ONNX (where a function target
// cannot be differentiated) and tfjs: Saliency equals the finite-difference gradient of the
// expression of the model output, and perturbation methods explain the expression's values.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { evalTargetExpr, targetExprSeed, type TargetExpr } from '../../../src/core/targetExpr.js'
import { attribute, FeatureAblation, float32, IntegratedGradients, METHODS, Saliency, type HostTensor, type Model } from '../../../src/index.js'
import type { Progress } from '../../../src/dsl/flow.js'
import { left, REFERENCE_DIR, right } from '../../helpers/reference.js'

const y = float32([2, 2, 3], [0.5, -1, 2, 3, 0, -0.5, 1, 1, 1, -2, 4, 0.25])
const num = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

/** Central differences of Σ_rows value(expr, y) w.r.t. every element of y. */
const fd = (e: TargetExpr, x: HostTensor, h = 1e-3): number[] => {
  const base = Array.from(x.data as Float32Array)
  return base.map((_, i) => {
    const at = (d: number): number => {
      const v = base.slice()
      v[i] = v[i]! + d
      return num(right(targetExprSeed(e, float32(x.shape, v))).value).reduce((a, b) => a + b, 0)
    }
    return (at(h) - at(-h)) / (2 * h)
  })
}

describe('targetExprSeed: values and gradients', () => {
  const cases: [string, TargetExpr][] = [
    ['softmax then select', { expr: [{ op: 'softmax' }, { op: 'select', indices: [2] }] }],
    ['logSoftmax then select (negative index)', { expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [-1, 0] }] }],
    ['softmax over axis 0', { expr: [{ op: 'softmax', axis: 0 }, { op: 'select', indices: [1], axis: 0 }] }],
    ['logit difference by dot', { expr: [{ op: 'select', indices: [0, 2] }, { op: 'dot', weights: [1, -1] }] }],
    ['mean over an axis, then scale', { expr: [{ op: 'mean', axis: -1 }, { op: 'scale', by: -3 }] }],
    ['sum of everything', { expr: [{ op: 'sum' }] }],
    ['empty (identity, summed)', { expr: [] }],
  ]
  for (const [name, e] of cases) {
    it(`${name}: the seed is the gradient (finite differences)`, () => {
      const s = right(targetExprSeed(e, y))
      expect(s.seed.shape).toEqual(y.shape)
      num(s.seed).forEach((g, i) => expect(g).toBeCloseTo(fd(e, y)[i]!, 2))
    })
  }
  it('values: log p(class 2) of each row, computed stably where softmax saturates', () => {
    const z = float32([2, 2], [1000, 0, 0, 1000])
    const v = num(right(targetExprSeed({ expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [1] }] }, z)).value)
    expect(v[0]).toBeCloseTo(-1000, 3)
    expect(v[1]).toBeCloseTo(0, 6)
    // softmax's own value saturates to 0 there, with a zero gradient (why logits are explained instead)
    expect(num(right(targetExprSeed({ expr: [{ op: 'softmax' }, { op: 'select', indices: [1] }] }, z)).seed).slice(0, 2)).toEqual([0, 0])
  })
  it('evalTargetExpr keeps the values per example (perturbation methods explain each)', () => {
    const v = right(evalTargetExpr({ expr: [{ op: 'select', indices: [0, 1] }, { op: 'sum', axis: 0 }] }, y))
    expect(v.shape).toEqual([2, 2])
    expect(num(v)).toEqual([0.5 + 3, -1 + 0, 1 - 2, 1 + 4])
  })
  it('bad steps are BadTarget errors naming the step', () => {
    const axis = left(targetExprSeed({ expr: [{ op: 'softmax', axis: 2 }] }, y))
    expect([axis._tag, axis.path]).toEqual(['BadTarget', ['target', 'expr', '0']])
    expect(axis.message).toMatch(/axis 2 is out of range/)
    expect(left(targetExprSeed({ expr: [{ op: 'sum', axis: 0 }, { op: 'select', indices: [3] }] }, y)).message).toMatch(/index 3 is out of range for an axis of size 3/)
    expect(left(targetExprSeed({ expr: [{ op: 'dot', weights: [1, 2] }] }, y)).path).toEqual(['target', 'expr', '0'])
  })
})

describe('target expressions in attribution calls', () => {
  let mlp: Model<HostTensor>
  beforeAll(async () => {
    await tf.setBackend('cpu')
    mlp = right(await fromOnnx(`${REFERENCE_DIR}/models/mlp.onnx`))
  })
  afterAll(async () => {
    await mlp.dispose()
  })
  const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.7)))
  const logProb1: TargetExpr = { expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [1] }] }
  const logProbOf = async (xs: number[]): Promise<number> => {
    const z = num(right(await mlp.forward([float32([1, 12], xs)])()).output)
    return z[1]! - Math.log(z.reduce((a, v) => a + Math.exp(v), 0))
  }

  it('ONNX Saliency of log p(class 1) is ∇z₁ − Σₖ pₖ ∇zₖ, from the index-target gradients', async () => {
    const g = num(await new Saliency(mlp).attribute(x, { target: logProb1, abs: false }))
    const grads = await Promise.all([0, 1, 2].map(async (k) => num(await new Saliency(mlp).attribute(x, { target: k, abs: false }))))
    const z = num(right(await mlp.forward([x])()).output)
    for (let r = 0; r < 2; r++) {
      const e = z.slice(3 * r, 3 * r + 3).map(Math.exp)
      const p = e.map((v) => v / e.reduce((a, b) => a + b, 0))
      for (let i = 0; i < 12; i++) {
        const j = 12 * r + i
        expect(g[j]).toBeCloseTo(grads[1]![j]! - p.reduce((a, pk, k) => a + pk * grads[k]![j]!, 0), 5)
      }
    }
    // and a finite difference along the gradient direction agrees with ‖g‖² (first row)
    const row0 = num(x).slice(0, 12)
    const dir = g.slice(0, 12)
    const h = 1e-3
    const along = ((await logProbOf(row0.map((v, i) => v + h * dir[i]!))) - (await logProbOf(row0.map((v, i) => v - h * dir[i]!)))) / (2 * h)
    expect(along).toBeCloseTo(dir.reduce((a, v) => a + v * v, 0), 2)
  })

  it('ONNX IntegratedGradients of log p: completeness against the expression at x and the baseline', async () => {
    const r = right(await attribute(METHODS.integratedGradients!.build({ nSteps: 64, returnConvergenceDelta: true }), mlp, x, { target: logProb1 })())
    expect(Math.max(...num(r.delta!).map(Math.abs))).toBeLessThan(1e-2)
    const sum0 = num(r.attributions[0]!).slice(0, 12).reduce((a, b) => a + b, 0)
    expect(sum0).toBeCloseTo((await logProbOf(num(x).slice(0, 12))) - (await logProbOf(new Array(12).fill(0))), 2)
  })

  it('perturbation methods explain the expression\'s value, as with the same host function', async () => {
    const viaExpr = await new FeatureAblation(mlp).attribute(x, { target: logProb1 })
    const viaFn = await new FeatureAblation(mlp).attribute(x, {
      target: (out: HostTensor) => {
        const z = num(out)
        return float32([out.shape[0]!], Array.from({ length: out.shape[0]! }, (_, r) => z[r * 3 + 1]! - Math.log(z.slice(r * 3, r * 3 + 3).reduce((a, v) => a + Math.exp(v), 0))))
      },
    })
    num(viaExpr).forEach((v, i) => expect(v).toBeCloseTo(num(viaFn)[i]!, 4))
    expect(num(viaExpr).some((v) => v !== 0)).toBe(true)
  })

  it('progress counts the extra forward pass per gradient call', async () => {
    const seen: Progress[] = []
    const r = right(await attribute(METHODS.integratedGradients!.build({ nSteps: 4 }), mlp, x, { target: logProb1, internalBatchSize: 4, onProgress: (p) => seen.push(p) })())
    // 4 steps × 2 rows in chunks of 2 steps: per chunk one forward (expression) and one vjp
    expect(seen.map((p) => p.done)).toEqual([4, 8, 12, 16])
    expect(seen.every((p) => p.total === 16)).toBe(true)
    expect(r.meta.modelRows).toBe(16)
  })

  it('a malformed expression is an InvalidSpec before anything runs', async () => {
    const e = left(await attribute(METHODS.saliency!.build({}), mlp, x, { target: { expr: [{ op: 'softmax', axis: 'last' }] } as unknown as TargetExpr })())
    expect(e._tag).toBe('InvalidSpec')
  })

  it('on tfjs the expression equals the same function written with tf ops', async () => {
    const w = tf.tensor2d(Array.from({ length: 36 }, (_, i) => Math.sin(i)), [12, 3])
    const m = fromTfjs((xt: tf.Tensor) => tf.matMul(xt as tf.Tensor2D, w))
    const before = tf.memory().numTensors
    const viaExpr = await new IntegratedGradients(m).attribute(x, { target: logProb1, nSteps: 8 })
    const viaFn = await new IntegratedGradients(m).attribute(x, { target: (out: tf.Tensor) => tf.logSoftmax(out).slice([0, 1], [-1, 1]).reshape([-1]), nSteps: 8 })
    expect(tf.memory().numTensors).toBe(before)
    num(viaExpr).forEach((v, i) => expect(v).toBeCloseTo(num(viaFn)[i]!, 4))
    w.dispose()
  })
})
