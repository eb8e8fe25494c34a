// Adding a stage is its file plus one line in ALL_STAGES: `clip` (src/dsl/stages/clip.ts) was added
// that way, and nothing else names it. Its spec member, codec entry and builder are derived from
// the list, so it decodes from JSON, round-trips, is checked with the other stages and runs.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { checkPipeline, type StageTag } from '../../../src/dsl/spec.js'
import { ALL_STAGES } from '../../../src/dsl/stages/index.js'
import { attribute, decodePipeline, describe as describeSpec, float32, pipeline, toFloat64, stage, StageSpecCodec, type Pipeline, type StageSpec } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// F(x) = Σ_i w_i x_i per row: its gradient is w, with entries below, inside and above [−1, 1].
const w = [-2, 0.5, 3, -0.25]
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d(w)), 1, true)))
const x = float32([2, 4], [1, 2, 3, 4, -1, 0, 1, 2])

const clippedSaliency = (): Pipeline => pipeline('ClippedGradient', stage.grad(), stage.clip({ min: -1, max: 1 }))

describe('a stage added with one file and one registry line', () => {
  it('is in the vocabulary, with a derived builder and spec type', () => {
    expect(ALL_STAGES.map((s) => s.tag)).toContain('clip')
    expect(stage.clip({ min: 0 })).toEqual({ _tag: 'clip', min: 0 })
    expectTypeOf<'clip'>().toExtend<StageTag>()
    expectTypeOf(stage.clip).parameter(0).toEqualTypeOf<{ readonly min?: number; readonly max?: number } | undefined>()
    expectTypeOf<Extract<StageSpec, { _tag: 'clip' }>>().toEqualTypeOf<{ readonly _tag: 'clip' } & { readonly min?: number; readonly max?: number }>()
  })

  it('decodes from JSON, round-trips and is described', () => {
    const json = '{"_tag":"Pipeline","name":"ClippedGradient","stages":[{"_tag":"grad"},{"_tag":"clip","min":-1,"max":1}]}'
    const d = decodePipeline(JSON.parse(json))
    expect(d).toEqual(E.right(clippedSaliency()))
    expect(E.isRight(d) && JSON.stringify(d.right)).toBe(json)
    expect(describeSpec(clippedSaliency())).toBe('ClippedGradient\n  grad(wrt inputs)\n  clip([-1, 1])')
    expect(StageSpecCodec.decode({ _tag: 'clip', max: 0 })).toEqual(E.right({ _tag: 'clip', max: 0 }))
  })

  it('reports bad parameters with their paths', () => {
    const issues = (stages: readonly unknown[]): readonly string[] => {
      const d = decodePipeline({ _tag: 'Pipeline', name: 'p', stages })
      return E.isLeft(d) && d.left._tag === 'InvalidSpec' ? d.left.issues.map((i) => `${i.path.join('.')}: ${i.message}`) : []
    }
    expect(issues([{ _tag: 'grad' }, { _tag: 'clip', min: 'low' }])[0]).toMatch(/^stages\.1\.min/)
    expect(issues([{ _tag: 'grad' }, { _tag: 'clip', min: 2, max: 1 }])).toEqual(['stages.1.max: clip needs min ≤ max, got min 2 and max 1'])
    expect(issues([{ _tag: 'grad' }, { _tag: 'clip' }])).toEqual(['stages.1: clip needs a bound: give min, max or both'])
  })

  it('is checked with the other stages before anything runs', () => {
    expect(E.isRight(checkPipeline(clippedSaliency()))).toBe(true)
    const early = checkPipeline({ _tag: 'Pipeline', name: 'p', stages: [stage.clip({ min: 0 }), stage.grad()] })
    expect(E.isLeft(early) && [early.left._tag, early.left.path]).toEqual(['BadPipeline', ['stages', '0']])
    expect(E.isLeft(early) && early.left.message).toMatch(/clip clamps computed values/)
  })

  it('runs in a pipeline: grad ∘ clip clamps the gradient, and leaks nothing', async () => {
    const before = tf.memory().numTensors
    const plain = await attribute(pipeline('Gradient', stage.grad()), linear, x, { target: 0 })()
    const clipped = await attribute(clippedSaliency(), linear, x, { target: 0 })()
    expect(tf.memory().numTensors).toBe(before)
    if (E.isLeft(plain) || E.isLeft(clipped)) throw new Error('attribute failed')
    // the unclipped gradient leaves [−1, 1], so the clamp below is not vacuous
    expect(Array.from(toFloat64(plain.right.attributions[0]!))).toEqual([...w, ...w])
    expect(Array.from(toFloat64(clipped.right.attributions[0]!))).toEqual([-1, 0.5, 1, -0.25, -1, 0.5, 1, -0.25])
    const positive = await attribute(pipeline('PositiveGradient', stage.grad(), stage.clip({ min: 0 })), linear, x, { target: 0 })()
    expect(E.isRight(positive) && Array.from(toFloat64(positive.right.attributions[0]!))).toEqual([0, 0.5, 3, 0, 0, 0.5, 3, 0])
  })
})
