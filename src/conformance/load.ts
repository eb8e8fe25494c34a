/**
 * Reads a directory of Captum reference fixtures (`clarus-captum-reference/1`): the index, then
 * each case on demand, with every tensor (inputs, expected values, tensors inside `args`) turned
 * into a {@link HostTensor}. Paths in the index are relative to the directory, `.bin` files
 * relative to their case JSON, so any directory in this format works, not only ours.
 *
 * Every failure is an {@link InvalidSpec} whose path starts with the file at fault (relative to the
 * directory) followed by the JSON field, e.g. `['cases/mlp/x.json', 'expected', 'attribution', 'shape']`.
 * Nothing here throws on bad data.
 *
 * @category conformance
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { decodeWith } from '../core/codecs.js'
import { invalidSpec, type AttributionError, type InvalidSpec } from '../core/errors.js'
import { loadTokenizer } from '../llm/tokenizer.js'
import type { Tokenizer } from '../llm/types.js'
import type { DType, HostTensor } from '../core/tensor.js'
import {
  CaseFile,
  ReferenceIndex,
  TensorJson,
  looksLikeTensor,
  type CaseEntry,
  type CaseFamily,
  type CaseKind,
  type Explanation,
  type FixtureDType,
  type LayerRef,
  type NestedData,
  type Tolerance,
} from './format.js'

/** One case, decoded, with host tensors everywhere the JSON had a tensor. */
export interface ReferenceCase {
  /** The case file, relative to the fixture directory (as in the index). */
  readonly file: string
  readonly id: string
  readonly model: string
  readonly algorithm: string
  readonly family: CaseFamily
  readonly kind: CaseKind
  /** The case file's `constructor`: non-default constructor arguments, Captum's names (`{}` when absent). */
  readonly constructorArgs: Readonly<Record<string, unknown>>
  readonly layer: LayerRef | null
  readonly inputs: readonly HostTensor[]
  /** Graph input names, parallel to `inputs` (`''` where the file gives none). */
  readonly inputNames: readonly string[]
  /** Captum's keyword arguments verbatim; fixture tensors in it (at any depth) are host tensors. */
  readonly args: Readonly<Record<string, unknown>>
  readonly expected: {
    /** As written: one tensor, or a list for multi-tensor results. */
    readonly attribution: HostTensor | readonly HostTensor[]
    /** The same, always as a list. */
    readonly attributions: readonly HostTensor[]
    readonly convergenceDelta?: HostTensor
  }
  readonly modelOutput?: HostTensor
  readonly tolerance: Tolerance
  readonly deltaTolerance?: Tolerance
  readonly samplingTolerance?: Tolerance
  readonly captumSample?: HostTensor
  readonly standardError?: HostTensor
  readonly perSampleStd?: HostTensor
  /** Metric cases: the explanation evaluated; its `args` converted like `args`. */
  readonly explanation?: { readonly algorithm: string; readonly args: Readonly<Record<string, unknown>> }
  /** The decoded JSON (tensors still in their JSON form) for metadata not lifted above. */
  readonly json: CaseFile
  /** Wave-2 cases: the area (`llm`, `robust`, `concept`, `influence`); absent on attribution cases. */
  readonly area?: string
  /**
   * Wave-2 cases: every top-level key of the case file with each fixture tensor (at any depth) a
   * host tensor: `expected` (all result fields), `tolerances`, `llm`, `concept`, `influence_data`,
   * `interpretable_input`, `stability`, … as the fixture README describes them. Empty on wave-1 cases.
   */
  readonly wave2: Readonly<Record<string, unknown>>
}

/** A case of the index whose file is read only when `load` is called (not cached). */
export interface LazyCase {
  readonly entry: CaseEntry
  readonly load: () => E.Either<InvalidSpec, ReferenceCase>
}

/**
 * The files of a fixture directory, read synchronously by path relative to its root (`/`-separated).
 * Under Node it is a directory on disk (`directoryFiles` in `files.ts`); in a browser the page
 * fetches the files first and serves them from memory ({@link memoryFiles}).
 */
export interface ReferenceFiles {
  /** Where the files come from (a directory or URL), for messages. */
  readonly root: string
  /** The bytes of `rel`; throws when it cannot be read. */
  readonly readBytes: (rel: string) => Uint8Array
}

/** A fixture directory: its decoded index and its cases, loaded on demand. */
export interface ReferenceDir {
  /** Where the directory is (absolute path, or URL in a browser). */
  readonly dir: string
  readonly files: ReferenceFiles
  readonly index: ReferenceIndex
  readonly cases: readonly LazyCase[]
}

/** `rel` resolved against the directory of `from` (both relative to the fixture root, `/`-separated). */
export const joinRelative = (from: string, rel: string): string => {
  const parts = from.split('/').slice(0, -1)
  for (const p of rel.split('/')) {
    if (p === '..') parts.pop()
    else if (p !== '.' && p !== '') parts.push(p)
  }
  return parts.join('/')
}

