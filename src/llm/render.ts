/**
 * Pictures of an {@link LLMAttributionResult}: the token × generated-token heat map
 * ({@link llmTokenAttrSvg}, Captum's `plot_token_attr`) and the sequence bar view
 * ({@link llmSeqAttrSvg}, Captum's `plot_seq_attr`), as standalone SVG, and both in one HTML page
 * ({@link llmAttributionHtml}). Every token string is escaped.
 *
 * Colours: the heat map runs from `#93003a` (negative) through white to `#00429d` (positive),
 * symmetric around 0 at ±max|attr|, each cell labelled with its value to 4 decimals; bars are
 * `#4772b3` (positive) and `#d0365b` (negative), as in Captum.
 *
 * @category llm
 * @since 0.5.0
 */
import { escapeHtml, htmlReport } from '../viz/html.js'
import type { LLMAttributionResult } from './types.js'

const NEG: readonly [number, number, number] = [0x93, 0x00, 0x3a]
const POS: readonly [number, number, number] = [0x00, 0x42, 0x9d]

/** The diverging colour of `v` on the scale ±`max` (white at 0). */
export const divergingColour = (v: number, max: number): string => {
  const x = max > 0 && Number.isFinite(v) ? Math.max(-1, Math.min(1, v / max)) : 0
  const end = x < 0 ? NEG : POS
  const a = Math.abs(x)
  const c = end.map((e) => Math.round(255 + (e - 255) * a))
  return `rgb(${c[0]},${c[1]},${c[2]})`
}

const textColour = (v: number, max: number): string => (max > 0 && Math.abs(v) / max > 0.55 ? '#fff' : '#111')

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : String(v))

const maxAbs = (xs: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) m = Math.max(m, Math.abs(xs[i]!))
  return m
}

/** Width in px of a label at ~7 px per character (enough for layout; SVG has no text metrics). */
const labelWidth = (labels: readonly string[]): number => Math.min(240, 12 + 7 * Math.max(1, ...labels.map((l) => l.length)))

/**
 * The heat map of `tokenAttr`: one row per target token, one column per input feature. A result
 * without token attributions (Lime, KernelShap) gets a one-row map of `seqAttr`.
 */
export const llmTokenAttrSvg = (r: LLMAttributionResult): string => {
  const cols = r.inputTokens.length
  const rows = r.tokenAttr === null ? 1 : r.tokenAttr.shape[0]!
  const values = r.tokenAttr === null ? r.seqAttr.data : r.tokenAttr.data
  const rowLabels = r.tokenAttr === null ? ['(sequence)'] : r.outputTokens
  const cw = 64
  const ch = 26
  const left = labelWidth(rowLabels)
  const top = labelWidth(r.inputTokens)
  // the slanted column labels reach right of their column by up to ~0.75 of their length
  const w = left + cols * cw + Math.ceil(0.75 * top)
  const h = top + rows * ch + 8
  const max = maxAbs(values)
  const cells: string[] = []
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j]!
      const x = left + j * cw
      const y = top + i * ch
      cells.push(
        `<rect x="${x}" y="${y}" width="${cw}" height="${ch}" fill="${divergingColour(v, max)}" stroke="#fff"><title>${escapeHtml(`${rowLabels[i] ?? ''} ← ${r.inputTokens[j] ?? ''}: ${fmt(v)}`)}</title></rect>` +
          `<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle" font-size="10" fill="${textColour(v, max)}">${fmt(v)}</text>`,
      )
    }
  }
  const colLabels = r.inputTokens.map((t, j) => {
    const x = left + j * cw + cw / 2
    return `<text transform="translate(${x},${top - 6}) rotate(-45)" font-size="12">${escapeHtml(t)}</text>`
  })
  const rowText = rowLabels.map((t, i) => `<text x="${left - 6}" y="${top + i * ch + ch / 2 + 4}" text-anchor="end" font-size="12">${escapeHtml(t)}</text>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui,sans-serif">${colLabels.join('')}${rowText.join('')}${cells.join('')}</svg>`
}

/** The bar view of `seqAttr`: one vertical bar per input feature, labelled with its token. */
export const llmSeqAttrSvg = (r: LLMAttributionResult): string => {
  const n = r.inputTokens.length
  const values = r.seqAttr.data
  const bw = 40
  const plotH = 200
  const bottom = labelWidth(r.inputTokens)
  const left = 56
  const w = left + n * bw + Math.ceil(0.75 * bottom)
  const h = plotH + bottom + 16
  const max = maxAbs(values) || 1
  const zeroY = 8 + plotH / 2
  const bars = Array.from(values, (v, j) => {
    const len = (Math.abs(v) / max) * (plotH / 2)
    const y = v >= 0 ? zeroY - len : zeroY
    return `<rect x="${left + j * bw + 4}" y="${y}" width="${bw - 8}" height="${len}" fill="${v >= 0 ? '#4772b3' : '#d0365b'}"><title>${escapeHtml(`${r.inputTokens[j] ?? ''}: ${fmt(v)}`)}</title></rect>`
  })
  const labels = r.inputTokens.map((t, j) => `<text transform="translate(${left + j * bw + bw / 2},${plotH + 22}) rotate(45)" font-size="12">${escapeHtml(t)}</text>`)
  const axis =
    `<line x1="${left}" x2="${w - 8}" y1="${zeroY}" y2="${zeroY}" stroke="#444"/>` +
    `<text x="${left - 6}" y="14" text-anchor="end" font-size="10">${fmt(max)}</text>` +
    `<text x="${left - 6}" y="${zeroY + 4}" text-anchor="end" font-size="10">0</text>` +
    `<text x="${left - 6}" y="${8 + plotH}" text-anchor="end" font-size="10">${fmt(-max)}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui,sans-serif">${axis}${bars.join('')}${labels.join('')}</svg>`
}

/** Both views and the result's facts as one self-contained HTML page. */
export const llmAttributionHtml = (title: string, r: LLMAttributionResult, facts: readonly (readonly [string, string])[] = []): string =>
  htmlReport(title, [
    {
      heading: 'Attribution',
      facts: [
        ['target', r.outputTokens.join(' ')],
        ...(r.outputProbs !== null ? ([['target token probabilities', r.outputProbs.map((p) => p.toPrecision(3)).join(', ')]] as const) : []),
        ...facts,
      ],
      svgs: [
        { caption: 'sequence attribution (seqAttr)', svg: llmSeqAttrSvg(r) },
        { caption: r.tokenAttr === null ? 'sequence attribution (this method gives no per-token rows)' : 'per generated token (tokenAttr)', svg: llmTokenAttrSvg(r) },
      ],
    },
  ])
