/**
 * Colour maps as data: a list of colour stops, linearly interpolated in sRGB. Diverging maps read
 * a normalised value in [−1, 1] (0 is the neutral middle), sequential maps one in [0, 1].
 *
 * The defaults are colour-blind safe: `blueRed` (ColorBrewer's RdBu, reversed so that positive is
 * red as in the rest of clarus) for signed values and `viridis` for magnitudes. Captum's own
 * defaults are here too (`captumRdWhGn`, `greens`, `reds`, `blues`) for pictures that should look
 * like Captum's; its red–green map is not safe for red–green colour blindness.
 *
 * @category viz
 * @since 0.2.0
 */
import * as t from 'io-ts'

/** One colour stop: position in [0, 1] and an sRGB colour. */
export interface ColourStop {
  readonly at: number
  readonly rgb: readonly [number, number, number]
}

/** A colour map: `diverging` maps read values in [−1, 1], `sequential` ones values in [0, 1]. */
export interface Colormap {
  readonly name: string
  readonly kind: 'diverging' | 'sequential'
  readonly stops: readonly ColourStop[]
}

const hex = (h: string): [number, number, number] => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]

/** Evenly spaced stops from a list of hex colours. */
const even = (name: string, kind: Colormap['kind'], colours: readonly string[]): Colormap => ({
  name,
  kind,
  stops: colours.map((c, i) => ({ at: i / (colours.length - 1), rgb: hex(c) })),
})

/** The named colour maps. */
export const COLORMAPS = {
  /** Diverging, colour-blind safe (ColorBrewer RdBu, negative blue, positive red). The default for signed values. */
  blueRed: even('blueRed', 'diverging', ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f']),
  /** Diverging, colour-blind safe (ColorBrewer PuOr, negative purple, positive orange). */
  purpleOrange: even('purpleOrange', 'diverging', ['#2d004b', '#542788', '#8073ac', '#b2abd2', '#d8daeb', '#f7f7f7', '#fee0b6', '#fdb863', '#e08214', '#b35806', '#7f3b08']),
  /** Sequential, perceptually uniform and colour-blind safe (matplotlib's viridis). The default for magnitudes. */
  viridis: even('viridis', 'sequential', ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725']),
  /** Sequential, white to dark red (for a single sign on a light background). */
  whiteRed: even('whiteRed', 'sequential', ['#ffffff', '#fee0d2', '#fc9272', '#de2d26', '#67000d']),
  /** Captum's default for sign `all`: red → white → green. Not colour-blind safe. */
  captumRdWhGn: even('captumRdWhGn', 'diverging', ['#ff0000', '#ffffff', '#008000']),
  /** Captum's default for sign `positive` (matplotlib Greens). */
  greens: even('greens', 'sequential', ['#f7fcf5', '#e5f5e0', '#c7e9c0', '#a1d99b', '#74c476', '#41ab5d', '#238b45', '#006d2c', '#00441b']),
  /** Captum's default for sign `negative` (matplotlib Reds). */
  reds: even('reds', 'sequential', ['#fff5f0', '#fee0d2', '#fcbba1', '#fc9272', '#fb6a4a', '#ef3b2c', '#cb181d', '#a50f15', '#67000d']),
  /** Captum's default for sign `absolute_value` (matplotlib Blues). */
  blues: even('blues', 'sequential', ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b']),
  /** Sequential grey ramp, black to white. */
  grey: even('grey', 'sequential', ['#000000', '#ffffff']),
} as const satisfies Record<string, Colormap>

export type ColormapName = keyof typeof COLORMAPS

/** io-ts codec for a colour map name. */
export const ColormapNameCodec = t.keyof(Object.fromEntries(Object.keys(COLORMAPS).map((k) => [k, null])) as Record<ColormapName, null>, 'ColormapName')

/** The colour at position `at` ∈ [0, 1] of the map (clipped; NaN reads as the neutral middle). */
export const colourAt = (map: Colormap, at: number): [number, number, number] => {
  const x = Number.isNaN(at) ? 0.5 : Math.max(0, Math.min(1, at))
  const stops = map.stops
  let i = 1
  while (i < stops.length - 1 && stops[i]!.at < x) i++
  const lo = stops[i - 1]!
  const hi = stops[i]!
  const f = hi.at === lo.at ? 0 : (x - lo.at) / (hi.at - lo.at)
  return [0, 1, 2].map((k) => Math.round(lo.rgb[k]! + f * (hi.rgb[k]! - lo.rgb[k]!))) as [number, number, number]
}

/**
 * The colour of a normalised value: diverging maps read v ∈ [−1, 1] (position (v + 1)/2),
 * sequential maps v ∈ [0, 1]; values outside are clipped.
 */
export const colourFor = (map: Colormap, v: number): [number, number, number] => colourAt(map, map.kind === 'diverging' ? (v + 1) / 2 : v)

/** The default map for a sign: diverging `blueRed` for `all`, sequential `viridis` otherwise. */
export const defaultColormap = (sign: 'all' | 'positive' | 'negative' | 'absolute_value'): Colormap => (sign === 'all' ? COLORMAPS.blueRed : COLORMAPS.viridis)

/** Captum's default map for a sign (`visualize_image_attr` with `cmap=None`). */
export const captumColormap = (sign: 'all' | 'positive' | 'negative' | 'absolute_value'): Colormap =>
  ({ all: COLORMAPS.captumRdWhGn, positive: COLORMAPS.greens, negative: COLORMAPS.reds, absolute_value: COLORMAPS.blues })[sign]

/** CSS `rgb(…)` text of a colour. */
export const cssRgb = ([r, g, b]: readonly [number, number, number]): string => `rgb(${r},${g},${b})`
