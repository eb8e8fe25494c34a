/**
 * Interpretable inputs: how a prompt is cut into the features an LLM attribution switches on and
 * off. Each builder returns a value with one shape, {@link InterpretableInput}: a feature count, a
 * label per result column, and `toText` / `toIds` giving the prompt for a feature vector (1 =
 * present, 0 = replaced by its baseline).
 *
 * - {@link textTokenInput}: every token a feature (Captum's `TextTokenInput`);
 * - {@link textTemplateInput}: the values of a `str.format`-style template (Captum's `TextTemplateInput`);
 * - {@link textSegmentInput}: words, sentences, lines or paragraphs of a text, grouped by `groupSize`
 *   (Captum master's `TextSegmentInput`; not in Captum 0.8.0).
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, Integer, PositiveInt } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import type { PromptInputs } from './causalLm.js'
import type { Tokenizer } from './types.js'

/** The common shape of every interpretable input. */
export interface InterpretableInput {
  readonly _tag: 'TextTokenInput' | 'TextTemplateInput' | 'TextSegmentInput' | 'ImageMaskInput'
  /** Number of interpretable features (what the attribution method switches on and off). */
  readonly nFeatures: number
  /**
   * One label per result column (Captum's `values`: token strings or segment strings). Usually one
   * column per feature; a template mask groups several values into one feature, and the result
   * keeps one column per value (Captum's `format_attr`).
   */
  readonly labels: readonly string[]
  /** The feature of each result column (`labels.length` entries). */
  readonly featureOfColumn: readonly number[]
  /** What replaces each column's value when its feature is absent (a token string, a replacement text, a colour). */
  readonly baselines: readonly string[]
  /** The prompt text for a feature vector (`present[i]` = 1 keeps feature i, 0 puts its baseline). */
  toText(present: ArrayLike<number>): string
  /** The prompt's model input ids for a feature vector (with the tokenizer's special tokens). */
  toIds(present: ArrayLike<number>, tokenizer: Tokenizer): number[]
  /** Other model inputs for a feature vector (an image input's pixels), each with batch dim 1; absent for text inputs. */
  toModelInputs?(present: ArrayLike<number>): PromptInputs
}

const invalid = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(invalidSpec([{ path, message }]))

const allOnes = (n: number): number[] => new Array<number>(n).fill(1)

// ---------------------------------------------------------------------------------------------
// TextTokenInput

/** A token given as its id or its string. */
export const TokenRef = t.union([Integer, t.string])
export type TokenRef = t.TypeOf<typeof TokenRef>

/** Options of {@link textTokenInput} (Captum's defaults: baseline id 0, no skipped tokens). */
export const TextTokenInputOptions = t.readonly(t.partial({ baselines: TokenRef, skipTokens: t.readonlyArray(TokenRef) }))
export type TextTokenInputOptions = t.TypeOf<typeof TextTokenInputOptions>

const resolveToken = (tok: Tokenizer, ref: TokenRef, path: readonly string[]): E.Either<AttributionError, number> => {
  if (typeof ref === 'number') {
    return ref >= 0 && ref < tok.vocabSize ? E.right(ref) : invalid(`token id ${ref} is outside the vocabulary (0..${tok.vocabSize - 1})`, path)
  }
  const id = tok.tokenToId(ref)
  return id !== undefined ? E.right(id) : invalid(`token ${JSON.stringify(ref)} is not in the tokenizer's vocabulary`, path)
}

/**
 * Every token of `tokenizer.encode(text)` (special tokens included) is a feature, except those in
 * `skipTokens`, which stay in the prompt unchanged. An absent token is replaced by the `baselines`
 * token (an id or a token string; default id 0).
 *
 * Captum: `TextTokenInput(text, tokenizer, baselines=0, skip_tokens=None)`.
 */
