// The tokenizer.json reader: tinylm's WordLevel file (the fixture README's semantics) and a small
// hand-made byte-level BPE file whose merges give known tokens.
import * as fs from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadTokenizer, loadTokenizerFile } from '../../../src/llm/tokenizer.js'
import { prettyTokens } from '../../../src/llm/prettyTokens.js'
import type { Tokenizer } from '../../../src/llm/types.js'

const TINYLM = '../shared/reference/models/tinylm.tokenizer.json'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

describe('WordLevel (tinylm)', async () => {
  const tok = right(await loadTokenizerFile(TINYLM))
  const words = [...Array(tok.vocabSize).keys()].map((i) => tok.idToToken(i)!).filter((w) => !w.startsWith('<'))

  it('encodes words, prepends <bos> with special tokens, maps unknown words to <unk>', () => {
    expect(tok.encode('the old king')).toEqual([1, 4, 57, 12])
    expect(tok.encode('the old king', { addSpecialTokens: false })).toEqual([4, 57, 12])
    expect(tok.encode('the zebra', { addSpecialTokens: false })).toEqual([4, 0])
    expect(tok.vocabSize).toBe(102)
    expect([...tok.specialIds].sort()).toEqual([0, 1, 2, 3])
  })

  it('matches special-token strings first, even without spaces around them', () => {
    expect(tok.encode('<bos>the<eos> dog', { addSpecialTokens: false })).toEqual([1, 4, 2, 7])
    expect(tok.encodeWithOffsets('<bos> and  the').offsets).toEqual([[0, 5], [6, 9], [11, 14]])
  })

  it('decodes by joining token strings with one space, special tokens kept', () => {
    expect(tok.decode([1, 38, 4, 0])).toBe('<bos> and the <unk>')
    expect(prettyTokens(tok, [1, 38, 4])).toEqual(['<bos>', 'and', 'the'])
  })

  it('round trip: decode(encode(text)) is the text with single spaces (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 20 }), fc.array(fc.constantFrom(' ', '  ', '\t', '\n')), (ws, seps) => {
        const text = ws.map((w, i) => (i === 0 ? w : (seps[i % Math.max(seps.length, 1)] ?? ' ') + w)).join('')
        const ids = tok.encode(text, { addSpecialTokens: false })
        expect(tok.decode(ids)).toBe(ws.join(' '))
        // every offset span is the word it encodes
        const { offsets } = tok.encodeWithOffsets(text)
        expect(offsets.map(([s, e]) => text.slice(s, e))).toEqual(ws)
      }),
      { seed: 15, numRuns: 100 },
    )
  })

  it('refuses what it does not implement, naming the component', () => {
    const json = JSON.parse(fs.readFileSync(TINYLM, 'utf8')) as Record<string, unknown>
    const unigram = loadTokenizer({ ...json, model: { type: 'Unigram', vocab: [] } })
    expect(E.isLeft(unigram) && unigram.left._tag === 'Unsupported' && unigram.left.path.join('.')).toBe('tokenizer.model.type')
    const norm = loadTokenizer({ ...json, normalizer: { type: 'NFKC' } })
    expect(E.isLeft(norm) && norm.left.message).toMatch(/normalizer type "NFKC"/)
    expect(E.isLeft(loadTokenizer('not a tokenizer'))).toBe(true)
    const model = json['model'] as Record<string, unknown>
    const noUnk = loadTokenizer({ ...json, added_tokens: [], model: { ...model, unk_token: undefined, vocab: { the: 0, cat: 1 } } })
    expect(E.isLeft(noUnk) && noUnk.left.path.join('.')).toBe('tokenizer.model.unk_token')
  })

  it('reports an unreadable file as BadModel', async () => {
    const r = await loadTokenizerFile('/nonexistent/tokenizer.json')
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
  })
})

