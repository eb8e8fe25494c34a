/**
 * Turning what the user gave (a picture, a CSV row, a text) into the model's input tensor, as pure
 * functions: the page decodes files, these do the rest. Every failure is a message saying what to
 * change.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HostTensor } from 'clarus'
import { float32, int32, int64 } from 'clarus'
import type { ImagePreprocessing } from 'clarus/viz'
import type { PortInfo } from './protocol.js'

/** The fixed sizes of a declared shape (free dimensions as undefined). */
const dims = (p: PortInfo): (number | undefined)[] => p.shape.map((d) => (typeof d === 'number' && d > 0 ? d : undefined))

/**
 * Image preprocessing that fits a model input of rank 4: NCHW when dimension 1 holds 1 or 3
 * channels, NHWC when the last one does; the size and grey/RGB follow the declared shape.
 */
export const preprocessingFor = (input: PortInfo): ImagePreprocessing => {
  const [, a, b, c] = dims(input)
  if (input.shape.length !== 4) return {}
  if (a === 1 || a === 3) return { layout: 'NCHW', channelOrder: a === 1 ? 'grey' : 'RGB', ...(b !== undefined && c !== undefined ? { size: [b, c] } : {}) }
  if (c === 1 || c === 3) return { layout: 'NHWC', channelOrder: c === 1 ? 'grey' : 'RGB', ...(a !== undefined && b !== undefined ? { size: [a, b] } : {}) }
  return {}
}

/** Whether a model input looks like a picture, a row of numbers or token ids. */
export const inputKindFor = (input: PortInfo): 'image' | 'csv' | 'text' =>
  input.shape.length === 4 ? 'image' : input.dtype === 'int64' || input.dtype === 'int32' ? 'text' : 'csv'

/** A CSV row: feature names (from a header line, else f0, f1, …) and the numbers of the first data line. */
export interface CsvRow {
  readonly names: readonly string[]
  readonly values: readonly number[]
}

const cells = (line: string): string[] => line.split(/[,;\t]/).map((c) => c.trim()).filter((c, i, all) => c !== '' || i < all.length - 1)

/** Reads the first data row of a CSV text (a header line of names is optional). */
export const parseCsvRow = (text: string): E.Either<string, CsvRow> => {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  if (lines.length === 0) return E.left('the CSV is empty: paste a row of numbers, optionally under a header line of feature names')
  const first = cells(lines[0]!)
  const isHeader = first.some((c) => c !== '' && !Number.isFinite(Number(c)))
  const dataLine = isHeader ? lines[1] : lines[0]
  if (dataLine === undefined) return E.left('the CSV has a header line but no row of numbers under it')
  const raw = cells(dataLine)
  const bad = raw.map((c, i) => [c, i] as const).filter(([c]) => c === '' || !Number.isFinite(Number(c)))
  if (bad.length > 0) return E.left(`column${bad.length > 1 ? 's' : ''} ${bad.map(([c, i]) => `${i + 1} (${JSON.stringify(c)})`).join(', ')} of the row ${bad.length > 1 ? 'are' : 'is'} not a number`)
  const names = isHeader ? first : raw.map((_, i) => `f${i}`)
  if (names.length !== raw.length) return E.left(`the header names ${names.length} columns but the row has ${raw.length}`)
  return E.right({ names, values: raw.map(Number) })
}

/** A list of numbers typed as text ("1, 2.5 3"); empty text is an empty list. */
export const parseNumberList = (text: string, what: string): E.Either<string, number[]> => {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '')
  const bad = parts.filter((p) => !Number.isFinite(Number(p)))
  return bad.length > 0 ? E.left(`${what}: ${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not a number`) : E.right(parts.map(Number))
}

/** The model input for a CSV row: [1, F] float32, standardised as (x − mean) / std when both are given. */
export const csvTensor = (row: CsvRow, input: PortInfo, mean: readonly number[], std: readonly number[]): E.Either<string, HostTensor> => {
  const want = dims(input)[1]
  const n = row.values.length
  if (want !== undefined && want !== n) return E.left(`the model takes ${want} features per row (input ${input.name} ${JSON.stringify(input.shape)}); the row has ${n}`)
  const problems: string[] = []
  if (mean.length > 0 && mean.length !== n && mean.length !== 1) problems.push(`mean has ${mean.length} entries; give 1 or ${n}`)
  if (std.length > 0 && std.length !== n && std.length !== 1) problems.push(`std has ${std.length} entries; give 1 or ${n}`)
  if (std.some((s) => !(s > 0))) problems.push('every std must be > 0')
  if (problems.length > 0) return E.left(problems.join('; '))
  const at = (l: readonly number[], j: number, d: number): number => (l.length === 0 ? d : l.length === 1 ? l[0]! : l[j]!)
  return E.right(float32([1, n], row.values.map((v, j) => (v - at(mean, j, 0)) / at(std, j, 1))))
}

/**
 * The word tokenizer of the spam demo (scripts/train-spam.py): each match of `[A-Za-z0-9]+|[$!]`,
 * lower-cased.
 */
export const tokenize = (text: string): string[] => Array.from(text.matchAll(/[A-Za-z0-9]+|[$!]/g), (m) => m[0].toLowerCase())

/** A vocabulary file: a JSON list of tokens, the index being the id (`<pad>` = 0, `<unk>` = 1 by convention). */
export const parseVocab = (json: unknown): E.Either<string, readonly string[]> =>
  Array.isArray(json) && json.every((x) => typeof x === 'string') && json.length >= 2
    ? E.right(json as string[])
    : E.left('vocab.json must be a JSON list of at least two token strings (id = position; <pad> first, <unk> second)')

/** Token ids [1, L] for a text (L from the model input, default 64), and the tokens shown for each kept position. */
export const textTensor = (text: string, vocab: readonly string[], input: PortInfo): E.Either<string, { readonly tensor: HostTensor; readonly tokens: readonly string[] }> => {
  const length = dims(input)[1] ?? 64
  const ids = new Map(vocab.map((t, i) => [t, i]))
  const unk = ids.get('<unk>') ?? 1
  const pad = ids.get('<pad>') ?? 0
  const tokens = tokenize(text).slice(0, length)
  if (tokens.length === 0) return E.left('the text has no words the tokenizer reads (letters, digits, $ or !)')
  const seq = [...tokens.map((t) => ids.get(t) ?? unk), ...new Array<number>(length - tokens.length).fill(pad)]
  const tensor = input.dtype === 'int32' ? int32([1, length], seq) : input.dtype === 'float32' ? float32([1, length], seq) : int64([1, length], seq)
  return E.right({ tensor, tokens })
}

/** True when outputs already are probabilities (each in [0, 1], summing to 1), as a final softmax layer makes them. */
export const areProbabilities = (outputs: readonly number[]): boolean =>
  outputs.length > 1 && outputs.every((v) => v >= 0 && v <= 1) && Math.abs(outputs.reduce((a, b) => a + b, 0) - 1) < 1e-3

/**
 * The `k` most probable classes, best first: the softmax of the outputs (stable), or the outputs
 * themselves when they already are probabilities.
 */
export const topK = (outputs: readonly number[], k: number): { readonly index: number; readonly logit: number; readonly p: number }[] => {
  const m = Math.max(...outputs)
  const ex = outputs.map((l) => Math.exp(l - m))
  const z = ex.reduce((a, b) => a + b, 0)
  const p = areProbabilities(outputs) ? outputs : ex.map((e) => e / z)
  return outputs.map((logit, index) => ({ index, logit, p: p[index]! })).sort((a, b) => b.p - a.p || a.index - b.index).slice(0, k)
}