export const textTokenInput = (text: string, tokenizer: Tokenizer, options: TextTokenInputOptions = {}): E.Either<AttributionError, InterpretableInput> => {
  const o = decodeWith(TextTokenInputOptions, options)
  if (E.isLeft(o)) return o
  const baseline = resolveToken(tokenizer, o.right.baselines ?? 0, ['baselines'])
  if (E.isLeft(baseline)) return baseline
  const skip = new Set<number>()
  for (const [i, s] of (o.right.skipTokens ?? []).entries()) {
    const id = resolveToken(tokenizer, s, ['skipTokens', String(i)])
    if (E.isLeft(id)) return id
    skip.add(id.right)
  }
  const ids = tokenizer.encode(text)
  const positions = ids.flatMap((id, p) => (skip.has(id) ? [] : [p]))
  if (positions.length === 0) return E.left(err('EmptyInput', `the text ${JSON.stringify(text)} has no token left to attribute once skipTokens are removed`, ['text']))
  const idsFor = (present: ArrayLike<number>): number[] => {
    const out = [...ids]
    positions.forEach((p, f) => {
      if (present[f] !== 1) out[p] = baseline.right
    })
    return out
  }
  return E.right({
    _tag: 'TextTokenInput',
    nFeatures: positions.length,
    labels: positions.map((p) => tokenizer.idToToken(ids[p]!) ?? ''),
    featureOfColumn: positions.map((_, f) => f),
    baselines: positions.map(() => tokenizer.idToToken(baseline.right) ?? ''),
    toIds: idsFor,
    toText: (present) => tokenizer.decode(idsFor(present)),
  })
}

// ---------------------------------------------------------------------------------------------
// TextTemplateInput

type Field = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'slot'; readonly key: number | string }

/** Parses a Python `str.format` template: `{}` (auto-numbered), `{0}`, `{name}`, `{{` and `}}`. */
const parseTemplate = (template: string): E.Either<AttributionError, Field[]> => {
  const fields: Field[] = []
  let lit = ''
  let auto = 0
  let usedAuto = false
  let usedManual = false
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      lit += c
      i++
      continue
    }
    if (c === '}') return invalid(`single '}' at character ${i} of the template (write '}}' for a literal brace)`, ['template'])
    if (c !== '{') {
      lit += c
      continue
    }
    const close = template.indexOf('}', i)
    if (close < 0) return invalid(`'{' at character ${i} of the template is never closed`, ['template'])
    const name = template.slice(i + 1, close)
    if (!/^(\d+|[A-Za-z_]\w*)?$/u.test(name)) {
      return invalid(`template field {${name}} is not supported: use {}, {0} or {name} (no format specs, conversions or attribute access)`, ['template'])
    }
    if (lit !== '') fields.push({ kind: 'literal', text: lit })
    lit = ''
    if (name === '') {
      usedAuto = true
      fields.push({ kind: 'slot', key: auto++ })
    } else if (/^\d+$/u.test(name)) {
      usedManual = true
      fields.push({ kind: 'slot', key: Number(name) })
    } else {
      fields.push({ kind: 'slot', key: name })
    }
    i = close
  }
  if (usedAuto && usedManual) return invalid('the template mixes {} and {0}-style fields (Python refuses this too)', ['template'])
  if (lit !== '') fields.push({ kind: 'literal', text: lit })
  return E.right(fields)
}

const StringsOrRecord = t.union([t.readonlyArray(t.string), t.record(t.string, t.string)])
const IntsOrRecord = t.union([t.readonlyArray(Integer), t.record(t.string, Integer)])

/**
 * Options of {@link textTemplateInput}: `baselines` (one replacement string per value; default ""
 * for every value, i.e. an absent value disappears) and `mask` (a group id per value: values with
 * the same id form one feature). Both take the values' form: a list for positional values, a record
 * for named ones.
 */
export const TextTemplateInputOptions = t.readonly(t.partial({ baselines: StringsOrRecord, mask: IntsOrRecord }))
export type TextTemplateInputOptions = t.TypeOf<typeof TextTemplateInputOptions>

