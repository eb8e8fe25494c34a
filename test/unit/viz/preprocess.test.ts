import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { toFloat64 } from '../../../src/index.js'
import { decodePreprocessing, preprocessImage, resizeRgba, type Rgba } from '../../../src/viz/index.js'

/** 2 × 1: pixel 0 = (255, 0, 51), pixel 1 = (0, 102, 255). */
const img: Rgba = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 255, 0, 102, 255, 255]) }

describe('image preprocessing spec', () => {
  it('defaults: RGB, /255, NCHW, own size', () => {
    const { tensor } = preprocessImage(img)
    expect(tensor.shape).toEqual([1, 3, 1, 2])
    expect(Array.from(toFloat64(tensor))).toEqual([1, 0, 0, 0.4, 0.2, 1].map(Math.fround))
  })

  it('mean/std per channel, BGR order, NHWC layout', () => {
    const { tensor } = preprocessImage(img, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channelOrder: 'BGR', layout: 'NHWC' })
    expect(tensor.shape).toEqual([1, 1, 2, 3])
    // BGR of pixel 0: (0.2, 0, 1) → (x − 0.5)/0.5 = (−0.6, −1, 1); pixel 1: (1, 0.4, 0) → (1, −0.2, −1)
    Array.from(toFloat64(tensor)).forEach((v, i) => expect(v).toBeCloseTo([-0.6, -1, 1, 1, -0.2, -1][i]!, 6))
  })

  it('grey: one channel, the mean of R, G and B', () => {
    const { tensor } = preprocessImage(img, { channelOrder: 'grey', scale: 1 })
    expect(tensor.shape).toEqual([1, 1, 1, 2])
    expect(Array.from(toFloat64(tensor))).toEqual([102, 119])
  })

  it('resizes bilinearly to size = [height, width]', () => {
    const { tensor, image } = preprocessImage(img, { size: [1, 4], scale: 1 })
    expect(tensor.shape).toEqual([1, 3, 1, 4])
    // source x = (x + ½)·2/4 − ½ = −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1)
    expect(Array.from(toFloat64(tensor).slice(0, 4))).toEqual([255, 191.25, 63.75, 0].map((v) => Math.round(v)))
    expect(image.width).toBe(4)
    expect(resizeRgba(img, 2, 1)).toBe(img)
  })

  it('decoding names every bad field', () => {
    const bad = decodePreprocessing({ std: [0, 1, 1], layout: 'CHW', size: [0, 3] })
    if (E.isRight(bad) || bad.left._tag !== 'InvalidSpec') throw new Error(`expected InvalidSpec, got ${JSON.stringify(bad)}`)
    expect(bad.left.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['std.0', 'layout', 'size.0']))
    const wrongCount = decodePreprocessing({ mean: [1, 2] })
    expect(E.isLeft(wrongCount) && wrongCount.left.message).toMatch(/mean has 2 entries; give 1 or 3/)
    expect(E.isRight(decodePreprocessing({ mean: [0.5], channelOrder: 'grey' }))).toBe(true)
  })
})
