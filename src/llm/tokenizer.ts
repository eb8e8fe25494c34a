/**
 * A {@link Tokenizer} read from a Hugging Face `tokenizer.json` (the `tokenizers` library's file
 * format), with the parts small causal LMs use:
 *
 * - models: `WordLevel` (a vocabulary lookup, unknown words → `unk_token`) and `BPE` (merges applied
 *   by rank inside each pre-token; byte-level as GPT-2 uses it when a `ByteLevel` pre-tokenizer is
 *   present: every UTF-8 byte is first mapped to a printable character);
 * - pre-tokenizers: `WhitespaceSplit`, `Whitespace` (`\w+|[^\w\s]+`), `ByteLevel` (GPT-2's split
 *   pattern, optional prefix space), `Sequence` of these;
 * - normalizers: `Lowercase`, `Sequence` of it (others are refused: they would move offsets);
 * - post-processors: `TemplateProcessing` (the `single` template), `ByteLevel` (no-op);
 * - decoders: none (tokens joined by one space, as `tokenizers` does without a decoder), `ByteLevel`;
 * - `added_tokens`: matched in the raw text first (longest first), never split, kept verbatim by
 *   `decode`.
 *
 * Anything else in the file is an `Unsupported` error naming the component, never a silent
 * difference.
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'
import { bpe, byteLevelDecode, GPT2_SPLIT, mergesOf, vocabOf, wordLevel, type TokenModel } from './tokenizerModels.js'
import type { Offset, Tokenizer } from './types.js'

type Json = Readonly<Record<string, unknown>>

const isRecord = (u: unknown): u is Json => typeof u === 'object' && u !== null && !Array.isArray(u)

const bad = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(err('BadModel', message, ['tokenizer', ...path]))
const unsupported = (message: string, path: readonly string[]): E.Either<AttributionError, never> =>
  E.left(err('Unsupported', message, ['tokenizer', ...path]))

/** A piece of the text with its character span. */
interface Piece {
  readonly text: string
  readonly start: number
}

// ---------------------------------------------------------------------------------------------
// pre-tokenizers: Piece → Piece[]

type PreTokenizer = (p: Piece) => Piece[]

const splitByRegex =
  (re: RegExp): PreTokenizer =>
  (p) => {
    const out: Piece[] = []
    for (const m of p.text.matchAll(re)) if (m[0].length > 0) out.push({ text: m[0], start: p.start + (m.index ?? 0) })
    return out
  }

interface PreTokenizerSpec {
  readonly run: PreTokenizer
  readonly byteLevel: boolean
  readonly addPrefixSpace: boolean
}

const preTokenizerOf = (u: unknown, path: readonly string[]): E.Either<AttributionError, PreTokenizerSpec> => {
  if (u === null || u === undefined) return E.right({ run: (p) => [p], byteLevel: false, addPrefixSpace: false })
  if (!isRecord(u)) return bad('pre_tokenizer must be an object or null', path)
  switch (u['type']) {
    case 'WhitespaceSplit':
      return E.right({ run: splitByRegex(/\S+/gu), byteLevel: false, addPrefixSpace: false })
    case 'Whitespace':
      return E.right({ run: splitByRegex(/\w+|[^\w\s]+/gu), byteLevel: false, addPrefixSpace: false })
    case 'ByteLevel': {
      const useRegex = u['use_regex'] !== false
      return E.right({ run: useRegex ? splitByRegex(GPT2_SPLIT) : (p) => [p], byteLevel: true, addPrefixSpace: u['add_prefix_space'] === true })
    }
    case 'Sequence': {
      const parts = u['pretokenizers']
      if (!Array.isArray(parts)) return bad('a Sequence pre_tokenizer needs a "pretokenizers" list', [...path, 'pretokenizers'])
      const specs: PreTokenizerSpec[] = []
      for (let i = 0; i < parts.length; i++) {
        const s = preTokenizerOf(parts[i], [...path, 'pretokenizers', String(i)])
        if (E.isLeft(s)) return s
        specs.push(s.right)
      }
      return E.right({
        run: (p) => specs.reduce<Piece[]>((ps, s) => ps.flatMap(s.run), [p]),
        byteLevel: specs.some((s) => s.byteLevel),
        addPrefixSpace: specs.some((s) => s.addPrefixSpace),
      })
    }
    default:
      return unsupported(`pre_tokenizer type ${JSON.stringify(u['type'])} is not supported (supported: WhitespaceSplit, Whitespace, ByteLevel, Sequence)`, path)
  }
}

