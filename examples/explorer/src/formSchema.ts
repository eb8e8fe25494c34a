/**
 * A method's options form, read off its io-ts options codec: one field per option (`codecProps`:
 * through the readonly, exact, refinement and intersection wrappers), each with a widget kind:
 *
 * - `integer` / `number`: a number box (which of the two is found by asking the codec itself);
 * - `boolean`: true / false / the method's default;
 * - `select`: a `t.keyof` or a union of literals, one choice per value;
 * - `layer`: an option named `layer` that takes a layer name (the page lists the model's layers);
 * - `text`: any other string;
 * - `json`: everything else (nested objects, unions of shapes, arrays), typed as JSON.
 *
 * An empty field means "use the method's default" and is left out of the options. The filled form
 * is checked with the same codec the library uses, and every failure is reported next to its field.
 * Pure functions, no DOM: the page renders the schema, the unit tests check it against METHODS.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { codecProps } from '../../../src/core/codecProps.js'

export type FieldKind = 'integer' | 'number' | 'boolean' | 'select' | 'layer' | 'text' | 'json'

/** A literal a `select` field can take. */
export type Choice = string | number | boolean

export interface FormField {
  readonly name: string
  readonly kind: FieldKind
  /** Must be filled in (the codec's `t.type` part); optional fields fall back to the method's default. */
  readonly required: boolean
  /** The codec's name for the option's type (shown as a hint). */
  readonly typeName: string
  /** The values of a `select` (and `true`/`false` for `boolean`). */
  readonly choices: readonly Choice[]
}

/** The raw form: each field's text as the user left it (`''` = default). */
export type RawForm = Readonly<Record<string, string>>

/** What is wrong with a filled form: messages by field name, and those that name no field. */
export interface FormErrors {
  readonly fields: Readonly<Record<string, string>>
  readonly form: readonly string[]
}

/** The parts of an io-ts codec this module reads (io-ts types carry them at run time). */
interface CodecShape {
  readonly _tag?: string
  readonly name: string
  readonly type?: CodecShape
  readonly types?: readonly CodecShape[]
  readonly keys?: Readonly<Record<string, unknown>>
  readonly value?: unknown
  readonly is?: (u: unknown) => boolean
}

const isChoice = (u: unknown): u is Choice => typeof u === 'string' || typeof u === 'number' || typeof u === 'boolean'

/** The values of a literal-only type (keyof, literal, or a union of those); undefined for anything else. */
const literalsOf = (c: CodecShape): Choice[] | undefined => {
  switch (c._tag) {
    case 'KeyofType':
      return Object.keys(c.keys ?? {})
    case 'LiteralType':
      return isChoice(c.value) ? [c.value] : undefined
    case 'UnionType': {
      const parts = (c.types ?? []).map(literalsOf)
      return parts.every((p) => p !== undefined) ? parts.flat() : undefined
    }
    case 'ReadonlyType':
      return c.type !== undefined ? literalsOf(c.type) : undefined
    default:
      return undefined
  }
}

/** Asks a codec without a structural tag (a hand-written `t.Type`) what it accepts. */
const probe = (c: CodecShape): FieldKind => {
  const is = c.is
  if (is === undefined) return 'json'
  if (is(0.5) || is(1.5) || is(2.5)) return 'number'
  if (is(1) || is(2) || is(10) || is(100)) return 'integer'
  if (is(true) && is(false)) return 'boolean'
  if (is('a')) return 'text'
  return 'json'
}

/** The widget kind for one option's codec. */
const kindOf = (name: string, c: CodecShape): FieldKind => {
  const literals = literalsOf(c)
  if (literals !== undefined) return 'select'
  const kind = ((): FieldKind => {
    switch (c._tag) {
      case 'BooleanType':
        return 'boolean'
      case 'StringType':
        return 'text'
      case 'NumberType':
        return 'number'
      case 'RefinementType':
      case 'ReadonlyType':
        return c.type !== undefined && ['NumberType', 'RefinementType', 'BooleanType', 'StringType', undefined].includes(c.type._tag) ? probe(c) : 'json'
      case undefined:
        return probe(c)
      default:
        return 'json'
    }
  })()
  return name === 'layer' && kind === 'text' ? 'layer' : kind
}

const fieldOf = (name: string, c: CodecShape, required: boolean): FormField => {
  const kind = kindOf(name, c)
  return { name, kind, required, typeName: c.name, choices: kind === 'select' ? (literalsOf(c) ?? []) : kind === 'boolean' ? [true, false] : [] }
}

/**
 * The form for an options codec (a method's `METHODS[name].options`). Throws a TypeError when the
 * codec is not an object codec: every registered method's is, so that is a programming error.
 */