/** Reference files held in memory (a browser page fetches them first), keyed by relative path. */
export const memoryFiles = (root: string, files: ReadonlyMap<string, Uint8Array>): ReferenceFiles => ({
  root,
  readBytes: (rel) => {
    const b = files.get(joinRelative('', rel))
    if (b === undefined) throw new Error(`${rel} was not fetched`)
    return b
  },
})

const issue = (where: readonly string[], message: string): InvalidSpec => invalidSpec([{ path: [...where], message }])

const readBytes = (files: ReferenceFiles, rel: string, where: readonly string[]): E.Either<InvalidSpec, Uint8Array> =>
  E.tryCatch(
    () => files.readBytes(rel),
    (e) => issue(where, `cannot read ${rel} in ${files.root}: ${e instanceof Error ? e.message : String(e)}`),
  )

const readJson = (files: ReferenceFiles, rel: string): E.Either<InvalidSpec, unknown> =>
  pipe(
    readBytes(files, rel, [rel]),
    E.chain((buf) =>
      E.tryCatch(
        () => JSON.parse(new TextDecoder().decode(buf)) as unknown,
        (e) => issue([rel], `not valid JSON: ${e instanceof Error ? e.message : String(e)}`),
      ),
    ),
  )

/** Reads and decodes `index.json` of a fixture directory; the cases are listed, not read. */
export const loadReference = (files: ReferenceFiles): E.Either<InvalidSpec, ReferenceDir> =>
  pipe(
    readJson(files, 'index.json'),
    E.chain((u) => decodeWith(ReferenceIndex, u, ['index.json'])),
    E.map((index) => ({
      dir: files.root,
      files,
      index,
      cases: index.cases.map((entry) => ({ entry, load: () => loadCaseFrom(files, entry) })),
    })),
  )

/** The bytes of a file of the fixture directory (a model, a tokenizer), relative to its root. */
export const readReferenceFile = (ref: ReferenceDir, rel: string): E.Either<InvalidSpec, Uint8Array> => readBytes(ref.files, rel, [rel])

/** A JSON file of the fixture directory, parsed (not decoded). */
export const readReferenceJson = (ref: ReferenceDir, rel: string): E.Either<InvalidSpec, unknown> => readJson(ref.files, rel)

/**
 * Reads the weight JSON of `model` as listed in the index (`models[model].weights`), undecoded:
 * `buildTfjsReferenceModel` decodes it.
 */
export const loadModelWeights = (ref: ReferenceDir, model: string): E.Either<InvalidSpec, unknown> => {
  const file = ref.index.models[model]?.weights
  return typeof file === 'string'
    ? readJson(ref.files, file)
    : E.left(issue(['index.json', 'models', model, 'weights'], `model ${model} has no weight JSON in this directory`))
}

// ---------------------------------------------------------------------------------------------
// Tensor conversion

const BYTES: Record<FixtureDType, number> = { float32: 4, int32: 4, int64: 8, bool: 1 }

const leafNumber = (v: unknown): number =>
  typeof v === 'number' ? v : v === true ? 1 : v === false ? 0 : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v)

/** Flattens nested data already checked against its shape by the codec. */
const flatten = (data: NestedData, rank: number, out: unknown[]): void => {
  if (rank === 0) {
    out.push(data)
    return
  }
  for (const x of data as unknown[]) flatten(x, rank - 1, out)
}

const fromLeaves = (dtype: DType, shape: readonly number[], leaves: readonly unknown[]): HostTensor => {
  const n = leaves.length
  switch (dtype) {
    case 'float32': {
      // Values are the shortest decimals that round-trip to float32: parse as double, round on store.
      const data = new Float32Array(n)
      for (let i = 0; i < n; i++) data[i] = leafNumber(leaves[i])
      return { dtype, shape: [...shape], data }
    }
    case 'int32': {
      const data = new Int32Array(n)
      for (let i = 0; i < n; i++) data[i] = leafNumber(leaves[i])
      return { dtype, shape: [...shape], data }
    }
    case 'int64': {
      const data = new BigInt64Array(n)
      for (let i = 0; i < n; i++) {
        const v = leaves[i]
        data[i] = typeof v === 'string' ? BigInt(v) : BigInt(v as number)
      }
      return { dtype, shape: [...shape], data }
    }
    case 'bool': {
      const data = new Uint8Array(n)
      for (let i = 0; i < n; i++) data[i] = leafNumber(leaves[i]) ? 1 : 0
      return { dtype, shape: [...shape], data }
    }
  }
}

