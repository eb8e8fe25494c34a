/**
 * A tiny SVG/HTML builder that escapes by construction: {@link el} takes attribute values and
 * child strings as text (escaped), and only {@link Markup} values (made by `el` itself or by
 * {@link trusted} for fixed strings written here) pass through unescaped. Every chart in `viz`
 * is built with it, so a feature name or token such as `<img src=x onerror=alert(1)>` is shown as
 * text, never parsed.
 *
 * @category viz
 * @since 0.2.0
 */
import { escapeHtml } from './html.js'

/** Markup that is already safe (escaped or written by clarus). */
export interface Markup {
  readonly _tag: 'Markup'
  readonly html: string
}

/** Marks a string written by clarus itself (never user text) as markup. */
export const trusted = (html: string): Markup => ({ _tag: 'Markup', html })

export type Child = Markup | string | number | false | null | undefined | readonly Child[]

const render = (c: Child): string => {
  if (c === false || c === null || c === undefined) return ''
  if (Array.isArray(c)) return (c as readonly Child[]).map(render).join('')
  if (typeof c === 'object') return (c as Markup).html
  return escapeHtml(String(c))
}

/** Attribute values: strings and numbers are escaped; `undefined` / `false` leave the attribute out. */
export type Attrs = Readonly<Record<string, string | number | boolean | undefined>>

/** An element: `el('text', { x: 1 }, 'a < b')` → `<text x="1">a &lt; b</text>`. */
export const el = (tag: string, attrs: Attrs = {}, ...children: Child[]): Markup => {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${escapeHtml(typeof v === 'number' ? fmtNum(v) : String(v))}"`))
    .join('')
  const body = render(children)
  return trusted(body === '' && VOID_OK.has(tag) ? `<${tag}${a}/>` : `<${tag}${a}>${body}</${tag}>`)
}

/** SVG elements written self-closed when empty. */
const VOID_OK = new Set(['rect', 'circle', 'line', 'path', 'polyline', 'image', 'stop', 'ellipse', 'use'])

/** Children joined into one markup value. */
export const frag = (...children: Child[]): Markup => trusted(render(children))

/** A number short enough for coordinates (4 significant decimals at most). */
export const fmtNum = (v: number): string => (Number.isInteger(v) ? String(v) : String(Math.round(v * 1e4) / 1e4))

/** A standalone SVG document of the given size. */
export const svgDoc = (width: number, height: number, ...children: Child[]): string =>
  el('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${fmtNum(width)} ${fmtNum(height)}`, 'font-family': 'system-ui, sans-serif', 'font-size': 12 }, ...children).html

/** A short, readable rendering of a number for labels (3 significant digits, exponent when tiny or huge). */
export const fmtValue = (v: number): string => {
  if (!Number.isFinite(v)) return String(v)
  if (v === 0) return '0'
  const a = Math.abs(v)
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)))
}
