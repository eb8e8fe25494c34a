/**
 * `clarus/serve`: the HTTP explanation service (`createServer`, used by `clarus serve`). A separate
 * entry point so that `import 'clarus'` never loads Fastify; install `fastify` (5.x) to use it.
 *
 * @category serve
 * @since 0.6.0
 */
export { createServer } from './server.js'
export { decodeServeOptions, SERVE_DEFAULTS, ServeOptions, type ResolvedServeOptions } from './options.js'
export { ExplainRequest, JsonTensor, type RequestIssue } from './request.js'
export { type JobsOptions, type JobStatus } from './jobs.js'
export { JobRequest, JobDataFile, JobDataExamples, JobExample } from './jobRequest.js'