const fromBinary = (
  buf: Uint8Array,
  dtype: FixtureDType,
  shape: readonly number[],
  byteOffset: number,
  length: number,
): HostTensor => {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  switch (dtype) {
    case 'float32': {
      const data = new Float32Array(length)
      for (let i = 0; i < length; i++) data[i] = view.getFloat32(byteOffset + 4 * i, true)
      return { dtype, shape: [...shape], data }
    }
    case 'int32': {
      const data = new Int32Array(length)
      for (let i = 0; i < length; i++) data[i] = view.getInt32(byteOffset + 4 * i, true)
      return { dtype, shape: [...shape], data }
    }
    case 'int64': {
      const data = new BigInt64Array(length)
      for (let i = 0; i < length; i++) data[i] = view.getBigInt64(byteOffset + 8 * i, true)
      return { dtype, shape: [...shape], data }
    }
    case 'bool':
      return { dtype, shape: [...shape], data: Uint8Array.from(buf.subarray(byteOffset, byteOffset + length)) }
  }
}

/** Converts tensors of one case file; caches `.bin` files so each is read once per case. */
class TensorReader {
  private readonly bins = new Map<string, E.Either<InvalidSpec, Uint8Array>>()
  constructor(
    private readonly files: ReferenceFiles,
    private readonly file: string,
  ) {}

  /** `json` must already have passed {@link TensorJson}; `where` is its path inside the case file. */
  convert(json: TensorJson, where: readonly string[]): E.Either<InvalidSpec, HostTensor> {
    if (!('file' in json)) {
      const leaves: unknown[] = []
      flatten(json.data, json.shape.length, leaves)
      return E.right(fromLeaves(json.dtype, json.shape, leaves))
    }
    const at = [this.file, ...where]
    const bin = this.bins.get(json.file) ?? readBytes(this.files, joinRelative(this.file, json.file), [...at, 'file'])
    this.bins.set(json.file, bin)
    return pipe(
      bin,
      E.chain((buf) => {
        const end = json.byte_offset + json.length * BYTES[json.dtype]
        return end <= buf.byteLength
          ? E.right(fromBinary(buf, json.dtype, json.shape, json.byte_offset, json.length))
          : E.left(
              issue(
                [...at, 'byte_offset'],
                `${json.file} has ${buf.byteLength} bytes, but ${json.length} ${json.dtype} element(s) at byte ${json.byte_offset} end at byte ${end}`,
              ),
            )
      }),
    )
  }

  /** Decodes and converts a value that should be a fixture tensor. */
  decode(u: unknown, where: readonly string[]): E.Either<InvalidSpec, HostTensor> {
    return pipe(
      decodeWith(TensorJson, u, [this.file, ...where]),
      E.chain((json) => this.convert(json, where)),
    )
  }

  /** Replaces every fixture tensor inside an open JSON value (records, lists) by a host tensor. */
  deep(u: unknown, where: readonly string[]): E.Either<InvalidSpec, unknown> {
    if (looksLikeTensor(u)) return this.decode(u, where)
    if (Array.isArray(u)) {
      const out: unknown[] = []
      for (let i = 0; i < u.length; i++) {
        const r = this.deep(u[i], [...where, String(i)])
        if (E.isLeft(r)) return r
        out.push(r.right)
      }
      return E.right(out)
    }
    if (typeof u === 'object' && u !== null) {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(u)) {
        const r = this.deep(v, [...where, k])
        if (E.isLeft(r)) return r
        out[k] = r.right
      }
      return E.right(out)
    }
    return E.right(u)
  }

  optional(json: TensorJson | undefined, where: readonly string[]): E.Either<InvalidSpec, HostTensor | undefined> {
    return json === undefined ? E.right(undefined) : this.convert(json, where)
  }
}

