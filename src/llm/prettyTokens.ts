/**
 * Target tokens as readable text (Captum's "pretty" output tokens): the ids are decoded to one
 * string, re-encoded with character offsets, and each token shown as its span of that string, so
 * byte-level markers (GPT-2's `Ġ`) become plain spaces and letters. A span that starts before the
 * previous one ended (several tokens sharing the bytes of one character) is marked `[OVERLAP]`.
 * When the re-encoding does not give the same number of tokens, each id is decoded on its own.
 *
 * @category llm
 * @since 0.5.0
 */
import type { Tokenizer } from './types.js'

/** One display string per id of `ids`. */
export const prettyTokens = (tokenizer: Tokenizer, ids: readonly number[]): string[] => {
  const text = tokenizer.decode(ids)
  const enc = tokenizer.encodeWithOffsets(text)
  if (enc.ids.length !== ids.length) return ids.map((id) => tokenizer.decode([id]))
  let lastEnd = -1
  return enc.offsets.map(([s, e]) => {
    const piece = text.slice(s, e)
    const overlaps = s < lastEnd
    lastEnd = Math.max(lastEnd, e)
    return overlaps ? `[OVERLAP]${piece}` : piece
  })
}