const normalizerOf = (u: unknown, path: readonly string[]): E.Either<AttributionError, (s: string) => string> => {
  if (u === null || u === undefined) return E.right((s) => s)
  if (!isRecord(u)) return bad('normalizer must be an object or null', path)
  if (u['type'] === 'Lowercase') return E.right((s) => s.toLowerCase())
  if (u['type'] === 'Sequence' && Array.isArray(u['normalizers'])) {
    const fs: ((s: string) => string)[] = []
    for (const [i, n] of (u['normalizers'] as unknown[]).entries()) {
      const f = normalizerOf(n, [...path, 'normalizers', String(i)])
      if (E.isLeft(f)) return f
      fs.push(f.right)
    }
    return E.right((s) => fs.reduce((a, f) => f(a), s))
  }
  return unsupported(`normalizer type ${JSON.stringify(u['type'])} is not supported (supported: Lowercase, Sequence of it); normalizers that change the text's length would move the offsets`, path)
}

// ---------------------------------------------------------------------------------------------
// the tokenizer

interface AddedToken {
  readonly id: number
  readonly content: string
  readonly special: boolean
}

const addedTokensOf = (u: unknown): E.Either<AttributionError, AddedToken[]> => {
  if (u === undefined || u === null) return E.right([])
  if (!Array.isArray(u)) return bad('added_tokens must be a list', ['added_tokens'])
  const out: AddedToken[] = []
  for (const [i, a] of u.entries()) {
    if (!isRecord(a) || typeof a['id'] !== 'number' || typeof a['content'] !== 'string' || a['content'] === '') {
      return bad(`added token ${i} needs an integer "id" and a non-empty "content"`, ['added_tokens', String(i)])
    }
    out.push({ id: a['id'], content: a['content'], special: a['special'] === true })
  }
  return E.right(out)
}

/** The `single` template of a TemplateProcessing post-processor as ids before / after the sequence. */
const templateOf = (u: unknown, vocab: ReadonlyMap<string, number>): E.Either<AttributionError, { before: number[]; after: number[] }> => {
  const none = { before: [], after: [] }
  if (u === null || u === undefined) return E.right(none)
  if (!isRecord(u)) return bad('post_processor must be an object or null', ['post_processor'])
  if (u['type'] === 'ByteLevel') return E.right(none)
  if (u['type'] !== 'TemplateProcessing') {
    return unsupported(`post_processor type ${JSON.stringify(u['type'])} is not supported (supported: TemplateProcessing, ByteLevel)`, ['post_processor'])
  }
  const single = u['single']
  const specials = isRecord(u['special_tokens']) ? u['special_tokens'] : {}
  if (!Array.isArray(single)) return bad('TemplateProcessing needs a "single" template list', ['post_processor', 'single'])
  const out = { before: [] as number[], after: [] as number[] }
  let seen = false
  for (const [i, item] of single.entries()) {
    if (isRecord(item) && isRecord(item['Sequence'])) {
      seen = true
      continue
    }
    const sp = isRecord(item) && isRecord(item['SpecialToken']) ? item['SpecialToken']['id'] : undefined
    if (typeof sp !== 'string') return bad(`template item ${i} must be a Sequence or a SpecialToken`, ['post_processor', 'single', String(i)])
    const entry = specials[sp]
    const ids = isRecord(entry) && Array.isArray(entry['ids']) ? (entry['ids'] as unknown[]) : vocab.has(sp) ? [vocab.get(sp)] : undefined
    if (ids === undefined || !ids.every((x) => typeof x === 'number')) return bad(`special token ${JSON.stringify(sp)} of the template has no ids`, ['post_processor', 'special_tokens', sp])
    ;(seen ? out.after : out.before).push(...(ids as number[]))
  }
  return E.right(out)
}

