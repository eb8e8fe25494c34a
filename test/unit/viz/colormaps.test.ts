import { describe, expect, it } from 'vitest'
import { captumColormap, COLORMAPS, colourAt, colourBar, colourFor, defaultColormap, type Colormap } from '../../../src/viz/index.js'

const luminance = ([r, g, b]: readonly number[]): number => 0.2126 * r! + 0.7152 * g! + 0.0722 * b!

describe('colour maps', () => {
  it('hits the stops exactly and interpolates linearly between them', () => {
    expect(colourAt(COLORMAPS.viridis, 0)).toEqual([0x44, 0x01, 0x54])
    expect(colourAt(COLORMAPS.viridis, 0.5)).toEqual([0x21, 0x91, 0x8c])
    expect(colourAt(COLORMAPS.viridis, 1)).toEqual([0xfd, 0xe7, 0x25])
    // halfway between #440154 and #472d7b: (68+71)/2 = 69.5 → 70, (1+45)/2 = 23, (84+123)/2 = 103.5 → 104
    expect(colourAt(COLORMAPS.viridis, 0.0625)).toEqual([70, 23, 104])
    expect(colourAt(COLORMAPS.viridis, -3)).toEqual([0x44, 0x01, 0x54])
    expect(colourAt(COLORMAPS.viridis, 7)).toEqual([0xfd, 0xe7, 0x25])
  })

  it('reads diverging maps on [−1, 1] with 0 at the neutral middle, sequential maps on [0, 1]', () => {
    expect(colourFor(COLORMAPS.blueRed, 0)).toEqual([0xf7, 0xf7, 0xf7])
    expect(colourFor(COLORMAPS.blueRed, 1)).toEqual([0x67, 0x00, 0x1f])
    expect(colourFor(COLORMAPS.blueRed, -1)).toEqual([0x05, 0x30, 0x61])
    expect(colourFor(COLORMAPS.blueRed, 5)).toEqual([0x67, 0x00, 0x1f])
    expect(colourFor(COLORMAPS.blueRed, Number.NaN)).toEqual([0xf7, 0xf7, 0xf7])
    expect(colourFor(COLORMAPS.captumRdWhGn, -1)).toEqual([255, 0, 0])
    expect(colourFor(COLORMAPS.captumRdWhGn, 0)).toEqual([255, 255, 255])
    expect(colourFor(COLORMAPS.captumRdWhGn, 1)).toEqual([0, 128, 0])
    expect(colourFor(COLORMAPS.greens, 0)).toEqual([0xf7, 0xfc, 0xf5])
  })

  it('sequential maps are monotone in lightness, diverging maps darken away from the middle', () => {
    const lum = (m: Colormap, n = 64): number[] => Array.from({ length: n + 1 }, (_, i) => luminance(colourAt(m, i / n)))
    const strictly = (xs: number[], up: boolean): boolean => xs.slice(1).every((x, i) => (up ? x > xs[i]! : x < xs[i]!))
    expect(strictly(lum(COLORMAPS.viridis), true)).toBe(true)
    for (const m of [COLORMAPS.greens, COLORMAPS.reds, COLORMAPS.blues, COLORMAPS.whiteRed]) expect(strictly(lum(m), false)).toBe(true)
    for (const m of [COLORMAPS.blueRed, COLORMAPS.purpleOrange]) {
      const l = lum(m)
      expect(strictly(l.slice(0, 33), true)).toBe(true) // −1 … 0: lighter towards the middle
      expect(strictly(l.slice(32), false)).toBe(true) // 0 … 1: darker towards +1
    }
    // negative control: the red–white–green map's ends are far apart in lightness (red 54, green 92),
    // which is why it is not the default
    const rg = lum(COLORMAPS.captumRdWhGn)
    expect(Math.abs(rg[0]! - rg[64]!)).toBeGreaterThan(30)
  })

  it('defaults are colour-blind safe; Captum\'s are one call away', () => {
    expect(defaultColormap('all').name).toBe('blueRed')
    expect(defaultColormap('absolute_value').name).toBe('viridis')
    expect(captumColormap('all').name).toBe('captumRdWhGn')
    expect(captumColormap('positive').name).toBe('greens')
    expect(captumColormap('negative').name).toBe('reds')
    expect(captumColormap('absolute_value').name).toBe('blues')
  })

  it('draws colour bars from low (left, bottom) to high', () => {
    const bar = colourBar(COLORMAPS.blueRed, 3, 2)
    expect(Array.from(bar.data.subarray(0, 4))).toEqual([0x05, 0x30, 0x61, 255])
    expect(Array.from(bar.data.subarray(4, 8))).toEqual([0xf7, 0xf7, 0xf7, 255])
    expect(Array.from(bar.data.subarray(8, 12))).toEqual([0x67, 0x00, 0x1f, 255])
    const v = colourBar(COLORMAPS.viridis, 1, 2, 'vertical')
    expect(Array.from(v.data.subarray(0, 3))).toEqual([0xfd, 0xe7, 0x25]) // top = high
    expect(Array.from(v.data.subarray(4, 7))).toEqual([0x44, 0x01, 0x54])
    expect(() => colourBar(COLORMAPS.viridis, 0, 2)).toThrow(RangeError)
  })
})
