/**
 * What the CLI runs: a method by name with options (`--method`, `--options`), or a spec file that
 * is either a pipeline (`{ "_tag": "Pipeline", … }`, any composition) or `{ "method", "options",
 * "preprocess" }`. Every problem is reported with the field it is in. Also lists the options a
 * registered method takes (for `clarus methods`), read off its io-ts codec.
 *
 * @category cli
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { METHODS, type MethodInfo } from '../algorithms/registry.js'
import { codecProps } from '../core/codecProps.js'
import { ClarusError, type AttributionError } from '../core/errors.js'
import { decodePipeline, type Pipeline } from '../dsl/spec.js'
import { decodePreprocessing } from '../viz/preprocess.js'
import { CliError } from './args.js'

export interface ResolvedSpec {
  readonly pipeline: Pipeline
  /** The METHODS key, when the spec names a registered method. */
  readonly method?: string
  readonly options: Readonly<Record<string, unknown>>
  readonly preprocess?: unknown
}

/** An error's message with every field it names (`InvalidSpec` lists them all). */
export const errorText = (e: AttributionError, prefix: readonly string[] = []): string => {
  if (e._tag === 'InvalidSpec') return e.issues.map((i) => `  ${[...prefix, ...i.path].join('.') || '<root>'}: ${i.message}`).join('\n')
  const at = [...prefix, ...e.path].join('.')
  return `  ${at ? `${at}: ` : ''}${e.message}`
}

const SPEC_KEYS = ['method', 'options', 'preprocess']

/** A close name from a list (for "did you mean"). */
const closest = (name: string, names: readonly string[]): string | undefined => {
  const d = (a: string, b: string): number => {
    const m = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      let prev = m[0]!
      m[0] = i
      for (let j = 1; j <= b.length; j++) {
        const cur = m[j]!
        m[j] = Math.min(m[j]! + 1, m[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
        prev = cur
      }
    }
    return m[b.length]!
  }
  const best = [...names].sort((a, b) => d(name, a) - d(name, b))[0]
  return best !== undefined && d(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/** The registered method `name`, or a CliError listing the known ones. */
export const methodInfo = (name: string): MethodInfo => {
  if (Object.hasOwn(METHODS, name)) return METHODS[name]!
  const near = closest(name, Object.keys(METHODS))
  throw new CliError(`unknown method ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ''}; \`clarus methods\` lists them`)
}

/** Builds a registered method's pipeline, asking for the convergence delta when the method has one. */
export const buildMethod = (name: string, options: Readonly<Record<string, unknown>>, at: readonly string[] = ['options']): ResolvedSpec => {
  const info = methodInfo(name)
  // The registry ignores entries it does not know; on the command line an unknown one is a typo.
  const known = optionFields(info.options).map((f) => f.name)
  const unknown = name === 'noiseTunnel' || known.length === 0 ? [] : Object.keys(options).filter((k) => !known.includes(k))
  const lines = unknown.map((k) => `  ${[...at, k].join('.')}: not an option of ${name} (its options: ${known.join(', ')})`)
  const given = Object.fromEntries(Object.entries(options).filter(([k]) => !unknown.includes(k)))
  const opts = info.hasDelta && given.returnConvergenceDelta === undefined ? { ...given, returnConvergenceDelta: true } : given
  let pipeline: Pipeline | undefined
  try {
    pipeline = info.build(opts)
  } catch (e) {
    if (!(e instanceof ClarusError)) throw e
    lines.push(errorText(e.error, at))
  }
  if (lines.length > 0 || pipeline === undefined) throw new CliError(`bad options for ${name}:\n${lines.join('\n')}`)
  return { pipeline, method: name, options }
}

/** Resolves a spec file's content (see the module note); `file` names it in messages. */
export const resolveSpecFile = (u: unknown, file: string): ResolvedSpec => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new CliError(`spec ${file} must be a JSON object: a pipeline, or { "method", "options", "preprocess" }`)
  const o = u as Record<string, unknown>
  if (o._tag === 'Pipeline') {
    const d = decodePipeline(u)
    if (E.isLeft(d)) throw new CliError(`spec ${file} is not a valid pipeline:\n${errorText(d.left)}`)
    return { pipeline: d.right, options: {} }
  }
  const unknown = Object.keys(o).filter((k) => !SPEC_KEYS.includes(k))
  const problems: string[] = unknown.map((k) => `  ${k}: not a spec field (fields: ${SPEC_KEYS.join(', ')}; or give a whole pipeline with "_tag": "Pipeline")`)
  if (typeof o.method !== 'string') problems.push(`  method: give a method name (\`clarus methods\` lists them), got ${JSON.stringify(o.method)}`)
  if (o.options !== undefined && (typeof o.options !== 'object' || o.options === null || Array.isArray(o.options))) problems.push('  options: must be an object of the method\'s options')
  if (o.preprocess !== undefined) {
    const p = decodePreprocessing(o.preprocess)
    if (E.isLeft(p)) problems.push(errorText(p.left, ['preprocess']))
  }
  let built: ResolvedSpec | undefined
  if (typeof o.method === 'string' && (o.options === undefined || (typeof o.options === 'object' && o.options !== null && !Array.isArray(o.options)))) {
    try {
      built = buildMethod(o.method, (o.options ?? {}) as Record<string, unknown>)
    } catch (e) {
      if (!(e instanceof CliError)) throw e
      problems.push(e.message.startsWith('bad options') ? e.message.slice(e.message.indexOf('\n') + 1) : `  method: ${e.message}`)
    }
  }
  if (problems.length > 0 || built === undefined) throw new CliError(`spec ${file} is not valid:\n${problems.join('\n')}`)
  return { ...built, preprocess: o.preprocess }
}

/** One option of a method: its name, its codec's name, and whether it must be given. */
export interface OptionField {
  readonly name: string
  readonly type: string
  readonly required: boolean
}

/** The fields of an io-ts object codec (through readonly, exact, refinement and intersection wrappers). */
export const optionFields = (codec: unknown): OptionField[] =>
  (codecProps(codec) ?? []).map((p) => ({ name: p.name, type: (p.codec as { readonly name: string }).name, required: p.required }))

/** One row of `clarus methods --json` (and of the service's `GET /methods`). */
export interface MethodRow {
  readonly name: string
  readonly captumName: string
  readonly family: MethodInfo['family']
  readonly stochastic: boolean
  readonly convergenceDelta: boolean
  readonly claims: MethodInfo['claims']
  readonly options: readonly OptionField[]
}

/** Every registered method with its Captum name, family and options. */
export const methodRows = (): MethodRow[] => Object.entries(METHODS).map(([name, m]) => ({
  name, captumName: m.captumName, family: m.family, stochastic: m.stochastic, convergenceDelta: m.hasDelta, claims: m.claims, options: optionFields(m.options),
}))