/**
 * The values of a template are the features: `template` is a Python `str.format` string with `{}` /
 * `{0}` (positional `values`, a list) or `{name}` fields (named `values`, a record). An absent
 * value is replaced by its baseline (default "", so it disappears). With `mask`, values with the
 * same group id are switched together; group ids are renumbered 0..G−1 in ascending order (Captum
 * iterates a Python set, which is ascending for small non-negative ints), and results keep one
 * column per value (grouped values get equal scores).
 *
 * Captum: `TextTemplateInput(template, values, baselines=None, mask=None)`; callable templates and
 * `ProductBaselines` are not supported.
 */
export const textTemplateInput = (
  template: string,
  values: readonly string[] | Readonly<Record<string, string>>,
  options: TextTemplateInputOptions = {},
): E.Either<AttributionError, InterpretableInput> => {
  const o = decodeWith(TextTemplateInputOptions, options)
  if (E.isLeft(o)) return o
  const fields = parseTemplate(template)
  if (E.isLeft(fields)) return fields
  const named = !Array.isArray(values)
  const keys: string[] = named ? Object.keys(values) : (values as readonly string[]).map((_, i) => String(i))
  const vals: string[] = named ? keys.map((k) => (values as Record<string, string>)[k]!) : [...(values as readonly string[])]
  if (vals.length === 0) return E.left(err('EmptyInput', 'a TextTemplateInput needs at least one value', ['values']))
  if (vals.some((v) => typeof v !== 'string')) return invalid('every template value must be a string', ['values'])
  // every field must name a value, and (as in Python) every value should be used by the template
  for (const f of fields.right) {
    if (f.kind !== 'slot') continue
    const ok = named ? typeof f.key === 'string' && keys.includes(f.key) : typeof f.key === 'number' && f.key < vals.length
    if (!ok) {
      return invalid(
        named
          ? `template field {${String(f.key)}} names no value (values: ${keys.join(', ')}); named values need {name} fields`
          : `template field ${typeof f.key === 'number' ? `#${f.key}` : `{${f.key}}`} has no value: ${vals.length} positional value(s) given`,
        ['template'],
      )
    }
  }
  const perValue = <A>(u: readonly A[] | Readonly<Record<string, A>> | undefined, what: string, fallback: A): E.Either<AttributionError, A[]> => {
    if (u === undefined) return E.right(vals.map(() => fallback))
    if (Array.isArray(u) !== !named) return invalid(`${what} must be a ${named ? 'record keyed like the values' : 'list like the values'}`, [what])
    if (!named) {
      const list = u as readonly A[]
      return list.length === vals.length ? E.right([...list]) : invalid(`${what} has ${list.length} entries, the values ${vals.length}`, [what])
    }
    const rec = u as Readonly<Record<string, A>>
    const unknown = Object.keys(rec).filter((k) => !keys.includes(k))
    const missing = keys.filter((k) => !(k in rec))
    if (unknown.length > 0 || missing.length > 0) {
      return invalid(`${what} keys must be the values' keys: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : ''}${unknown.length > 0 && missing.length > 0 ? '; ' : ''}${missing.length > 0 ? `missing ${missing.join(', ')}` : ''}`, [what])
    }
    return E.right(keys.map((k) => rec[k]!))
  }
  const baselines = perValue(o.right.baselines, 'baselines', '')
  if (E.isLeft(baselines)) return baselines
  const maskIds = perValue<number | undefined>(o.right.mask, 'mask', undefined)
  if (E.isLeft(maskIds)) return maskIds
  const groups = [...new Set(maskIds.right)].sort((a, b) => (a ?? 0) - (b ?? 0))
  const featureOfColumn = o.right.mask === undefined ? vals.map((_, i) => i) : maskIds.right.map((m) => groups.indexOf(m))
  const nFeatures = o.right.mask === undefined ? vals.length : groups.length
  const toText = (present: ArrayLike<number>): string =>
    fields.right
      .map((f) => {
        if (f.kind === 'literal') return f.text
        const i = named ? keys.indexOf(f.key as string) : (f.key as number)
        return present[featureOfColumn[i]!] === 1 ? vals[i]! : baselines.right[i]!
      })
      .join('')
  return E.right({
    _tag: 'TextTemplateInput',
    nFeatures,
    labels: vals,
    featureOfColumn,
    baselines: baselines.right,
    toText,
    toIds: (present, tokenizer) => tokenizer.encode(toText(present)),
  })
}

