/**
 * Datasets read lazily, one example at a time, so a job over 10⁵ rows holds only the examples in
 * flight: a CSV file (numeric columns → one float32 row), a JSONL file (one example per line), a
 * directory of images (preprocessed like `clarus explain` does), or any (async) iterable.
 *
 * @category scale
 * @since 0.6.0
 */
import { createReadStream, readdirSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import type { TensorInfo } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import { float32, int32, int64, sizeOf, type HostTensor } from '../core/tensor.js'
import { loadInput } from '../cli/inputs.js'
import type { Dataset } from './executor.js'
import type { Example } from './job.js'

/** Thrown out of a source's iterator (the driver reports it as the job's error): a line or file that cannot be read. */
export class SourceError extends Error {
  constructor(readonly error: AttributionError) {
    super(error.message)
  }
}

const lines = async function* (file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  for await (const line of rl) yield line
}

const countLines = async (file: string): Promise<number> => {
  let n = 0
  for await (const line of lines(file)) if (line.trim() !== '') n++
  return n
}

/** A numeric CSV cell (empty, `nan` and `NaN` read as NaN, so an incomplete row fails its own unit, not the job). */
const cell = (s: string): number => {
  const v = s.trim()
  return v === '' || /^nan$/i.test(v) ? NaN : Number(v)
}

/** Splits one CSV line (quoted fields with doubled quotes allowed). */
const splitCsv = (line: string): string[] => {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out
}

export interface CsvOptions {
  /** Feature columns, in model order (default: every column but `target` and `id`). */
  readonly columns?: readonly string[]
  /** A column holding each row's target class (an integer). */
  readonly target?: string
  /** A column naming each row (else the row number). */
  readonly id?: string
}

/** A CSV file with a header row: each data row is one example, its feature columns one float32 `[1, k]` input. */
export const csvSource = async (file: string, options: CsvOptions = {}): Promise<Dataset> => {
  const header = await (async () => {
    for await (const line of lines(file)) return splitCsv(line).map((h) => h.trim())
    return undefined
  })()
  if (header === undefined) throw new SourceError(err('EmptyInput', `${file} is empty: a CSV dataset needs a header row`, ['dataset']))
  const index = (name: string, what: string): number => {
    const i = header.indexOf(name)
    if (i < 0) throw new SourceError(err('MissingInput', `${file} has no ${what} column ${JSON.stringify(name)} (columns: ${header.join(', ')})`, ['dataset', what]))
    return i
  }
  const ti = options.target !== undefined ? index(options.target, 'target') : -1
  const ii = options.id !== undefined ? index(options.id, 'id') : -1
  const cols = options.columns !== undefined ? options.columns.map((c) => index(c, 'feature')) : header.map((_, i) => i).filter((i) => i !== ti && i !== ii)
  // a feature column that is not numeric (a name, a label) is a mistake to report when opening, not NaN in every row
  const first = await (async () => {
    let row = -1
    for await (const line of lines(file)) {
      if (line.trim() === '') continue
      if (++row === 1) return splitCsv(line)
    }
    return undefined
  })()
  if (first !== undefined) {
    const text = cols.filter((c) => {
      const v = (first[c] ?? '').trim()
      return v !== '' && !/^nan$/i.test(v) && !Number.isFinite(Number(v))
    })
    if (text.length > 0) {
      throw new SourceError(err('DTypeMismatch', `${file}: column(s) ${text.map((c) => JSON.stringify(header[c])).join(', ')} hold text (first row: ${text.map((c) => JSON.stringify(first[c])).join(', ')}); ` +
        'give them as the id or target column, or list the numeric feature columns with columns', ['dataset', header[text[0]!]!]))
    }
  }
  const size = (await countLines(file)) - 1
  const examples = async function* (): AsyncGenerator<Example> {
    let row = -1
    for await (const line of lines(file)) {
      if (line.trim() === '') continue
      row++
      if (row === 0) continue
      const f = splitCsv(line)
      const t = ti >= 0 ? cell(f[ti] ?? '') : undefined
      yield {
        inputs: [float32([1, cols.length], cols.map((c) => cell(f[c] ?? '')))],
        ...(t !== undefined && Number.isInteger(t) ? { target: t } : {}),
        id: ii >= 0 ? (f[ii] ?? '').trim() : String(row),
      }
    }
  }
  return { size, examples: examples() }
}

/** One JSONL example: `{ "inputs": [ { "dtype"?, "shape", "data" } | number[] ], "target"?, "id"? }`; a SourceError naming the line when it is not. */
const exampleOf = (u: unknown, line: number, file: string): Example => {
  const bad = (m: string): never => {
    throw new SourceError(err('ShapeMismatch', `${file}:${line}: ${m}`, ['dataset', String(line)]))
  }
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return bad('each line must be a JSON object { "inputs": [...], "target"?, "id"? }')
  const o = u as { inputs?: unknown; target?: unknown; id?: unknown }
  if (!Array.isArray(o.inputs) || o.inputs.length === 0) return bad('"inputs" must be a non-empty array (one entry per model input)')
  const inputs = o.inputs.map((x: unknown, i): HostTensor => {
    if (Array.isArray(x)) {
      if (!x.every((v) => typeof v === 'number' || v === null)) return bad(`inputs[${i}] must be numbers`)
      return float32([1, x.length], x.map((v) => (v === null ? NaN : (v as number))))
    }
    const t = x as { dtype?: unknown; shape?: unknown; data?: unknown }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d > 0) || !Array.isArray(t.data)) return bad(`inputs[${i}] must be an array of numbers or { "dtype"?, "shape", "data" }`)
    const shape = t.shape[0] === 1 ? (t.shape as number[]) : [1, ...(t.shape as number[])]
    if (t.data.length !== sizeOf(shape)) return bad(`inputs[${i}]: shape [${(t.shape as number[]).join(', ')}] needs ${sizeOf(shape)} values, data has ${t.data.length}`)
    const data = (t.data as unknown[]).map((v) => (v === null ? NaN : Number(v)))
    return t.dtype === 'int64' ? int64(shape, data) : t.dtype === 'int32' ? int32(shape, data) : float32(shape, data)
  })
  const target = o.target
  const okTarget = target === undefined || Number.isInteger(target) || (Array.isArray(target) && target.every((v) => Number.isInteger(v)))
  if (!okTarget) return bad('"target" must be an integer or an array of integers')
  return { inputs, ...(target !== undefined ? { target: target as number | number[] } : {}), id: o.id === undefined ? String(line) : String(o.id) }
}