const decoderOf = (u: unknown): E.Either<AttributionError, 'join' | 'byteLevel'> => {
  if (u === null || u === undefined) return E.right('join')
  if (isRecord(u) && u['type'] === 'ByteLevel') return E.right('byteLevel')
  return unsupported(`decoder type ${JSON.stringify(isRecord(u) ? u['type'] : u)} is not supported (supported: none, ByteLevel)`, ['decoder'])
}


/**
 * A tokenizer from the parsed contents of a Hugging Face `tokenizer.json` (see the module doc for
 * the supported components). Errors: `BadModel` for a malformed file, `Unsupported` for a
 * component this reader does not implement, each with the path of the offending field.
 */
export const loadTokenizer = (json: unknown): E.Either<AttributionError, Tokenizer> => {
  if (!isRecord(json)) return bad('a tokenizer.json must hold a JSON object', [])
  const model = json['model']
  if (!isRecord(model)) return bad('tokenizer.json has no "model" object', ['model'])
  if (model['type'] !== 'WordLevel' && model['type'] !== 'BPE') {
    return unsupported(`model type ${JSON.stringify(model['type'])} is not supported (supported: WordLevel, BPE)`, ['model', 'type'])
  }
  const vocabE = vocabOf(model['vocab'], ['model', 'vocab'])
  if (E.isLeft(vocabE)) return vocabE
  const vocab = vocabE.right
  const added = addedTokensOf(json['added_tokens'])
  if (E.isLeft(added)) return added
  for (const a of added.right) if (!vocab.has(a.content)) vocab.set(a.content, a.id)
  const pre = preTokenizerOf(json['pre_tokenizer'], ['pre_tokenizer'])
  if (E.isLeft(pre)) return pre
  const norm = normalizerOf(json['normalizer'], ['normalizer'])
  if (E.isLeft(norm)) return norm
  const post = templateOf(json['post_processor'], vocab)
  if (E.isLeft(post)) return post
  const dec = decoderOf(json['decoder'])
  if (E.isLeft(dec)) return dec
  // WordLevel maps every unknown word to its unk token (tokenizers' default "<unk>") and cannot work
  // without one; BPE without one skips characters it cannot encode, as tokenizers does
  const unkToken = typeof model['unk_token'] === 'string' ? model['unk_token'] : model['type'] === 'WordLevel' ? '<unk>' : undefined
  const unk = unkToken !== undefined ? vocab.get(unkToken) : undefined
  if (unkToken !== undefined && unk === undefined) return bad(`unk_token ${JSON.stringify(unkToken)} is not in the vocabulary (a WordLevel model needs one for unknown words)`, ['model', 'unk_token'])

  let tokenModel: TokenModel
  if (model['type'] === 'WordLevel') {
    tokenModel = wordLevel(vocab, unk)
  } else {
    for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (typeof model[k] === 'string' && model[k] !== '') return unsupported(`BPE with ${k} is not supported`, ['model', k])
    }
    if (model['byte_fallback'] === true) return unsupported('BPE with byte_fallback (SentencePiece-style <0xNN> tokens) is not supported', ['model', 'byte_fallback'])
    if (model['dropout'] !== null && model['dropout'] !== undefined && model['dropout'] !== 0) {
      return unsupported('BPE dropout makes encoding random; attribution needs a fixed tokenization: set dropout to null', ['model', 'dropout'])
    }
    const ranks = mergesOf(model['merges'], ['model', 'merges'])
    if (E.isLeft(ranks)) return ranks
    tokenModel = bpe(vocab, ranks.right, unk, pre.right.byteLevel, model['ignore_merges'] === true)
  }

  const idToTok = new Map<number, string>()
  for (const [k, v] of vocab) if (!idToTok.has(v)) idToTok.set(v, k)
  const addedById = new Map(added.right.map((a) => [a.id, a]))
  const addedLongestFirst = [...added.right].sort((a, b) => b.content.length - a.content.length)
  const specialIds = new Set<number>([...added.right.filter((a) => a.special).map((a) => a.id), ...post.right.before, ...post.right.after])
  const normalize = norm.right
  const preTok = pre.right

  const encodeWithOffsets = (text: string): { ids: number[]; offsets: Offset[] } => {
    const ids: number[] = []
    const offsets: Offset[] = []
    // added tokens split the raw text first; the pieces between them go through the pipeline
    let i = 0
    let segStart = 0
    const flush = (end: number): void => {
      if (end <= segStart) return
      const raw = text.slice(segStart, end)
      let piece: Piece = { text: normalize(raw), start: segStart }
      if (preTok.addPrefixSpace && segStart === 0 && !/^\s/u.test(piece.text)) piece = { text: ' ' + piece.text, start: segStart - 1 }
      for (const p of preTok.run(piece)) {
        for (const t of tokenModel(p.text)) {
          ids.push(t.id)
          // the added prefix space has no character in the text: clamp its span to the text
          offsets.push([Math.max(0, p.start + t.start), Math.max(0, p.start + t.end)])
        }
      }
    }
    while (i < text.length) {
      const hit = addedLongestFirst.find((a) => text.startsWith(a.content, i))
      if (hit === undefined) {
        i++
        continue
      }
      flush(i)
      ids.push(hit.id)
      offsets.push([i, i + hit.content.length])
      i += hit.content.length
      segStart = i
    }
    flush(text.length)
    return { ids, offsets }
  }

  const decodeRun = (toks: readonly string[]): string => (dec.right === 'byteLevel' ? byteLevelDecode(toks.join('')) : toks.join(' '))

  return E.right({
    encode: (text, options) => {
      const ids = encodeWithOffsets(text).ids
      return options?.addSpecialTokens === false ? ids : [...post.right.before, ...ids, ...post.right.after]
    },
    decode: (ids) => {
      if (dec.right === 'join') return ids.map((id) => idToTok.get(id) ?? '').join(' ')
      // added tokens are written verbatim; runs of ordinary tokens go through the decoder
      const parts: string[] = []
      let run: string[] = []
      for (const id of ids) {
        const a = addedById.get(id)
        if (a === undefined) {
          run.push(idToTok.get(id) ?? '')
          continue
        }
        if (run.length > 0) parts.push(decodeRun(run))
        run = []
        parts.push(a.content)
      }
      if (run.length > 0) parts.push(decodeRun(run))
      return parts.join('')
    },
    idToToken: (id) => idToTok.get(id),
    tokenToId: (token) => vocab.get(token),
    encodeWithOffsets,
    specialIds,
    vocabSize: Math.max(-1, ...vocab.values()) + 1,
  })
}

/**
 * {@link loadTokenizer} on a `tokenizer.json` file: a path or URL under Node, a URL in browsers (a
 * `BadModel` error when it cannot be read or parsed).
 */
export const loadTokenizerFile = async (path: string | URL): Promise<E.Either<AttributionError, Tokenizer>> => {
  let text: string
  try {
    const { readSource } = await import('../core/platform/files.js')
    text = new TextDecoder().decode(await readSource(path))
  } catch (e) {
    return bad(`cannot read the tokenizer file ${String(path)}: ${e instanceof Error ? e.message : String(e)}`, ['file'])
  }
  let json: unknown
  try {
    json = JSON.parse(text) as unknown
  } catch (e) {
    return bad(`the tokenizer file ${String(path)} is not JSON: ${e instanceof Error ? e.message : String(e)}`, ['file'])
  }
  return loadTokenizer(json)
}
