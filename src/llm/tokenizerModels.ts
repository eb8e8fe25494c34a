/**
 * The token models behind `loadTokenizer`: WordLevel and BPE (with GPT-2's byte-level
 * alphabet), each mapping one pre-token to token ids with their character spans. Internal; split
 * from `tokenizer.ts`, which reads the file and wires the pipeline.
 *
 * @category llm
 * @since 0.5.0
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)
const bad = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(err('BadModel', message, ['tokenizer', ...path]))

// ---------------------------------------------------------------------------------------------
// GPT-2's byte ↔ printable character table

/** @internal */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep: number[] = []
  for (let b = 33; b <= 126; b++) keep.push(b)
  for (let b = 161; b <= 172; b++) keep.push(b)
  for (let b = 174; b <= 255; b++) keep.push(b)
  const table = new Array<string>(256)
  let extra = 0
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep.includes(b) ? b : 256 + extra++)
  return table
})()
const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]))

// GPT-2's pre-tokenization pattern (contractions, letters, numbers, other, whitespace)
/** @internal */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

// ---------------------------------------------------------------------------------------------
// models: one pre-token → token strings with their spans inside the pre-token (in its characters)

/** @internal */
export interface ModelToken {
  readonly id: number
  readonly start: number
  readonly end: number
}
/** @internal */
export type TokenModel = (piece: string) => ModelToken[]

/** @internal */
export const vocabOf = (u: unknown, path: readonly string[]): E.Either<AttributionError, Map<string, number>> => {
  if (!isRecord(u)) return bad('model.vocab must be an object {token: id}', path)
  const m = new Map<string, number>()
  for (const [k, v] of Object.entries(u)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return bad(`vocabulary id of ${JSON.stringify(k)} must be a non-negative integer`, [...path, k])
    m.set(k, v)
  }
  return E.right(m)
}

/** @internal */
export const wordLevel = (vocab: ReadonlyMap<string, number>, unk: number | undefined): TokenModel => (piece) => {
  const id = vocab.get(piece) ?? unk
  return id === undefined ? [] : [{ id, start: 0, end: piece.length }]
}

/** BPE over the piece's symbols (one per character; for byte-level, one per mapped byte). */
/** @internal */
export const bpe =
  (vocab: ReadonlyMap<string, number>, ranks: ReadonlyMap<string, number>, unk: number | undefined, byteLevel: boolean, ignoreMerges: boolean): TokenModel =>
  (piece) => {
    // ignore_merges (Llama 3): a pre-token that is itself in the vocabulary is one token
    if (ignoreMerges) {
      const whole = byteLevel ? Array.from(new TextEncoder().encode(piece), (b) => BYTE_TO_CHAR[b]!).join('') : piece
      const id = vocab.get(whole)
      if (id !== undefined) return [{ id, start: 0, end: piece.length }]
    }
    // symbols with their spans in the piece's characters; a byte-level symbol belongs to the char it came from
    let syms: { s: string; start: number; end: number }[] = []
    let pos = 0
    for (const ch of piece) {
      const end = pos + ch.length
      if (byteLevel) for (const b of new TextEncoder().encode(ch)) syms.push({ s: BYTE_TO_CHAR[b]!, start: pos, end })
      else syms.push({ s: ch, start: pos, end })
      pos = end
    }
    for (;;) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = ranks.get(`${syms[i]!.s} ${syms[i + 1]!.s}`)
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const a = syms[best]!
      const b = syms[best + 1]!
      const merged = { s: a.s + b.s, start: a.start, end: b.end }
      syms = [...syms.slice(0, best), merged, ...syms.slice(best + 2)]
    }
    const out: ModelToken[] = []
    for (const s of syms) {
      const id = vocab.get(s.s) ?? unk
      if (id !== undefined) out.push({ id, start: s.start, end: s.end })
    }
    return out
  }

/** @internal */
export const mergesOf = (u: unknown, path: readonly string[]): E.Either<AttributionError, Map<string, number>> => {
  if (!Array.isArray(u)) return bad('model.merges must be a list', path)
  const ranks = new Map<string, number>()
  for (const [i, m] of u.entries()) {
    // tokenizers writes merges as "a b" (older files) or ["a", "b"] (newer files)
    const key = typeof m === 'string' ? m : Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string' ? `${m[0]} ${m[1]}` : undefined
    if (key === undefined || key.split(' ').length !== 2) return bad(`merge ${i} must be "a b" or ["a", "b"], got ${JSON.stringify(m)}`, [...path, String(i)])
    if (!ranks.has(key)) ranks.set(key, i)
  }
  return E.right(ranks)
}


/** @internal */
export const byteLevelDecode = (s: string): string => {
  const bytes: number[] = []
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch)
    if (b !== undefined) bytes.push(b)
    else bytes.push(...new TextEncoder().encode(ch))
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes))
}
