/**
 * {@link transformersTokenizer}: a tokenizer loaded with transformers.js (`AutoTokenizer.from_pretrained`)
 * as a clarus {@link Tokenizer}: `encode` with or without special tokens, `decode` with special
 * tokens kept, the vocabulary from `get_vocab()` (plus the special tokens), special ids from
 * `all_special_ids`. transformers.js gives no character offsets, so `encodeWithOffsets` finds each
 * token's decoded text in the input (see `offsetsOf`).
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'
import type { Offset, Tokenizer } from './types.js'

/** What clarus uses of a tokenizer loaded with `AutoTokenizer.from_pretrained`. */
export interface TransformersTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[]
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string
  get_vocab(): ReadonlyMap<string, number> | Readonly<Record<string, number>>
  readonly all_special_ids?: readonly number[]
  readonly all_special_tokens?: readonly string[]
}

// a transformers.js tokenizer is callable: a function with methods
const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => (typeof u === 'object' || typeof u === 'function') && u !== null
const bad = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(err('BadModel', message, path))
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Finds each token's decoded text in `text`, left to right, across whitespace only. A token whose
 * text is not there (`<unk>` for an unknown word) gets the stretch between its neighbours (the
 * first of several such tokens in a row gets it all, the others an empty span at its end).
 */
const offsetsOf = (text: string, pieces: readonly string[]): Offset[] => {
  const lower = text.toLowerCase()
  const offsets: Offset[] = pieces.map(() => [0, 0] as const)
  let cursor = 0
  let pending: number[] = []
  const settle = (end: number): void => {
    if (pending.length === 0) return
    const gap = text.slice(cursor, end)
    const s = cursor + (gap.length - gap.trimStart().length)
    const e = Math.max(s, end - (gap.length - gap.trimEnd().length))
    pending.forEach((i, k) => (offsets[i] = k === 0 ? [s, e] : [e, e]))
    pending = []
  }
  pieces.forEach((raw, i) => {
    const piece = raw.trim().toLowerCase()
    const at = piece === '' ? -1 : lower.indexOf(piece, cursor)
    if (at < 0 || (pending.length === 0 && text.slice(cursor, at).trim() !== '')) {
      pending.push(i)
      return
    }
    settle(at)
    offsets[i] = [at, at + piece.length]
    cursor = at + piece.length
  })
  settle(text.length)
  return offsets
}

/** A clarus {@link Tokenizer} over a transformers.js tokenizer. */
export const transformersTokenizer = (tok: TransformersTokenizer): E.Either<AttributionError, Tokenizer> => {
  if (!isObject(tok) || typeof tok.encode !== 'function' || typeof tok.decode !== 'function' || typeof tok.get_vocab !== 'function') {
    return bad('fromTransformers takes a tokenizer loaded with transformers.js (AutoTokenizer.from_pretrained): this object has no encode, decode or get_vocab', ['tokenizer'])
  }
  let raw: ReadonlyMap<string, number> | Readonly<Record<string, number>>
  try {
    raw = tok.get_vocab()
  } catch (e) {
    return bad(`the tokenizer's get_vocab() failed: ${messageOf(e)}`, ['tokenizer', 'vocab'])
  }
  const vocab = new Map<string, number>(raw instanceof Map ? raw : isObject(raw) ? Object.entries(raw) : [])
  // special tokens that live outside the model's vocabulary (added tokens) still need names
  const sIds = tok.all_special_ids ?? []
  const sToks = tok.all_special_tokens ?? []
  if (sIds.length === sToks.length) sToks.forEach((t, i) => { if (!vocab.has(t)) vocab.set(t, sIds[i]!) })
  const ids = [...vocab.values()].filter((v) => Number.isInteger(v) && v >= 0)
  if (ids.length === 0) {
    return bad('the tokenizer has no vocabulary (get_vocab() is empty): clarus needs the token strings to label features and to read targets given as text', ['tokenizer', 'vocab'])
  }
  const idToTok = new Map<number, string>()
  for (const [k, v] of vocab) if (!idToTok.has(v)) idToTok.set(v, k)
  const encode = (text: string, addSpecialTokens: boolean): number[] => tok.encode(text, { add_special_tokens: addSpecialTokens }).map(Number)
  const decode = (xs: readonly number[]): string => tok.decode([...xs], { skip_special_tokens: false })
  return E.right({
    encode: (text, options) => encode(text, options?.addSpecialTokens !== false),
    decode,
    idToToken: (id) => idToTok.get(id),
    tokenToId: (token) => vocab.get(token),
    encodeWithOffsets: (text) => {
      const xs = encode(text, false)
      return { ids: xs, offsets: offsetsOf(text, xs.map((id) => decode([id]))) }
    },
    specialIds: new Set(sIds),
    vocabSize: Math.max(...ids) + 1,
  })
}