export const formSchema = (codec: t.Decoder<unknown, unknown>): readonly FormField[] => {
  const props = codecProps(codec)
  if (props === undefined) throw new TypeError(`formSchema: ${(codec as unknown as CodecShape).name} is not an object codec`)
  const fields = props.map((p) => fieldOf(p.name, p.codec as CodecShape, p.required))
  // An option in two members of an intersection appears once (the first, required wins).
  const seen = new Map<string, FormField>()
  for (const f of fields) {
    const prev = seen.get(f.name)
    seen.set(f.name, prev === undefined ? f : { ...prev, required: prev.required || f.required })
  }
  return [...seen.values()]
}

const show = (u: unknown): string => {
  if (typeof u === 'number') return String(u)
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/** One field's text as a value (`undefined`: left empty), or the reason it cannot be read. */
const parseField = (f: FormField, raw: string): E.Either<string, unknown> => {
  const s = raw.trim()
  if (s === '') return f.required ? E.left(`${f.name} is required (${f.typeName})`) : E.right(undefined)
  switch (f.kind) {
    case 'integer':
    case 'number': {
      const n = Number(s)
      return Number.isFinite(n) ? E.right(n) : E.left(`not a number: ${s}`)
    }
    case 'boolean':
      return s === 'true' ? E.right(true) : s === 'false' ? E.right(false) : E.left(`choose true or false, got ${s}`)
    case 'select': {
      const hit = f.choices.find((c) => String(c) === s)
      return hit !== undefined ? E.right(hit) : E.left(`choose one of ${f.choices.map(String).join(', ')}; got ${s}`)
    }
    case 'layer':
    case 'text':
      return E.right(s)
    case 'json':
      try {
        return E.right(JSON.parse(s) as unknown)
      } catch (e) {
        return E.left(`not valid JSON (${e instanceof Error ? e.message : String(e)}); write a value such as ${f.typeName.startsWith('Readonly') ? '[4, 4]' : '{"_tag": "…"}'}`)
      }
  }
}

/** The options object of a filled form (empty fields left out), or the fields that could not be read. */
export const readForm = (fields: readonly FormField[], raw: RawForm): E.Either<FormErrors, Record<string, unknown>> => {
  const errors: Record<string, string> = {}
  const value: Record<string, unknown> = {}
  for (const f of fields) {
    const r = parseField(f, raw[f.name] ?? '')
    if (E.isLeft(r)) errors[f.name] = r.left
    else if (r.right !== undefined) value[f.name] = r.right
  }
  return Object.keys(errors).length > 0 ? E.left({ fields: errors, form: [] }) : E.right(value)
}

/** io-ts failures as messages by field (the first key of each error's path that names a field). */
export const fieldErrors = (fields: readonly FormField[], errors: t.Errors): FormErrors => {
  const names = new Set(fields.map((f) => f.name))
  const byField = new Map<string, string[]>()
  const form: string[] = []
  for (const e of errors) {
    const key = e.context.map((c) => c.key).find((k) => names.has(k))
    const leaf = e.context[e.context.length - 1]
    const message = e.message ?? `got ${show(e.value)}, expected ${leaf?.type.name ?? 'a valid value'}`
    if (key === undefined) {
      if (!form.includes(message)) form.push(message)
      continue
    }
    const list = byField.get(key) ?? []
    if (!list.includes(message)) list.push(message)
    byField.set(key, list)
  }
  return { fields: Object.fromEntries([...byField].map(([k, v]) => [k, v.join('; ')])), form }
}

/** Reads the form and checks it with the method's codec; the options as the method will get them. */
export const decodeForm = (codec: t.Decoder<unknown, unknown>, fields: readonly FormField[], raw: RawForm): E.Either<FormErrors, Record<string, unknown>> => {
  const read = readForm(fields, raw)
  if (E.isLeft(read)) return read
  const d = codec.decode(read.right)
  return E.isLeft(d) ? E.left(fieldErrors(fields, d.left)) : E.right(read.right)
}

/** The form text for given options (to show a loaded spec); options the form has no field for are returned apart. */
export const formValues = (fields: readonly FormField[], options: Readonly<Record<string, unknown>>): { readonly raw: RawForm; readonly unknown: readonly string[] } => {
  const raw: Record<string, string> = {}
  for (const f of fields) {
    const v = options[f.name]
    if (v === undefined) raw[f.name] = ''
    else raw[f.name] = f.kind === 'json' ? JSON.stringify(v) : String(v)
  }
  return { raw, unknown: Object.keys(options).filter((k) => !fields.some((f) => f.name === k)) }
}

/** A registry entry as far as method choice goes. */
export interface MethodEntry {
  readonly family: 'primary' | 'layer' | 'neuron'
  readonly options: t.Decoder<unknown, unknown>
}

/**
 * The method names that fit a model: primary methods always, layer and neuron methods when the
 * model exposes layers (they need one to attribute to).
 */
export const applicableMethods = (methods: Readonly<Record<string, MethodEntry>>, layerCount: number): string[] =>
  Object.entries(methods).filter(([, m]) => m.family === 'primary' || layerCount > 0).map(([name]) => name)
