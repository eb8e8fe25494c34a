/**
 * A self-contained HTML report: title, facts table, images (inline PNG) and token heat-maps.
 * Every piece of user text is escaped (Captum's text view was not: captum#1226), and anything
 * that reaches it as a non-string (a number, null, an object from untyped JavaScript) is first
 * turned into text with `String()`, so it is shown rather than crashing the report.
 *
 * @category viz
 * @since 0.1.0
 */
import { toBase64 } from '../core/base64.js'
import { colourOf, scaleFor, type ColourScale } from './heatmap.js'

/** Escapes text for HTML element content and attribute values (a non-string is passed through `String()` first). */
export const escapeHtml = (s: string): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export interface ReportSection {
  readonly heading: string
  readonly facts?: readonly (readonly [string, string])[]
  readonly images?: readonly { readonly caption: string; readonly png: Uint8Array }[]
  readonly tokens?: { readonly words: readonly string[]; readonly scores: readonly number[]; readonly scale?: ColourScale }
  readonly pre?: string
  /**
   * SVG documents made by clarus's chart functions (`barChartSvg`, `tokenHeatmapSvg`, …), inlined
   * as they are: they escape their own text. Do not pass SVG from elsewhere.
   */
  readonly svgs?: readonly { readonly caption: string; readonly svg: string }[]
  /** HTML fragments made by clarus's functions (e.g. `tokenHeatmapHtml`), inlined as they are (same caveat). */
  readonly html?: readonly string[]
}

const tokenHtml = (t: NonNullable<ReportSection['tokens']>): string => {
  const scale = t.scale ?? scaleFor(t.scores, 'signed', 1)
  return `<p class="tokens">${t.words
    .map((w, i) => {
      const score = Number(t.scores[i] ?? 0)
      const [r, g, b] = colourOf(Number.isFinite(score) ? score : 0, scale)
      return `<span title="${escapeHtml(String(t.scores[i]))}" style="background: rgb(${r},${g},${b})">${escapeHtml(w)}</span>`
    })
    .join(' ')}</p>`
}

/** The report as one HTML string (no external resources). */
export const htmlReport = (title: string, sections: readonly ReportSection[]): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse}td{padding:.2rem .8rem;border-bottom:1px solid #ddd}
figure{display:inline-block;margin:.5rem}img{image-rendering:pixelated}.tokens span{padding:.1rem .2rem;border-radius:.2rem}
pre{background:#f6f6f6;padding:.8rem}</style></head><body>
<h1>${escapeHtml(title)}</h1>
${sections
  .map(
    (s) => `<section><h2>${escapeHtml(s.heading)}</h2>
${s.facts ? `<table>${s.facts.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` : ''}
${(s.images ?? []).map((im) => `<figure><img alt="${escapeHtml(im.caption)}" src="data:image/png;base64,${toBase64(im.png)}"><figcaption>${escapeHtml(im.caption)}</figcaption></figure>`).join('')}
${(s.svgs ?? []).map((g) => `<figure>${g.svg}<figcaption>${escapeHtml(g.caption)}</figcaption></figure>`).join('')}
${(s.html ?? []).join('\n')}
${s.tokens ? tokenHtml(s.tokens) : ''}
${s.pre !== undefined ? `<pre>${escapeHtml(s.pre)}</pre>` : ''}
</section>`,
  )
  .join('\n')}
</body></html>
`