/**
 * A JSONL file, one example per line: `{ "inputs": [ { "dtype"?, "shape", "data" } | number[] ],
 * "target"?, "id"? }` (a plain array is one float32 row; `null` reads as NaN). Blank lines are skipped.
 */
export const jsonlSource = async (file: string): Promise<Dataset> => {
  const size = await countLines(file)
  const examples = async function* (): AsyncGenerator<Example> {
    let n = 0
    for await (const line of lines(file)) {
      n++
      if (line.trim() === '') continue
      let u: unknown
      try {
        u = JSON.parse(line) as unknown
      } catch (e) {
        throw new SourceError(err('ShapeMismatch', `${file}:${n}: not JSON (${(e as Error).message})`, ['dataset', String(n)]))
      }
      yield exampleOf(u, n, file)
    }
  }
  return { size, examples: examples() }
}

/**
 * A directory of PNG/JPEG images (sorted by name), each preprocessed for the model's first input
 * (`info`: its declared shape sets the size and layout, as in `clarus explain`; `preprocess`
 * overrides: mean, std, size, layout, channelOrder, scale). The file name is the example's id.
 */
export const imageDirectorySource = (dir: string, info: TensorInfo | undefined, preprocess: unknown = {}): Dataset => {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f) && statSync(path.join(dir, f)).isFile()).sort()
  } catch (e) {
    throw new SourceError(err('MissingInput', `cannot read the image directory ${dir}: ${(e as Error).message}`, ['dataset']))
  }
  const examples = function* (): Generator<Example> {
    for (const f of files) yield { inputs: [loadInput(path.join(dir, f), info, preprocess).tensor], id: f }
  }
  return { size: files.length, examples: examples() }
}
