/**
 * `clarus/scale`: explaining whole datasets, in this process, on a pool of worker threads, or on
 * queue workers across machines (BullMQ on Redis), with the same results everywhere.
 *
 * ```ts
 * const ex = threadPoolExecutor({ workers: 4 })
 * const out = jsonlSink('results.jsonl')
 * await runJob(ex, { spec: { method: 'integratedGradients' }, model: 'model.onnx', target: 3 }, await csvSource('rows.csv'), out.write)
 * await out.close(); await ex.close()
 * ```
 *
 * @category scale
 * @since 0.6.0
 */
export { JobSpec, decodeJob, resolvePipeline, DEFAULT_EXAMPLES_PER_TASK, type Job, type Example, type Unit, type Task, type TaskOutcome, type UnitAttributions } from './job.js'
export { runJob, stackUnit, unitByTasks, type Executor, type ExampleResult, type JobProgress, type JobSummary, type Dataset, type RunJobOptions } from './executor.js'
export { runTask, unitExpansion } from './task.js'
export { inProcessExecutor } from './inProcess.js'
export { threadPoolExecutor, type ThreadPoolOptions } from './pool.js'
export { modelCache, type ModelCache } from './models.js'
export type { LoadOptions, LoadedModel } from '../cli/models.js'
export type { ExpansionSize, SpanPartial } from '../dsl/run.js'
export type { PartialResult, PartialTensor, Float64Tensor, Json } from '../dsl/partial.js'
export type { Space } from '../dsl/flow.js'
export { csvSource, jsonlSource, imageDirectorySource, SourceError, type CsvOptions } from './sources.js'
export { jsonlSink, binarySink, type ResultSink } from './sinks.js'
