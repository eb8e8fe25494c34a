/**
 * A request's `spec`, resolved exactly as `clarus explain --spec` resolves a spec file
 * (`resolveSpecFile`): a registered method with options, or a whole pipeline. The CLI reports
 * problems as text, one `  <path>: <message>` line per field (`errorText`); here those lines
 * become issues whose paths start at `spec`.
 *
 * @category serve
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { CliError } from '../cli/args.js'
import { resolveSpecFile, type ResolvedSpec } from '../cli/spec.js'
import type { RequestIssue } from './request.js'

const FIELD_LINE = /^ {2}([^\s:]+): (.*)$/

/**
 * The issues in a CLI spec message (a header line, then `  <path>: <message>` lines), rooted at `root`.
 *
 * @internal
 */
export const issuesFromText = (text: string, root: string): RequestIssue[] => {
  const issues: { path: string; message: string }[] = []
  const lines = text.split('\n')
  for (const line of lines.slice(1)) {
    const m = FIELD_LINE.exec(line)
    if (m !== null) issues.push({ path: m[1] === '<root>' ? root : `${root}.${m[1]}`, message: m[2]! })
    else if (issues.length > 0 && line.trim() !== '') issues[issues.length - 1]!.message += `\n${line.trim()}`
  }
  // A message without field lines is about the spec as a whole.
  return issues.length > 0 ? issues : [{ path: root, message: lines[0]! }]
}

/**
 * The request's spec resolved to a pipeline, or its issues (paths under `spec`).
 *
 * @internal
 */
export const resolveRequestSpec = (spec: Readonly<Record<string, unknown>>): E.Either<RequestIssue[], ResolvedSpec> => {
  let resolved: ResolvedSpec
  try {
    resolved = resolveSpecFile(spec, 'in the request')
  } catch (e) {
    if (!(e instanceof CliError)) throw e
    return E.left(issuesFromText(e.message, 'spec'))
  }
  if (resolved.preprocess !== undefined) {
    return E.left([{ path: 'spec.preprocess', message: 'the service takes tensors, not images: preprocess the input before sending it and leave preprocess out' }])
  }
  return E.right(resolved)
}
