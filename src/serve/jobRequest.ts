/**
 * The body of `POST /jobs` as io-ts codecs, and its preparation into a job the service can run: the
 * model name resolved inside the models folder, JSON tensors turned into host tensors, the dataset
 * (a file or folder inside the datasets folder, or examples given inline) opened once to check it
 * and read its first example, and the work limits of `POST /explain` checked against it. Every
 * problem is an issue with the dotted path of the field at fault (`job.spec.options.nSteps`,
 * `data.examples.3.inputs.0.shape`), all of them at once.
 *
 * @category serve
 * @since 0.6.0
 */
import { realpathSync, statSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { CliError } from '../cli/args.js'
import type { ResolvedSpec } from '../cli/spec.js'
import { decodeWith, Integer } from '../core/codecs.js'
import type { AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { Dataset } from '../scale/executor.js'
import { decodeJob, JobSpec, type Example } from '../scale/job.js'
import { csvSource, imageDirectorySource, jsonlSource, SourceError } from '../scale/sources.js'
import { limitIssues, type WorkLimits } from './limits.js'
import type { ModelCache } from './modelCache.js'
import { fromJsonTensor, issuesOf, JsonTensor, type RequestIssue } from './request.js'
import { resolveRequestSpec } from './spec.js'

/**
 * A dataset inside the server's datasets folder: a `.csv` file (a header row, one example per row),
 * a `.jsonl` file (one example per line) or a folder of PNG/JPEG images.
 *
 * - `csvTarget`, `csvId`: the CSV columns holding each row's target class and name.
 * - `preprocess`: how images are resized and normalised (as `clarus explain --preprocess`).
 *
 * @category serve
 * @since 0.6.0
 */
export const JobDataFile = t.intersection([
  t.type({ file: t.string }),
  t.partial({ csvTarget: t.string, csvId: t.string, preprocess: t.UnknownRecord }),
], 'JobDataFile')

/**
 * One example given inline: one JSON tensor per model input (`[1, …]` each), and optionally its
 * own target and a name carried into the results.
 *
 * @category serve
 * @since 0.6.0
 */
export const JobExample = t.intersection([
  t.type({ inputs: t.readonlyArray(JsonTensor) }),
  t.partial({ target: t.union([Integer, t.readonlyArray(Integer)]), id: t.string }),
], 'JobExample')

/**
 * Examples given in the request body (bounded by the server's body limit).
 *
 * @category serve
 * @since 0.6.0
 */
export const JobDataExamples = t.type({ examples: t.readonlyArray(JobExample) }, 'JobDataExamples')

/**
 * The body of `POST /jobs`: `job` is a `JobSpec` of `clarus/scale` (`spec`, `model`, `target`,
 * `baselines`, `featureMask`, `seed`, `examplesPerTask`, `entriesPerTask`, …) whose `model` is a
 * file name inside the server's models folder and whose tensors are JSON tensors; `data` names a
 * dataset file or gives the examples inline.
 *
 * @category serve
 * @since 0.6.0
 */
export const JobRequest = t.type({
  job: t.UnknownRecord,
  data: t.union([JobDataFile, JobDataExamples]),
}, 'JobRequest')

/**
 * @category serve
 * @since 0.6.0
 */
export type JobRequest = t.TypeOf<typeof JobRequest>

/** The JobSpec's own fields, read off its codec so that the two cannot drift apart. */
const JOB_FIELDS = JobSpec.type.types.flatMap((c) => Object.keys(c.props))
const FILE_FIELDS = ['file', 'csvTarget', 'csvId', 'preprocess']

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

const unknownFields = (o: Readonly<Record<string, unknown>>, known: readonly string[], root: string, what: string): RequestIssue[] =>
  Object.keys(o).filter((k) => !known.includes(k)).map((k) => ({ path: `${root}${k}`, message: `not a field of ${what} (fields: ${known.join(', ')})` }))

/**
 * Decodes a `POST /jobs` body: every structural problem, unknown fields included (a typo would
 * otherwise be ignored silently). The job itself is checked by {@link prepareJob}.
 *
 * @internal
 */
export const decodeJobRequest = (u: unknown): E.Either<RequestIssue[], JobRequest> => {
  if (!isRecord(u)) {
    return E.left([{ path: '<root>', message: `the body must be a JSON object { "job": {…}, "data": {…} }, got ${u === null ? 'null' : Array.isArray(u) ? 'an array' : typeof u}` }])
  }
  const issues = unknownFields(u, ['job', 'data'], '', 'the request')
  const job = decodeWith(t.UnknownRecord, u.job, ['job'])
  if (E.isLeft(job)) issues.push(...issuesOf(job.left))
  const data = u.data
  // The two shapes of `data` are told apart by their key, so each problem is reported once, against the shape meant.
  if (!isRecord(data)) issues.push({ path: 'data', message: 'give { "file": "<name in the datasets folder>" } or { "examples": [{ "inputs": [<JSON tensor>, …] }, …] }' })
  else if ('examples' in data) {
    const d = decodeWith(JobDataExamples, data, ['data'])
    if (E.isLeft(d)) issues.push(...issuesOf(d.left))
    else if (d.right.examples.length === 0) issues.push({ path: 'data.examples', message: 'give at least one example' })
    issues.push(...unknownFields(data, ['examples'], 'data.', 'inline data'))
  } else {
    const d = decodeWith(JobDataFile, data, ['data'])
    if (E.isLeft(d)) issues.push(...issuesOf(d.left))
    issues.push(...unknownFields(data, FILE_FIELDS, 'data.', 'a dataset file'))
  }
  return issues.length > 0 ? E.left(issues) : E.right(u as JobRequest)
}

/**
 * Why a job cannot be accepted: 400 with issues, 404 for a model or dataset that is not there, 500
 * for a model file that does not load.
 *
 * @internal
 */
export type JobRefusal =
  | { readonly status: 400; readonly issues: readonly RequestIssue[] }
  | { readonly status: 404 | 500; readonly error: 'UnknownModel' | 'UnknownDataset' | 'BadModel'; readonly message: string; readonly path: string }

/**
 * A job ready to run: the spec `runJob` takes (model as the real path, tensors as host tensors) and
 * a way to open its dataset afresh.
 *
 * @internal
 */
export interface PreparedJob {
  readonly spec: Readonly<Record<string, unknown>>
  /** Examples in the dataset. */
  readonly size: number
  /** Where the examples come from, for messages (`rows.csv`, `inline`). */
  readonly source: string
  readonly open: () => Promise<Dataset>
}

/**
 * What preparing a job needs from the server: its models folder and work limits, and the datasets folder.
 *
 * @internal
 */
export interface JobContext {
  readonly models: ModelCache
  readonly limits: WorkLimits
  /** The real path of the datasets folder. */
  readonly datasets: string
}

const prefixed = (root: string, issues: readonly RequestIssue[]): RequestIssue[] =>
  issues.map((i) => ({ path: i.path === '<root>' ? root : `${root}.${i.path}`, message: i.message }))

const errorIssues = (e: AttributionError): RequestIssue[] =>
  e._tag === 'InvalidSpec' ? issuesOf(e) : [{ path: e.path.join('.') || '<root>', message: e.message }]

/** A JSON tensor field (or list of them) as host tensors; issues at `root`. */
const tensorsAt = (u: unknown, root: string, issues: RequestIssue[]): HostTensor[] | undefined => {
  const list = Array.isArray(u) ? (u as unknown[]) : [u]
  const out: HostTensor[] = []
  list.forEach((v, i) => {
    const at = Array.isArray(u) ? `${root}.${i}` : root
    const j = decodeWith(JsonTensor, v)
    if (E.isLeft(j)) return void issues.push(...prefixed(at, issuesOf(j.left)))
    const h = fromJsonTensor(j.right, at)
    if (E.isLeft(h)) issues.push(...h.left)
    else out.push(h.right)
  })
  return out.length === list.length ? out : undefined
}

/** A dataset name inside the datasets folder, as its real path, or why not. */
const resolveDataset = (root: string, name: string): { readonly file: string; readonly dir: boolean } | JobRefusal => {
  const refuse = (message: string): JobRefusal => ({ status: 400, issues: [{ path: 'data.file', message }] })
  if (name === '' || name.includes('\0')) return refuse('give a file or folder name inside the datasets folder, e.g. "rows.csv"')
  if (path.isAbsolute(name) || path.win32.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    return refuse(`${JSON.stringify(name)} is not a name inside the datasets folder; give a relative name without ".." (e.g. "rows.csv")`)
  }
  let real: string
  let dir: boolean
  try {
    real = realpathSync(path.resolve(root, name))
    dir = statSync(real).isDirectory()
  } catch {
    return { status: 404, error: 'UnknownDataset', message: `there is no dataset ${JSON.stringify(name)} in the datasets folder`, path: 'data.file' }
  }
  const rel = path.relative(root, real)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return refuse(`${JSON.stringify(name)} points outside the datasets folder`)
  if (!dir && !/\.(csv|jsonl)$/i.test(real)) return refuse(`${JSON.stringify(name)} is not a dataset: give a .csv file, a .jsonl file or a folder of images`)
  return { file: real, dir }
}

/** The first example of a dataset (its iterator is closed again: the job reopens the source). */
const firstExample = async (d: Dataset): Promise<Example | undefined> => {
  const it = Symbol.asyncIterator in d.examples ? d.examples[Symbol.asyncIterator]() : d.examples[Symbol.iterator]()
  try {
    const r = await it.next()
    return r.done === true ? undefined : r.value
  } finally {
    await it.return?.()
  }
}

/** The path in the request of a source's error (a missing CSV column, a bad line). */
const sourcePath = (e: AttributionError): string =>
  e.path[1] === 'target' ? 'data.csvTarget' : e.path[1] === 'id' ? 'data.csvId' : 'data.file'

/** Opens a dataset file the way its kind needs (images are sized for the model's first input). */
const fileOpener = async (
  req: Extract<JobRequest['data'], { file: string }>, where: { file: string; dir: boolean }, model: string | undefined, ctx: JobContext,
): Promise<(() => Promise<Dataset>) | JobRefusal> => {
  const misplaced = (field: 'csvTarget' | 'csvId' | 'preprocess', kind: string): RequestIssue[] =>
    req[field] !== undefined ? [{ path: `data.${field}`, message: `applies to ${kind} only; ${JSON.stringify(req.file)} is not one` }] : []
  const isCsv = !where.dir && /\.csv$/i.test(where.file)
  const issues = [
    ...(isCsv ? [] : [...misplaced('csvTarget', 'CSV files'), ...misplaced('csvId', 'CSV files')]),
    ...(where.dir ? [] : misplaced('preprocess', 'image folders')),
  ]
  if (issues.length > 0) return { status: 400, issues }
  if (isCsv) return () => csvSource(where.file, { ...(req.csvTarget !== undefined ? { target: req.csvTarget } : {}), ...(req.csvId !== undefined ? { id: req.csvId } : {}) })
  if (!where.dir) return () => jsonlSource(where.file)
  // An image's size and layout come from the model's declared input: the model must load first
  // (a model that cannot be found is reported on job.model already).
  if (model === undefined) return { status: 400, issues: [] }
  try {
    const info = (await ctx.models.load(model)).model.signature.inputs[0]
    return () => Promise.resolve(imageDirectorySource(where.file, info, req.preprocess ?? {}))
  } catch (e) {
    if (!(e instanceof CliError)) throw e
    return { status: 500, error: 'BadModel', message: e.message, path: 'job.model' }
  }
}

/** Inline examples as host tensors, every problem with its path. */
const inlineExamples = (examples: readonly t.TypeOf<typeof JobExample>[], issues: RequestIssue[]): Example[] =>
  examples.flatMap((ex, i) => {
    const inputs = ex.inputs.flatMap((x, k) => {
      const at = `data.examples.${i}.inputs.${k}`
      if (x.shape[0] !== 1) {
        issues.push({ path: `${at}.shape`, message: `each example is one row: the shape must start with 1, got [${x.shape.join(', ')}]` })
        return []
      }
      const h = fromJsonTensor(x, at)
      if (E.isLeft(h)) issues.push(...h.left)
      return E.isRight(h) ? [h.right] : []
    })
    if (ex.inputs.length === 0) issues.push({ path: `data.examples.${i}.inputs`, message: 'give one tensor per model input' })
    return inputs.length === ex.inputs.length && inputs.length > 0
      ? [{ inputs, ...(ex.target !== undefined ? { target: ex.target } : {}), ...(ex.id !== undefined ? { id: ex.id } : {}) }]
      : []
  })

/**
 * Turns a decoded request into a job the service can run, or refuses it with every problem found:
 * the job spec (paths as `decodeJob` reports them, under `job`), the model name, the dataset, and
 * the work limits checked on the dataset's first example.
 *
 * @internal
 */
export const prepareJob = async (req: JobRequest, ctx: JobContext): Promise<E.Either<JobRefusal, PreparedJob>> => {
  let notFound: JobRefusal | undefined
  const job = req.job
  const issues: RequestIssue[] = unknownFields(job, JOB_FIELDS, 'job.', 'a job')

  // The spec resolved as /explain resolves it, for its finer paths (spec.method, spec.options.x) and the limits.
  let spec: ResolvedSpec | undefined
  if (isRecord(job.spec)) {
    const s = resolveRequestSpec(job.spec)
    if (E.isLeft(s)) issues.push(...prefixed('job', s.left))
    else spec = s.right
  } else issues.push({ path: 'job.spec', message: 'give { "method": <name>, "options": {…} } or a whole pipeline ({ "_tag": "Pipeline", … })' })
  const specReported = spec === undefined
  const featureMask = job.featureMask === undefined ? undefined : tensorsAt(job.featureMask, 'job.featureMask', issues)
  const mask = isRecord(job.target) && 'mask' in job.target ? tensorsAt(job.target.mask, 'job.target.mask', issues)?.[0] : undefined
  let model: string | undefined
  if (typeof job.model === 'string') {
    const where = ctx.models.resolve(job.model)
    if ('problem' in where) {
      const p = where.problem
      if (p.status === 400) issues.push({ path: 'job.model', message: p.message })
      else notFound = { status: 404, error: 'UnknownModel', message: p.message, path: 'job.model' }
    } else model = where.file
  }
  const jobSpec: Record<string, unknown> = {
    ...job,
    ...(model !== undefined ? { model } : {}),
    ...(featureMask !== undefined ? { featureMask } : {}),
    ...(mask !== undefined ? { target: { mask } } : {}),
  }
  const decoded = decodeJob(jobSpec)
  if (E.isLeft(decoded)) {
    // The spec's own problems were reported above with finer paths; the rest as decodeJob names them.
    const own = errorIssues(decoded.left).filter((i) => !(specReported && (i.path === 'spec' || i.path.startsWith('spec.'))))
    const tensorsBad = (p: string): boolean => (p.startsWith('featureMask') && job.featureMask !== undefined && featureMask === undefined) || (p.startsWith('target') && mask === undefined && isRecord(job.target) && 'mask' in job.target)
    issues.push(...prefixed('job', own.filter((i) => !tensorsBad(i.path))))
  }

  let open: (() => Promise<Dataset>) | undefined
  let size = 0
  let first: Example | undefined
  let source = 'inline'
  const data = req.data
  if ('examples' in data) {
    const examples = inlineExamples(data.examples, issues)
    size = examples.length
    first = examples[0]
    open = () => Promise.resolve({ size: examples.length, examples })
  } else {
    source = data.file
    const where = resolveDataset(ctx.datasets, data.file)
    if ('status' in where) {
      if (where.status === 400) issues.push(...where.issues)
      else notFound ??= where
    } else {
      const opener = await fileOpener(data, where, model, ctx)
      if (typeof opener !== 'function') {
        if (opener.status === 400) issues.push(...opener.issues)
        else notFound ??= opener
      } else {
        try {
          const d = await opener()
          size = d.size ?? 0
          first = await firstExample(d)
          if (first === undefined) issues.push({ path: 'data.file', message: `${JSON.stringify(data.file)} holds no examples` })
          open = opener
        } catch (e) {
          if (e instanceof SourceError) issues.push({ path: sourcePath(e.error), message: e.message })
          else if (e instanceof CliError) issues.push({ path: 'data.file', message: e.message })
          else throw e
        }
      }
    }
  }

  if (spec !== undefined && first !== undefined) {
    const over = limitIssues(spec, job.spec, ctx.limits, first.inputs, featureMask)
    // A perturbation count set by the inputs themselves is the dataset's doing.
    issues.push(...over.map((i) => (i.path === 'inputs' ? { ...i, path: 'data' } : { ...i, path: `job.${i.path}` })))
  }
  if (issues.length > 0) return E.left({ status: 400, issues })
  if (notFound !== undefined) return E.left(notFound)
  if (E.isLeft(decoded) || open === undefined) return E.left({ status: 400, issues: [{ path: '<root>', message: 'the job could not be prepared' }] })
  return E.right({ spec: jobSpec, size, source, open })
}