// ---------------------------------------------------------------------------------------------
// TextSegmentInput

/** The unit a {@link textSegmentInput} cuts the text into. */
export const SegmentUnit = t.keyof({ word: null, sentence: null, line: null, paragraph: null })
export type SegmentUnit = t.TypeOf<typeof SegmentUnit>

/** Options of {@link textSegmentInput}: `unit` (default 'sentence'), `groupSize` (default 1), `baseline` (default ""). */
export const TextSegmentInputOptions = t.readonly(t.partial({ unit: SegmentUnit, groupSize: PositiveInt, baseline: t.string }))
export type TextSegmentInputOptions = t.TypeOf<typeof TextSegmentInputOptions>

const UNIT_PATTERN: Readonly<Record<SegmentUnit, RegExp>> = {
  word: /\S+/gu,
  // a sentence runs to its terminal punctuation (with closing quotes/brackets) or to the end
  sentence: /\S[^.!?]*(?:[.!?]+["'”’)\]]*|$)/gu,
  line: /\S[^\n]*/gu,
  paragraph: /\S(?:[^\n]|\n(?![ \t]*\n))*/gu,
}

/**
 * The text cut into `unit`s (words, sentences, lines or paragraphs); each run of `groupSize`
 * consecutive units is one feature. An absent feature's span is replaced by `baseline` (default "",
 * the span disappears); the text between units (spaces, newlines) is kept as it is, so the full
 * feature vector gives back the text exactly.
 *
 * Captum: `TextSegmentInput` (Captum master, after 0.8.0).
 */
export const textSegmentInput = (text: string, options: TextSegmentInputOptions = {}): E.Either<AttributionError, InterpretableInput> => {
  const o = decodeWith(TextSegmentInputOptions, options)
  if (E.isLeft(o)) return o
  const unit = o.right.unit ?? 'sentence'
  const groupSize = o.right.groupSize ?? 1
  const baseline = o.right.baseline ?? ''
  const units = [...text.matchAll(UNIT_PATTERN[unit])].map((m) => {
    const trimmed = m[0].trimEnd()
    return [m.index ?? 0, (m.index ?? 0) + trimmed.length] as const
  })
  if (units.length === 0) return E.left(err('EmptyInput', `the text has no ${unit} to attribute`, ['text']))
  const spans: (readonly [number, number])[] = []
  for (let i = 0; i < units.length; i += groupSize) spans.push([units[i]![0], units[Math.min(i + groupSize, units.length) - 1]![1]])
  const toText = (present: ArrayLike<number>): string => {
    let out = ''
    let at = 0
    spans.forEach(([s, e], f) => {
      out += text.slice(at, s) + (present[f] === 1 ? text.slice(s, e) : baseline)
      at = e
    })
    return out + text.slice(at)
  }
  return E.right({
    _tag: 'TextSegmentInput',
    nFeatures: spans.length,
    labels: spans.map(([s, e]) => text.slice(s, e)),
    featureOfColumn: spans.map((_, f) => f),
    baselines: spans.map(() => baseline),
    toText,
    toIds: (present, tokenizer) => tokenizer.encode(toText(present)),
  })
}

/** The unperturbed feature vector (all ones) of an input. */
export const allPresent = (input: InterpretableInput): number[] => allOnes(input.nFeatures)
