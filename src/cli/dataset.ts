/**
 * `clarus explain-dataset <job.json> --data <dir | file.csv | file.jsonl> --out <results>`: explains
 * every example of a dataset with the job's method and model, streaming results to JSONL (or
 * binary) as they complete, on this process, a pool of worker threads, or queue workers on Redis.
 *
 * @category cli
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { statSync } from 'node:fs'
import * as path from 'node:path'
import { decodeJob } from '../scale/job.js'
import { runJob, type Dataset, type Executor } from '../scale/executor.js'
import { inProcessExecutor } from '../scale/inProcess.js'
import { threadPoolExecutor } from '../scale/pool.js'
import { binarySink, jsonlSink, type ResultSink } from '../scale/sinks.js'
import { csvSource, imageDirectorySource, jsonlSource, SourceError } from '../scale/sources.js'
import { CliError, parseArgs, queueExecutor, redisUrl, wholeFlag } from './args.js'
import { readJson } from './files.js'
import { loadModel } from './models.js'
import { progressSink, type TextSink } from './progress.js'
import { errorText } from './spec.js'

export const DATASET_USAGE = `clarus explain-dataset <job.json> --data <images/ | rows.csv | examples.jsonl> --out <results.jsonl | dir/>
    [--format jsonl | binary] [--executor in-process | threads | redis] [--workers N] [--threads N] [--redis URL]
    [--csv-target <column>] [--csv-id <column>] [--preprocess <file.json>] [--progress]`

/** Opens `--data` by what it is: a directory of images, a .csv or a .jsonl file. */
const openData = async (data: string, model: string, a: { csvTarget?: string; csvId?: string; preprocess?: unknown }): Promise<Dataset> => {
  let isDir: boolean
  try {
    isDir = statSync(data).isDirectory()
  } catch {
    throw new CliError(`--data ${data} does not exist`)
  }
  if (isDir) {
    // the model's declared input shape sets the images' size and layout, as in `clarus explain`
    const loaded = await loadModel(model)
    const info = loaded.model.signature.inputs[0]
    await loaded.release()
    return imageDirectorySource(data, info, a.preprocess ?? {})
  }
  if (/\.csv$/i.test(data)) return csvSource(data, { ...(a.csvTarget !== undefined ? { target: a.csvTarget } : {}), ...(a.csvId !== undefined ? { id: a.csvId } : {}) })
  if (/\.jsonl$/i.test(data)) return jsonlSource(data)
  throw new CliError(`--data ${data}: give a directory of images, a .csv file or a .jsonl file`)
}

/** Runs the command; returns a one-line summary for stderr. */
export const explainDataset = async (argv: readonly string[], err: TextSink = process.stderr): Promise<string> => {
  const a = parseArgs(argv, ['data', 'out', 'format', 'executor', 'workers', 'threads', 'redis', 'csv-target', 'csv-id', 'preprocess'], ['progress'])
  if (a.positionals.length !== 1) throw new CliError(`explain-dataset takes one job file\n\nusage: ${DATASET_USAGE}`)
  const jobFile = a.positionals[0]!
  const { data, out } = a.flags
  if (data === undefined || out === undefined) throw new CliError(`explain-dataset needs --data and --out\n\nusage: ${DATASET_USAGE}`)
  const format = a.flags.format ?? (out.endsWith('.jsonl') ? 'jsonl' : 'binary')
  if (format !== 'jsonl' && format !== 'binary') throw new CliError(`--format must be jsonl or binary, got ${JSON.stringify(format)}`)
  const executorName = a.flags.executor ?? (a.flags.redis !== undefined ? 'redis' : 'in-process')
  const workers = wholeFlag(a.flags, 'workers')
  const threads = wholeFlag(a.flags, 'threads')
  if (executorName !== 'redis' && a.flags.redis !== undefined) throw new CliError('--redis goes with --executor redis')
  if (executorName === 'redis' && a.flags.redis === undefined) throw new CliError('--executor redis needs --redis <url> (e.g. redis://127.0.0.1:6379) where `clarus worker` processes take tasks')
  // the job file is read relative to where it lies (its model path too)
  const raw = readJson(jobFile, 'job')
  const withModel = typeof raw === 'object' && raw !== null && typeof (raw as { model?: unknown }).model === 'string'
    ? { ...(raw as Record<string, unknown>), model: path.resolve(path.dirname(jobFile), (raw as { model: string }).model) }
    : raw
  const job = decodeJob(withModel)
  if (E.isLeft(job)) throw new CliError(`job ${jobFile} is not valid:\n${errorText(job.left)}`)
  let executor: Executor
  if (executorName === 'in-process') executor = inProcessExecutor(threads !== undefined ? { threads } : {})
  else if (executorName === 'threads') executor = threadPoolExecutor({ ...(workers !== undefined ? { workers } : {}), ...(threads !== undefined ? { threads } : {}) })
  else if (executorName === 'redis') executor = await queueExecutor(redisUrl(a.flags.redis!), workers !== undefined ? { workers } : {})
  else throw new CliError(`--executor must be in-process, threads or redis, got ${JSON.stringify(executorName)}`)
  const preprocess = a.flags.preprocess !== undefined ? readJson(a.flags.preprocess, 'preprocessing spec') : undefined
  let sink: ResultSink | undefined
  const ctl = new AbortController()
  const onSigint = (): void => ctl.abort()
  process.once('SIGINT', onSigint)
  try {
    let dataset: Dataset
    try {
      dataset = await openData(data, job.right.spec.model, { ...(a.flags['csv-target'] !== undefined ? { csvTarget: a.flags['csv-target'] } : {}), ...(a.flags['csv-id'] !== undefined ? { csvId: a.flags['csv-id'] } : {}), preprocess })
    } catch (e) {
      if (e instanceof SourceError) throw new CliError(e.message)
      throw e
    }
    sink = format === 'jsonl' ? jsonlSink(out) : binarySink(out)
    const bar = a.switches.has('progress') ? progressSink(err, true, 'examples') : undefined
    const r = await runJob(executor, withModel, dataset, sink.write, {
      signal: ctl.signal,
      ...(bar !== undefined ? { onProgress: (p) => bar.update({ done: p.done, total: p.total ?? p.done }) } : {}),
    })
    bar?.done()
    if (E.isLeft(r)) throw new CliError(r.left._tag === 'Cancelled' ? 'cancelled' : `the job failed:\n${errorText(r.left)}`, r.left._tag === 'Cancelled' ? 130 : 1)
    const s = r.right
    return `${s.examples} examples (${s.failed} failed) in ${s.seconds.toFixed(1)} s on ${executor.name}: ${s.units} units, ${s.tasks} tasks, ${s.modelRows} model rows → ${out}`
  } finally {
    process.off('SIGINT', onSigint)
    await sink?.close()
    await executor.close()
  }
}