// A byte-level BPE in GPT-2's format: Ġ is the byte 0x20, Ã© the two bytes of "é".
const bpeJson = {
  version: '1.0',
  added_tokens: [{ id: 0, content: '<|endoftext|>', special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE',
    unk_token: null,
    continuing_subword_prefix: '',
    end_of_word_suffix: '',
    vocab: Object.fromEntries(
      ['<|endoftext|>', 'h', 'e', 'l', 'o', 'Ġ', 'w', 'r', 'd', 'he', 'll', 'hell', 'hello', 'Ġw', 'or', 'Ġwor', 'ld', 'Ġworld', 'Ã', '©', 'Ã©', '!'].map((t, i) => [t, i]),
    ),
    // ranks: earlier merges win
    merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', ['Ġw', 'or'], 'l d', 'Ġwor ld', 'Ã ©'],
  },
}

describe('byte-level BPE (hand-made merges)', () => {
  const tok: Tokenizer = right(loadTokenizer(bpeJson))
  const id = (t: string): number => tok.tokenToId(t)!

  it('applies merges by rank inside each pre-token', () => {
    expect(tok.encode('hello world')).toEqual([id('hello'), id('Ġworld')])
    expect(tok.encodeWithOffsets('hello world').offsets).toEqual([[0, 5], [5, 11]])
    // no merge joins "o" and "!"; "l l" (rank 1) wins over "l d" (rank 7)
    expect(tok.encode('hello!')).toEqual([id('hello'), id('!')])
    expect(tok.encode('hlld')).toEqual([id('h'), id('ll'), id('d')])
  })

  it('maps multi-byte characters through the byte table and back', () => {
    const ids = tok.encode('héllo')
    expect(ids).toEqual([id('h'), id('Ã©'), id('ll'), id('o')])
    expect(tok.encodeWithOffsets('héllo').offsets).toEqual([[0, 1], [1, 2], [2, 4], [4, 5]])
    expect(tok.decode(ids)).toBe('héllo')
  })

  it('keeps added tokens whole and verbatim; pretty tokens show spaces, not Ġ', () => {
    const ids = tok.encode('hello<|endoftext|> world')
    expect(ids).toEqual([id('hello'), 0, id('Ġworld')])
    expect(tok.decode(ids)).toBe('hello<|endoftext|> world')
    expect(prettyTokens(tok, [id('hello'), id('Ġworld')])).toEqual(['hello', ' world'])
  })

  it('round trip over the alphabet it knows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('hello', 'world', 'héllo', 'old', 'he', '!', ' ', 'wo'), { minLength: 1, maxLength: 12 }), (parts) => {
        const text = parts.join('')
        expect(tok.decode(tok.encode(text))).toBe(text)
      }),
      { seed: 15, numRuns: 100 },
    )
  })

  it('ignore_merges takes a pre-token found whole in the vocabulary as one token; dropout and byte_fallback are refused', () => {
    // "hlld" is not reachable by merges from h, ll, d; with ignore_merges its vocabulary entry wins
    const vocab = { ...bpeJson.model.vocab, hlld: 22 }
    const plain = right(loadTokenizer({ ...bpeJson, model: { ...bpeJson.model, vocab } }))
    const whole = right(loadTokenizer({ ...bpeJson, model: { ...bpeJson.model, vocab, ignore_merges: true } }))
    expect(plain.encode('hlld')).toEqual([id('h'), id('ll'), id('d')])
    expect(whole.encode('hlld')).toEqual([22])
    expect(whole.encode('hello world')).toEqual(tok.encode('hello world'))
    const drop = loadTokenizer({ ...bpeJson, model: { ...bpeJson.model, dropout: 0.1 } })
    expect(E.isLeft(drop) && drop.left.message).toMatch(/dropout/)
    const fb = loadTokenizer({ ...bpeJson, model: { ...bpeJson.model, byte_fallback: true } })
    expect(E.isLeft(fb) && fb.left._tag).toBe('Unsupported')
  })

  it('rejects a malformed merge with its index', () => {
    const r = loadTokenizer({ ...bpeJson, model: { ...bpeJson.model, merges: ['h e', 'bad'] } })
    expect(E.isLeft(r) && r.left.path.join('.')).toBe('tokenizer.model.merges.1')
  })
})
