/**
 * The explorer's spec file: what a run was (the method and its options, the pipeline value that
 * ran, the target) and how the input was prepared, as JSON a user can download, keep next to a
 * model, and load back. Loading checks every part with the library's own codecs
 * (`decodePipeline`, the method's options codec, `decodePreprocessing`) and reports every bad
 * field at once.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodePipeline, METHODS, type AttributionError, type Pipeline } from 'clarus'
import { decodePreprocessing, type ImagePreprocessing } from 'clarus/viz'

/** The spec format's version tag. */
export const SPEC_FORMAT = 'clarus-explorer/1'

/** How the input was prepared. */
export type InputPreparation =
  | { readonly kind: 'image'; readonly image: ImagePreprocessing }
  | { readonly kind: 'csv'; readonly mean: readonly number[]; readonly std: readonly number[] }
  | { readonly kind: 'text' }

export interface ExplorerSpec {
  readonly format: typeof SPEC_FORMAT
  /** A METHODS key. */
  readonly method: string
  readonly options: Readonly<Record<string, unknown>>
  /** The pipeline value that ran (for a registered method: what `METHODS[method].build(options)` made). */
  readonly pipeline: Pipeline
  readonly target: number
  readonly preprocessing: InputPreparation
}

const Numbers = t.readonlyArray(t.number)
const Shape = t.type({
  format: t.literal(SPEC_FORMAT),
  method: t.string,
  options: t.UnknownRecord,
  pipeline: t.unknown,
  target: t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'ClassIndex'),
  preprocessing: t.union([
    t.type({ kind: t.literal('image'), image: t.unknown }),
    t.type({ kind: t.literal('csv'), mean: Numbers, std: Numbers }),
    t.type({ kind: t.literal('text') }),
  ]),
})

const issuesOf = (e: AttributionError, prefix: string): string[] =>
  e._tag === 'InvalidSpec' ? e.issues.map((i) => `${[prefix, ...i.path].filter((s) => s !== '').join('.')}: ${i.message}`) : [`${prefix}: ${e.message}`]

/** Reads a spec file's parsed JSON; the Left lists every problem, each starting with the field it is in. */
export const decodeSpec = (u: unknown): E.Either<readonly string[], ExplorerSpec> => {
  const shape = Shape.decode(u)
  if (E.isLeft(shape)) {
    const lines = shape.left.map((e) => {
      const at = e.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).join('.')
      return `${at || '<root>'}: ${e.message ?? `expected ${e.context[e.context.length - 1]?.type.name ?? 'a value'}, got ${JSON.stringify(e.value) ?? 'nothing'}`}`
    })
    return E.left([...new Set(lines)])
  }
  const s = shape.right
  const problems: string[] = []
  const info = Object.hasOwn(METHODS, s.method) ? METHODS[s.method] : undefined
  if (info === undefined) problems.push(`method: ${JSON.stringify(s.method)} is not a clarus method (one of ${Object.keys(METHODS).join(', ')})`)
  else {
    const o = info.options.decode(s.options)
    if (E.isLeft(o)) {
      for (const e of o.left) {
        const at = e.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).join('.')
        problems.push(`options.${at}: ${e.message ?? `expected ${e.context[e.context.length - 1]?.type.name ?? 'a value'}, got ${JSON.stringify(e.value) ?? 'nothing'}`}`)
      }
    }
  }
  const p = decodePipeline(s.pipeline)
  if (E.isLeft(p)) problems.push(...issuesOf(p.left, 'pipeline'))
  let preprocessing: InputPreparation | undefined
  if (s.preprocessing.kind === 'image') {
    const d = decodePreprocessing(s.preprocessing.image)
    if (E.isLeft(d)) problems.push(...issuesOf(d.left, 'preprocessing.image'))
    else preprocessing = { kind: 'image', image: d.right }
  } else preprocessing = s.preprocessing
  if (problems.length > 0 || E.isLeft(p) || preprocessing === undefined) return E.left([...new Set(problems)])
  return E.right({ format: SPEC_FORMAT, method: s.method, options: s.options, pipeline: p.right, target: s.target, preprocessing })
}
