/**
 * The spam filter of examples/explain-spam.ts: its tokenizer, vocabulary, committed messages and
 * ONNX model (examples/assets/spam, made by scripts/train-spam.py on the SpamAssassin corpus).
 *
 * Tokenizer, the same as the training script's: every match of `[A-Za-z0-9]+|[$!]` in the text,
 * left to right, lower-cased (only ASCII letters can match, so JavaScript's and Python's
 * lower-casing agree); the first 64 become ids (`<unk>` = 1 for words outside the vocabulary), and
 * the rest of the 64 positions is `<pad>` = 0.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { int64, type HostTensor, type Model } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'

/** Token positions the model reads. */
export const SEQ_LEN = 64
export const PAD = 0
export const UNK = 1
/** The embedding output, one 32-vector per token: where the token attributions are taken. */
export const EMBEDDING = '/embedding/Gather_output_0'
/** The model's two logits, in order. */
export const LABELS = ['ham', 'spam'] as const

const asset = (name: string): string => fileURLToPath(new URL(`./assets/spam/${name}`, import.meta.url))

const TOKEN = /[A-Za-z0-9]+|[$!]/g

/** The tokens of a text (all of them; the model reads the first {@link SEQ_LEN}). */
export const tokenize = (text: string): string[] => Array.from(text.matchAll(TOKEN), (m) => m[0].toLowerCase())

/** A vocabulary: the token of each id, and the id of each token. */
export interface Vocabulary {
  readonly tokens: readonly string[]
  readonly ids: ReadonlyMap<string, number>
}

/** The fixed-length ids the model reads: the first 64 tokens' ids, padded with `<pad>`. */
export const encode = (vocab: Vocabulary, text: string): number[] => {
  const ids = tokenize(text)
    .slice(0, SEQ_LEN)
    .map((tok) => vocab.ids.get(tok) ?? UNK)
  return [...ids, ...new Array<number>(SEQ_LEN - ids.length).fill(PAD)]
}

/** Ids of several texts as the model's input, int64 [N, 64]. */
export const encodeBatch = (vocab: Vocabulary, texts: readonly string[]): HostTensor => int64([texts.length, SEQ_LEN], texts.flatMap((s) => encode(vocab, s)))

const decodeFile = <A>(codec: t.Type<A, unknown>, name: string): A => {
  const r = codec.decode(JSON.parse(readFileSync(asset(name), 'utf8')) as unknown)
  if (E.isLeft(r)) throw new Error(`examples/assets/spam/${name} does not have the expected shape (${codec.name}); rerun scripts/train-spam.py`)
  return r.right
}

export const loadVocabulary = (): Vocabulary => {
  const tokens = decodeFile(t.readonlyArray(t.string, 'Vocabulary'), 'vocab.json')
  return { tokens, ids: new Map(tokens.map((tok, i) => [tok, i])) }
}

/** A committed message with what the training script computed for it. */
export const Message = t.readonly(
  t.type({
    /** `group/id` in the corpus (a held-out message), or `hand-written`. */
    source: t.string,
    label: t.keyof({ ham: null, spam: null }),
    /** The text: subject, newline, the start of the body (cut after its 64th token). */
    text: t.string,
    /** Python's tokens (the first 64) and ids. */
    tokens: t.readonlyArray(t.string),
    ids: t.readonlyArray(t.number),
    /** PyTorch's logits [ham, spam] and P(spam). */
    logits: t.readonlyArray(t.number),
    pSpam: t.number,
  }),
  'Message',
)
export type Message = t.TypeOf<typeof Message>

export const loadMessages = (): readonly Message[] => decodeFile(t.readonlyArray(Message, 'Messages'), 'messages.json')

export const loadModel = async (): Promise<Model<HostTensor>> => {
  const loaded = await fromOnnx(asset('spam.onnx'), { session: { intraOpNumThreads: 2 } })
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  return loaded.right
}

/** P(spam) of each row of logits [N, 2] (softmax over the two). */
export const spamProbabilities = (logits: ArrayLike<number>): number[] =>
  Array.from({ length: logits.length / 2 }, (_, i) => 1 / (1 + Math.exp(logits[2 * i]! - logits[2 * i + 1]!)))
