// Interpretable inputs: features, labels, and the prompt each feature vector gives.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allPresent, textSegmentInput, textTemplateInput, textTokenInput, type InterpretableInput } from '../../../src/llm/inputs.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'

const tok = await (async () => {
  const r = await loadTokenizerFile('../shared/reference/models/tinylm.tokenizer.json')
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
})()

const right = (e: E.Either<{ message: string }, InterpretableInput>): InterpretableInput => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}
const left = (e: E.Either<{ _tag: string; message: string; path: readonly string[] }, InterpretableInput>) => {
  if (E.isRight(e)) throw new Error('expected an error')
  return e.left
}

describe('textTokenInput', () => {
  it('every token a feature (special ones included); absent tokens become the baseline id', () => {
    const i = right(textTokenInput('the old king', tok))
    expect(i.nFeatures).toBe(4)
    expect(i.labels).toEqual(['<bos>', 'the', 'old', 'king'])
    expect(i.toIds([1, 0, 1, 0], tok)).toEqual([1, 0, 57, 0])
    expect(i.toText([0, 1, 1, 1])).toBe('<unk> the old king')
  })

  it('skipTokens are not features but stay in the prompt; a token-string baseline is looked up', () => {
    const i = right(textTokenInput('the old king', tok, { skipTokens: ['<bos>', 4], baselines: '<pad>' }))
    expect(i.labels).toEqual(['old', 'king'])
    expect(i.toIds([0, 1], tok)).toEqual([1, 4, 3, 12])
    expect(i.baselines).toEqual(['<pad>', '<pad>'])
  })

  it('errors: an unknown baseline token, an id outside the vocabulary, nothing left to attribute', () => {
    expect(left(textTokenInput('the', tok, { baselines: '<mask>' })).path).toEqual(['baselines'])
    expect(left(textTokenInput('the', tok, { skipTokens: [500] })).message).toMatch(/outside the vocabulary/)
    expect(left(textTokenInput('the', tok, { skipTokens: ['<bos>', 'the'] }))._tag).toBe('EmptyInput')
  })
})

describe('textTemplateInput', () => {
  it('positional values: an absent value becomes its baseline ("" by default: it disappears)', () => {
    const i = right(textTemplateInput('{} {} walked to the {}', ['the', 'old man', 'river']))
    expect(i.nFeatures).toBe(3)
    expect(i.toText([1, 1, 1])).toBe('the old man walked to the river')
    expect(i.toText([1, 0, 1])).toBe('the  walked to the river')
    expect(i.toIds([1, 0, 1], tok)).toEqual(tok.encode('the walked to the river'))
    const b = right(textTemplateInput('{0} and {1}, {0}', ['cat', 'dog'], { baselines: ['bird', 'fish'] }))
    expect(b.toText([0, 1])).toBe('bird and dog, bird')
    expect(b.baselines).toEqual(['bird', 'fish'])
    expect(i.baselines).toEqual(['', '', ''])
  })

  it('named values with a mask: groups renumbered in ascending id order, one column per value', () => {
    const i = right(textTemplateInput('{s} liked the {o} in the {p} {t}', { s: 'the queen', o: 'red apple', p: 'garden', t: 'today' }, { mask: { s: 7, o: 3, p: 3, t: 9 } }))
    expect(i.nFeatures).toBe(3)
    expect(i.featureOfColumn).toEqual([1, 0, 0, 2])
    expect(i.labels).toEqual(['the queen', 'red apple', 'garden', 'today'])
    expect(i.toText([0, 1, 1])).toBe('the queen liked the  in the  today')
  })

  it('braces: {{ and }} are literal', () => {
    expect(right(textTemplateInput('{{x}} {}', ['a'])).toText([1])).toBe('{x} a')
  })

  it('errors: unknown segment name, missing positional value, bad mask / baselines form, format specs', () => {
    const unknown = left(textTemplateInput('{who} saw {what}', { who: 'the king', whom: 'a dog' }))
    expect(unknown._tag).toBe('InvalidSpec')
    expect(unknown.message).toMatch(/\{what\} names no value \(values: who, whom\)/)
    expect(left(textTemplateInput('{} {} {}', ['a', 'b'])).message).toMatch(/#2 has no value/)
    expect(left(textTemplateInput('{a}', { a: 'x' }, { mask: [0] })).message).toMatch(/record keyed like the values/)
    expect(left(textTemplateInput('{a}', { a: 'x' }, { baselines: { b: 'y' } })).message).toMatch(/unknown b; missing a/)
    expect(left(textTemplateInput('{:>5}', ['x'])).message).toMatch(/not supported/)
    expect(left(textTemplateInput('{} {0}', ['x'])).message).toMatch(/mixes/)
    expect(left(textTemplateInput('{}', []))._tag).toBe('EmptyInput')
  })
})

describe('textSegmentInput', () => {
  const text = 'The king slept. The queen sang!\nA bird flew away.\n\nThen the river rose?  Yes'

  it('cuts words, sentences, lines and paragraphs', () => {
    expect(right(textSegmentInput(text, { unit: 'sentence' })).labels).toEqual(['The king slept.', 'The queen sang!', 'A bird flew away.', 'Then the river rose?', 'Yes'])
    expect(right(textSegmentInput(text, { unit: 'line' })).labels).toEqual(['The king slept. The queen sang!', 'A bird flew away.', 'Then the river rose?  Yes'])
    expect(right(textSegmentInput(text, { unit: 'paragraph' })).labels).toEqual(['The king slept. The queen sang!\nA bird flew away.', 'Then the river rose?  Yes'])
    expect(right(textSegmentInput('a b  c', { unit: 'word' })).labels).toEqual(['a', 'b', 'c'])
  })

  it('groupSize joins consecutive units; absent groups become the baseline, the rest of the text is kept', () => {
    const i = right(textSegmentInput(text, { unit: 'sentence', groupSize: 2, baseline: '…' }))
    expect(i.nFeatures).toBe(3)
    expect(i.labels[1]).toBe('A bird flew away.\n\nThen the river rose?')
    expect(i.toText([1, 0, 1])).toBe('The king slept. The queen sang!\n…  Yes')
  })

  it('all features present gives back the text exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('the', 'king', 'sang', '.', '!', ' ', '  ', '\n', '\n\n', 'a?'), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('word', 'sentence', 'line', 'paragraph'),
        fc.integer({ min: 1, max: 3 }),
        (parts, unit, groupSize) => {
          const t = parts.join('')
          const r = textSegmentInput(t, { unit: unit as 'word', groupSize })
          if (E.isLeft(r)) {
            expect(t.trim()).toBe('')
            return
          }
          expect(r.right.toText(allPresent(r.right))).toBe(t)
          // and all absent leaves only the text between the units
          expect(r.right.toText(new Array<number>(r.right.nFeatures).fill(0)).trim()).toBe('')
        },
      ),
      { seed: 15, numRuns: 200 },
    )
  })
})