/** Collects the `Right`s of a list of named conversions, stopping at the first `Left`. */
const all = <A>(items: readonly E.Either<InvalidSpec, A>[]): E.Either<InvalidSpec, A[]> => {
  const out: A[] = []
  for (const r of items) {
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

const checkEntry = (c: CaseFile, entry: Partial<CaseEntry> & Pick<CaseEntry, 'file'>): E.Either<InvalidSpec, CaseFile> => {
  const fields = ['id', 'model', 'algorithm', 'family', 'kind'] as const
  const issues = fields
    .filter((f) => entry[f] !== undefined && entry[f] !== c[f])
    .map((f) => ({ path: [entry.file, f], message: `the index says ${f} ${JSON.stringify(entry[f])}, the case file says ${JSON.stringify(c[f])}` }))
  if (entry.layer !== undefined) {
    const attributed = c.layer?.attributed_tensor ?? null
    if (attributed !== entry.layer) {
      issues.push({ path: [entry.file, 'layer', 'attributed_tensor'], message: `the index says layer ${JSON.stringify(entry.layer)}, the case file attributes to ${JSON.stringify(attributed)}` })
    }
  }
  return issues.length === 0 ? E.right(c) : E.left(invalidSpec(issues))
}

/**
 * A case file without a `constructor` key would otherwise read `Object` from the prototype (JSON
 * objects inherit `constructor`), which no codec accepts: treat the key as absent instead.
 */
const ownConstructor = (u: unknown): unknown =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && !Object.prototype.hasOwnProperty.call(u, 'constructor')
    ? { ...u, constructor: {} }
    : u

const asRecord = (u: unknown): Readonly<Record<string, unknown>> => u as Readonly<Record<string, unknown>>

/**
 * Reads one case of a fixture directory. `entry.file` is relative to its root; any other index
 * fields given (id, model, algorithm, family, kind, layer) are cross-checked against the file.
 */
export const loadCaseFrom = (
  files: ReferenceFiles,
  entry: Partial<CaseEntry> & Pick<CaseEntry, 'file'>,
): E.Either<InvalidSpec, ReferenceCase> => {
  const file = entry.file
  const reader = new TensorReader(files, file)
  return pipe(
    readJson(files, file),
    E.chain((u) => pipe(decodeWith(CaseFile, ownConstructor(u), [file]), E.map((c) => ({ c, u })))),
    E.chain(({ c, u }) => pipe(checkEntry(c, entry), E.map((c) => ({ c, u })))),
    E.chain(({ c, u }) => {
      const attribution = c.expected.attribution
      const attributionList = () =>
        Array.isArray(attribution)
        ? all(attribution.map((a, i) => reader.convert(a, ['expected', 'attribution', String(i)])))
        : pipe(reader.convert(attribution, ['expected', 'attribution']), E.map((a) => [a]))
      const explanation = (e: Explanation | undefined) =>
        e === undefined
          ? E.right(undefined)
          : pipe(
              reader.deep(e.args ?? {}, ['explanation', 'args']),
              E.map((args) => ({ algorithm: e.algorithm, args: asRecord(args) })),
            )
      return pipe(
        E.Do,
        E.bind('inputs', () => all(c.inputs.map((x, i) => reader.convert(x, ['inputs', String(i)])))),
        E.bind('args', () => reader.deep(c.args, ['args'])),
        E.bind('attributions', attributionList),
        E.bind('convergenceDelta', () => reader.optional(c.expected.convergence_delta, ['expected', 'convergence_delta'])),
        E.bind('modelOutput', () => reader.optional(c.model_output, ['model_output'])),
        E.bind('captumSample', () => reader.optional(c.captum_sample, ['captum_sample'])),
        E.bind('standardError', () => reader.optional(c.standard_error, ['standard_error'])),
        E.bind('perSampleStd', () => reader.optional(c.per_sample_std, ['per_sample_std'])),
        E.bind('explanation', () => explanation(c.explanation)),
        E.bind('wave2', () => (c.area === undefined ? E.right({}) : reader.deep(u, []))),
        E.map((r): ReferenceCase => ({
          file,
          id: c.id,
          model: c.model,
          algorithm: c.algorithm,
          family: c.family,
          kind: c.kind,
          constructorArgs: c.constructor ?? {},
          layer: c.layer ?? null,
          inputs: r.inputs,
          inputNames: c.inputs.map((x) => x.name ?? ''),
          args: asRecord(r.args),
          expected: {
            attribution: Array.isArray(attribution) ? r.attributions : (r.attributions[0] as HostTensor),
            attributions: r.attributions,
            ...(r.convergenceDelta !== undefined ? { convergenceDelta: r.convergenceDelta } : {}),
          },
          ...(r.modelOutput !== undefined ? { modelOutput: r.modelOutput } : {}),
          tolerance: c.tolerance,
          ...(c.delta_tolerance !== undefined ? { deltaTolerance: c.delta_tolerance } : {}),
          ...(c.sampling_tolerance !== undefined ? { samplingTolerance: c.sampling_tolerance } : {}),
          ...(r.captumSample !== undefined ? { captumSample: r.captumSample } : {}),
          ...(r.standardError !== undefined ? { standardError: r.standardError } : {}),
          ...(r.perSampleStd !== undefined ? { perSampleStd: r.perSampleStd } : {}),
          ...(r.explanation !== undefined ? { explanation: r.explanation } : {}),
          json: c,
          ...(c.area !== undefined ? { area: c.area } : {}),
          wave2: asRecord(r.wave2),
        })),
      )
    }),
  )
}

/** The tokenizer JSON file `rel` of the fixture directory, loaded ({@link loadTokenizer}). */
export const tokenizerOf = (ref: ReferenceDir, rel: string): E.Either<AttributionError, Tokenizer> =>
  pipe(readJson(ref.files, rel), E.mapLeft((e): AttributionError => e), E.chain(loadTokenizer))
