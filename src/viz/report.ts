/**
 * One standalone HTML report of an explanation: the model's prediction, the method (its name and
 * `describe()` text), the call options, the convergence delta, and the pictures (PNG as data URIs,
 * SVG inline). No network access and no scripts: the file opens anywhere, offline. All text is
 * escaped (`htmlReport`).
 *
 * @category viz
 * @since 0.2.0
 */
import { fmtValue } from './svg.js'
import { htmlReport, type ReportSection } from './html.js'

export interface Prediction {
  /** The model's scores for one example (logits or probabilities). */
  readonly scores: readonly number[]
  /** Class names, same length as `scores` (default: the indices). */
  readonly labels?: readonly string[]
  /** The explained output index. */
  readonly target?: number
  /** How many top classes to list (default 5). */
  readonly top?: number
}

export interface ExplanationReportInput {
  readonly title: string
  /** Where the model came from (a file name, a description). */
  readonly model?: string
  readonly method: { readonly name: string; readonly describe?: string }
  /** The call options, shown as JSON (tensors are summarised by dtype and shape, functions by name). */
  readonly options?: Readonly<Record<string, unknown>>
  /** Completeness delta per example, when the method returns one. */
  readonly delta?: readonly number[]
  readonly prediction?: Prediction
  readonly images?: ReportSection['images']
  readonly svgs?: ReportSection['svgs']
  readonly html?: ReportSection['html']
  /** Further facts (name, value) shown with the method. */
  readonly facts?: readonly (readonly [string, string])[]
}

/** JSON of the call options, readable: typed arrays and tensors summarised, bigints as strings. */
export const optionsJson = (options: Readonly<Record<string, unknown>>): string =>
  JSON.stringify(
    options,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString()
      if (typeof v === 'function') return `[function ${(v as { name?: string }).name || 'anonymous'}]`
      if (ArrayBuffer.isView(v)) return `[${v.constructor.name} of ${(v as unknown as ArrayLike<unknown>).length}]`
      if (typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v && 'data' in v) {
        const t = v as { shape: readonly number[]; dtype: string }
        return `[tensor ${t.dtype} ${JSON.stringify(t.shape)}]`
      }
      if (typeof v === 'object' && v !== null && 'aborted' in v && 'addEventListener' in v) return '[AbortSignal]'
      return v
    },
    2,
  ) ?? 'undefined'

/** The prediction's top classes as (label, score) rows, the target marked. */
const predictionFacts = (p: Prediction): (readonly [string, string])[] => {
  const idx = p.scores.map((_, i) => i).sort((a, b) => p.scores[b]! - p.scores[a]! || a - b).slice(0, p.top ?? 5)
  const name = (i: number): string => p.labels?.[i] ?? `class ${i}`
  const rows: (readonly [string, string])[] = idx.map((i) => [`${name(i)}${i === p.target ? '  (explained)' : ''}`, fmtValue(p.scores[i]!)] as const)
  if (p.target !== undefined && !idx.includes(p.target)) rows.push([`${name(p.target)}  (explained)`, fmtValue(p.scores[p.target] ?? NaN)])
  return rows
}

/** The report as one HTML string. */
export const explanationReport = (r: ExplanationReportInput): string => {
  const sections: ReportSection[] = []
  if (r.prediction !== undefined) sections.push({ heading: 'Prediction (top classes)', facts: predictionFacts(r.prediction) })
  sections.push({
    heading: `Method: ${r.method.name}`,
    facts: [
      ...(r.model !== undefined ? [['model', r.model] as const] : []),
      ...(r.delta !== undefined ? [['convergence delta', r.delta.map(fmtValue).join(', ')] as const] : []),
      ...(r.facts ?? []),
    ],
    ...(r.method.describe !== undefined ? { pre: r.method.describe } : {}),
  })
  if ((r.images?.length ?? 0) + (r.svgs?.length ?? 0) + (r.html?.length ?? 0) > 0) {
    sections.push({ heading: 'Attributions', ...(r.images ? { images: r.images } : {}), ...(r.svgs ? { svgs: r.svgs } : {}), ...(r.html ? { html: r.html } : {}) })
  }
  if (r.options !== undefined) sections.push({ heading: 'Call options', pre: optionsJson(r.options) })
  return htmlReport(r.title, sections)
}
