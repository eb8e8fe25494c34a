#!/usr/bin/env node
/**
 * The `clarus` command line:
 *
 *   clarus explain <model> --input <file> --method <name> …   attributions, pictures and a report
 *   clarus methods                                            the registered methods and their options
 *   clarus layers <model>                                     a model's layer names (for layer methods)
 *   clarus describe <spec.json>                               validate and print a spec
 *   clarus explain-dataset <job.json> --data … --out …          a whole dataset, streamed to JSONL or binary
 *   clarus serve --models <dir> …                             an HTTP explanation service
 *   clarus worker --redis <url> …                             a queue worker for the BullMQ executor
 *
 * Exit codes: 0 success, 1 the run failed, 2 bad usage or input (the message names the field or
 * file), 130 cancelled with Ctrl-C. Messages go to stderr, listings to stdout.
 *
 * @category cli
 * @since 0.2.0
 */
import { realpathSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { layersOf } from '../api/layers.js'
import { describe } from '../dsl/spec.js'
import { decodePreprocessing } from '../viz/preprocess.js'
import * as E from 'fp-ts/lib/Either.js'
import { CliError, parseArgs } from './args.js'
import { EXPLAIN_USAGE, explain } from './explain.js'
import { readJson } from './files.js'
import { loadModel } from './models.js'
import type { TextSink } from './progress.js'
import { SERVE_USAGE, serve } from './serve.js'
import { DATASET_USAGE, explainDataset } from './dataset.js'
import { methodRows, resolveSpecFile } from './spec.js'
import { WORKER_USAGE, worker } from './worker.js'

export const USAGE = `usage:
  ${EXPLAIN_USAGE}
  clarus methods [--json]
  clarus layers <model.onnx | model.json>
  clarus describe <spec.json>
  ${SERVE_USAGE}
  ${DATASET_USAGE}
  ${WORKER_USAGE}`

/** `clarus methods`: one block per method (Captum name, family, options), or JSON. */
const methods = (argv: readonly string[], out: TextSink): void => {
  const a = parseArgs(argv, [], ['json'])
  if (a.positionals.length > 0) throw new CliError('methods takes no arguments')
  const rows = methodRows()
  if (a.switches.has('json')) {
    out.write(`${JSON.stringify(rows, null, 1)}\n`)
    return
  }
  for (const r of rows) {
    out.write(`${r.name}  (Captum ${r.captumName}; ${r.family}${r.stochastic ? ', stochastic' : ''}${r.convergenceDelta ? ', convergence delta' : ''})\n`)
    for (const o of r.options) out.write(`    ${o.name}${o.required ? '' : '?'}: ${o.type}\n`)
  }
}

/** `clarus layers <model>`: name, op type, per-example shape and layout of every layer. */
const layers = async (argv: readonly string[], out: TextSink): Promise<void> => {
  const a = parseArgs(argv, [])
  if (a.positionals.length !== 1) throw new CliError('layers takes one model file: clarus layers <model.onnx | model.json>')
  const loaded = await loadModel(a.positionals[0]!)
  const model = loaded.model
  try {
    const sig = model.signature
    out.write(`inputs:  ${sig.inputs.map((i) => `${i.name} ${i.dtype} [${i.shape.map((d) => d ?? '?').join(', ')}]`).join('; ')}\n`)
    out.write(`outputs: ${sig.outputs.map((i) => `${i.name} ${i.dtype} [${i.shape.map((d) => d ?? '?').join(', ')}]`).join('; ')}\n`)
    out.write(`${sig.layers.length} layers:\n`)
    for (const l of layersOf(model)) out.write(`  ${l.name}  ${l.opType}${l.shape ? ` [${l.shape.map((d) => d ?? '?').join(', ')}]` : ''}${l.layout !== 'other' ? ` ${l.layout}` : ''}\n`)
  } finally {
    await loaded.release()
  }
}

/** `clarus describe <spec.json>`: validates, then prints the pipeline (and the preprocessing, if any). */
const describeSpec = (argv: readonly string[], out: TextSink): void => {
  const a = parseArgs(argv, [])
  if (a.positionals.length !== 1) throw new CliError('describe takes one spec file: clarus describe <spec.json>')
  const file = a.positionals[0]!
  const spec = resolveSpecFile(readJson(file, 'spec'), file)
  out.write(`${describe(spec.pipeline)}\n`)
  if (spec.preprocess !== undefined) {
    const p = decodePreprocessing(spec.preprocess)
    if (E.isRight(p)) out.write(`preprocess: ${JSON.stringify(p.right)}\n`)
  }
}

/** Runs the command line; returns the exit code (never calls process.exit itself). */
export const main = async (argv: readonly string[], out: TextSink = process.stdout, err: TextSink = process.stderr): Promise<number> => {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'explain':
        await explain(rest, err)
        return 0
      case 'methods':
        methods(rest, out)
        return 0
      case 'layers':
        await layers(rest, out)
        return 0
      case 'describe':
        describeSpec(rest, out)
        return 0
      case 'explain-dataset':
        err.write(`${await explainDataset(rest, err)}\n`)
        return 0
      case 'serve':
        await serve(rest, err)
        return 0
      case 'worker':
        await worker(rest, err)
        return 0
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.write(`${USAGE}\n`)
        return cmd === undefined ? 2 : 0
      default:
        throw new CliError(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`)
    }
  } catch (e) {
    if (e instanceof CliError) {
      err.write(`clarus: ${e.message}\n`)
      return e.code
    }
    err.write(`clarus: unexpected failure: ${(e as Error).stack ?? String(e)}\n`)
    return 1
  }
}

// Run when executed directly (node dist/cli/clarus.js, tsx src/cli/clarus.ts), not when imported.
// An npm bin is a symlink (or a shim without extension): compare real paths, extensions dropped.
const stem = (p: string): string => p.replace(/\.[cm]?[jt]s$/, '')
const invoked = ((): string | undefined => {
  const arg = process.argv[1]
  if (arg === undefined) return undefined
  try {
    return realpathSync(path.resolve(arg))
  } catch {
    return path.resolve(arg)
  }
})()
if (invoked !== undefined && stem(invoked) === stem(realpathSync(fileURLToPath(import.meta.url)))) {
  process.exitCode = await main(process.argv.slice(2))
}
