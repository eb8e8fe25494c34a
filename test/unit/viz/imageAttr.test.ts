import { describe, expect, it } from 'vitest'
import { float32 } from '../../../src/index.js'
import * as E from 'fp-ts/lib/Either.js'
import { attributionGrid, COLORMAPS, colourFor, decodePng, encodePng, imageAttr, ImageAttrOptions, imageFromTensor, type Rgba } from '../../../src/viz/index.js'

/** A 2 × 1 image: pixel 0 = (200, 100, 50), pixel 1 = (10, 20, 30). */
const img: Rgba = { width: 2, height: 1, data: new Uint8ClampedArray([200, 100, 50, 255, 10, 20, 30, 255]) }
const px = (im: Rgba, p: number): number[] => Array.from(im.data.subarray(p * 4, p * 4 + 4))

describe("Captum's picture methods", () => {
  // map [2, −4]: absolute_value → |v| = 2 4, sums 2 6, goal 5.88 → threshold 4 → 0.5, 1
  const map = { width: 2, height: 1, values: [2, -4] }

  it('heat_map colours the normalised map', () => {
    const { image, threshold } = imageAttr(map, undefined, { sign: 'all' })
    expect(threshold).toBe(4)
    expect(px(image, 0)).toEqual([...colourFor(COLORMAPS.blueRed, 0.5), 255])
    expect(px(image, 1)).toEqual([...colourFor(COLORMAPS.blueRed, -1), 255])
    expect(px(imageAttr(map, undefined, { colormap: 'captum' }).image, 1)).toEqual([...colourFor(COLORMAPS.blues, 1), 255])
  })

  it('masked_image multiplies the image by the normalised map (truncated)', () => {
    const { image } = imageAttr(map, img, { method: 'masked_image' })
    expect(px(image, 0)).toEqual([100, 50, 25, 255])
    expect(px(image, 1)).toEqual([10, 20, 30, 255])
  })

  it('alpha_scaling keeps the image and puts the normalised map into alpha', () => {
    const { image } = imageAttr(map, img, { method: 'alpha_scaling' })
    expect(px(image, 0)).toEqual([200, 100, 50, 127]) // trunc(0.5 · 255)
    expect(px(image, 1)).toEqual([10, 20, 30, 255])
  })

  it('blended_heat_map mixes the grey image (channel mean) with the heat map', () => {
    const { image } = imageAttr(map, img, { method: 'blended_heat_map', alphaOverlay: 0.25 })
    const grey = (200 + 100 + 50) / 3
    const [r, g, b] = colourFor(COLORMAPS.viridis, 0.5)
    // stored as bytes the way a Uint8ClampedArray rounds (half to even: 122.5 → 122)
    expect(px(image, 0)).toEqual(Array.from(Uint8ClampedArray.from([0.75 * grey + 0.25 * r, 0.75 * grey + 0.25 * g, 0.75 * grey + 0.25 * b, 255])))
    expect(px(imageAttr(map, img, { method: 'original_image' }).image, 0)).toEqual([200, 100, 50, 255])
  })

  it('refuses what Captum refuses: masks with sign all, methods without their image, size mismatches', () => {
    expect(() => imageAttr(map, img, { method: 'masked_image', sign: 'all' })).toThrow(/sign positive, negative or absolute_value/)
    expect(() => imageAttr(map, img, { method: 'alpha_scaling', sign: 'all' })).toThrow(RangeError)
    expect(() => imageAttr(map, undefined, { method: 'blended_heat_map' })).toThrow(/needs the original image/)
    expect(() => imageAttr({ width: 1, height: 2, values: [1, 2] }, img, { method: 'masked_image' })).toThrow(/resize/)
  })

  it('the options codec bounds the percentages and names the methods', () => {
    expect(E.isRight(ImageAttrOptions.decode({ method: 'masked_image', sign: 'negative', outlierPerc: 5, alphaOverlay: 0.3, scale: { min: 0, max: 1 } }))).toBe(true)
    for (const bad of [{ outlierPerc: 150 }, { alphaOverlay: 2 }, { method: 'heatmap' }, { scale: 'global' }]) expect(E.isLeft(ImageAttrOptions.decode(bad)), JSON.stringify(bad)).toBe(true)
  })

  it('shows an input tensor as Captum does (max ≤ 1 → × 255)', () => {
    const x = float32([1, 3, 1, 2], [1, 0.5, 0, 0.2, 0, 1])
    expect(px(imageFromTensor(x), 0)).toEqual([255, 0, 0, 255])
    expect(px(imageFromTensor(x), 1)).toEqual([127, 51, 255, 255])
    const big = float32([1, 1, 2, 1], [300, 40])
    expect(px(imageFromTensor(big, 0, 'NHWC'), 0)).toEqual([255, 255, 255, 255]) // clipped
    expect(px(imageFromTensor(big, 0, 'NHWC'), 1)).toEqual([40, 40, 40, 255])
    expect(() => imageFromTensor(float32([1, 2, 1, 1], [0, 0]))).toThrow(/1 or 3 channels/)
  })
})

describe('grids', () => {
  const a = { width: 2, height: 2, values: [1, 2, 3, 4] }
  const b = { width: 2, height: 2, values: [10, 20, 30, 40] }

  it('per-image scales normalise each cell by its own threshold', () => {
    const g = attributionGrid({ rows: [{ title: 'm', maps: [a, b] }] })
    expect(g.thresholds).toEqual([[4, 40]])
    // both cells look the same: the maps differ only by a factor
    expect(Array.from(g.image.data.subarray(0, 8))).toEqual(Array.from(g.image.data.subarray((2 + 4) * 4, (2 + 4) * 4 + 8)))
  })

  it('a shared scale uses one threshold over every map of the grid', () => {
    // all values sorted 1 2 3 4 10 20 30 40, sums … 70 110, goal 107.8 → threshold 40
    const g = attributionGrid({ rows: [{ title: 'm', maps: [a, b] }, { title: 'n', maps: [b, a] }] }, { scale: 'shared' })
    expect(g.thresholds).toEqual([[40, 40], [40, 40]])
    expect(Array.from(g.image.data.subarray(0, 3))).toEqual(colourFor(COLORMAPS.viridis, 1 / 40))
  })

  it('a fixed range applies to every cell', () => {
    const g = attributionGrid({ rows: [{ title: 'm', maps: [a] }] }, { scale: { min: 0, max: 8 } })
    expect(g.thresholds).toEqual([[8]])
    expect(Array.from(g.image.data.subarray(12, 15))).toEqual(colourFor(COLORMAPS.viridis, 0.5))
  })

  it('lays cells out with gaps and upscaling, and the PNG round-trips', () => {
    const g = attributionGrid({ rows: [{ title: 'm', maps: [a, b] }], cellScale: 3, gap: 2 })
    expect([g.image.width, g.image.height]).toEqual([2 * 6 + 2, 6])
    const back = decodePng(encodePng(g.image))
    expect(Array.from(back.data)).toEqual(Array.from(g.image.data))
    expect(() => attributionGrid({ rows: [{ title: 'm', maps: [a] }, { title: 'n', maps: [a, b] }] })).toThrow(/row 1/)
  })
})
