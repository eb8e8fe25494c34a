/**
 * What the penguin example and its test share: the Palmer penguins table (examples/assets/penguins,
 * from vega-datasets@3.2.1), the classifier scripts/train-penguins.py trained on it (ONNX, 9
 * standardised columns → 3 logits), its metadata (column names, feature groups, training mean and
 * standard deviation, class names, held-out rows) and the preprocessing, written again here in
 * TypeScript so that it matches the training script column for column.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { float32, int32, type HostTensor, type Model } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'

const asset = (name: string): string => fileURLToPath(new URL(`./assets/penguins/${name}`, import.meta.url))
export const modelFile = asset('penguins.onnx')

/** One record of penguins.json (vega-datasets spells "bill" as "Beak"); missing values are null. */
export const PenguinRow = t.type({
  Species: t.string,
  Island: t.string,
  'Beak Length (mm)': t.union([t.number, t.null]),
  'Beak Depth (mm)': t.union([t.number, t.null]),
  'Flipper Length (mm)': t.union([t.number, t.null]),
  'Body Mass (g)': t.union([t.number, t.null]),
  Sex: t.union([t.string, t.null]),
})
export type PenguinRow = t.TypeOf<typeof PenguinRow>

const NumericKey = t.keyof({ 'Beak Length (mm)': null, 'Beak Depth (mm)': null, 'Flipper Length (mm)': null, 'Body Mass (g)': null })

/** penguins.meta.json, as scripts/train-penguins.py writes it. */
export const PenguinMeta = t.type({
  columns: t.array(t.string),
  numeric: t.array(NumericKey),
  islands: t.array(t.string),
  sexes: t.array(t.string),
  groups: t.array(t.array(t.number)),
  groupNames: t.array(t.string),
  mean: t.array(t.number),
  std: t.array(t.number),
  classes: t.array(t.string),
  testRows: t.array(t.number),
  testCorrect: t.number,
  testAccuracy: t.number,
})
export type PenguinMeta = t.TypeOf<typeof PenguinMeta>

const decodeFile = <A>(codec: t.Decoder<unknown, A>, file: string): A => {
  const r = codec.decode(JSON.parse(readFileSync(file, 'utf8')))
  if (E.isLeft(r)) {
    const where = r.left.map((e) => e.context.map((c) => c.key).filter((k) => k !== '').join('.')).slice(0, 3)
    throw new Error(`${file} does not have the expected layout (at ${where.join(', ')}); re-run scripts/train-penguins.py`)
  }
  return r.right
}

export const loadMeta = (): PenguinMeta => decodeFile(PenguinMeta, asset('penguins.meta.json'))
export const loadRows = (): PenguinRow[] => decodeFile(t.array(PenguinRow), asset('penguins.json'))

/** The 9 raw columns of a row (4 measurements, island one-hot, sex one-hot), or undefined where a value is missing. */
export const rawColumns = (row: PenguinRow, meta: PenguinMeta): number[] | undefined => {
  const nums = meta.numeric.map((k) => row[k])
  const island = meta.islands.indexOf(row.Island)
  const sex = row.Sex === null ? -1 : meta.sexes.indexOf(row.Sex)
  if (nums.some((v) => v === null) || island < 0 || sex < 0) return undefined
  return [...(nums as number[]), ...meta.islands.map((_, i) => (i === island ? 1 : 0)), ...meta.sexes.map((_, i) => (i === sex ? 1 : 0))]
}

/** (raw − training mean) / training std, column by column: the model's input. */
export const standardise = (raw: readonly number[], meta: PenguinMeta): number[] => raw.map((v, j) => (v - meta.mean[j]!) / meta.std[j]!)

/** The held-out rows: the records, their raw columns, the model input [N, 9] and the true class indices. */
export interface TestSet {
  readonly rows: readonly PenguinRow[]
  readonly raw: readonly (readonly number[])[]
  readonly x: HostTensor
  readonly labels: readonly number[]
}

export const testSet = (meta: PenguinMeta, all: readonly PenguinRow[] = loadRows()): TestSet => {
  const rows = meta.testRows.map((i) => all[i]!)
  const raw = rows.map((r, k) => {
    const cols = rawColumns(r, meta)
    if (cols === undefined) throw new Error(`test row ${meta.testRows[k]} of penguins.json has a missing value; re-run scripts/train-penguins.py`)
    return cols
  })
  const x = float32([rows.length, meta.columns.length], raw.flatMap((r) => standardise(r, meta)))
  return { rows, raw, x, labels: rows.map((r) => meta.classes.indexOf(r.Species)) }
}

/** Feature mask [1, 9]: column j's group id, so each one-hot block (island, sex) is one feature. */
export const groupMask = (meta: PenguinMeta): HostTensor => {
  const ids = new Array<number>(meta.columns.length).fill(-1)
  meta.groups.forEach((cols, g) => cols.forEach((j) => (ids[j] = g)))
  return int32([1, ids.length], ids)
}

/** Per-column attributions of one example summed per group (exact for additive methods such as IG). */
export const groupSums = (perColumn: ArrayLike<number>, meta: PenguinMeta): number[] =>
  meta.groups.map((cols) => cols.reduce((a, j) => a + perColumn[j]!, 0))

/** The classifier on the ONNX backend (an example may just throw on failure). */
export const loadModel = async (): Promise<Model<HostTensor>> => {
  const loaded = await fromOnnx(modelFile, { session: { intraOpNumThreads: 1 } })
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  return loaded.right
}

/** Row-wise argmax of a [N, C] score tensor. */
export const argmaxRows = (scores: HostTensor): number[] => {
  const [n, c] = scores.shape as [number, number]
  const d = scores.data as Float32Array
  return Array.from({ length: n }, (_, i) => {
    let best = 0
    for (let k = 1; k < c; k++) if (d[i * c + k]! > d[i * c + best]!) best = k
    return best
  })
}
