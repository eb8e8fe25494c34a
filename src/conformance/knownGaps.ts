/**
 * Known gaps of the conformance run: cases a backend is known to fail, each with the reason, so
 * that the exit code of `npm run conformance` means "something new broke". The file is JSON,
 * `{ "<backend key>": { "<case id>": "why" } }`; a run on tfjs reads the keys `tfjs` (every tfjs
 * backend) and `tfjs-<backend>` (`tfjs-wasm`, …), a run on ONNX the key `onnx`.
 *
 * A failing case listed there counts as a known gap (printed `KNOWN-GAP`, exit code unaffected); a
 * listed case that now passes is reported, so the file can be pruned; any other failure sets exit
 * code 1.
 *
 * @category conformance
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith } from '../core/codecs.js'
import { invalidSpec, type AttributionError } from '../core/errors.js'
import type { CaseReport, ConformanceReport } from './runner.js'

/** The file's content: backend key → case id → reason. */
export const KnownGapsFile = t.record(t.string, t.record(t.string, t.string))
export type KnownGapsFile = t.TypeOf<typeof KnownGapsFile>

/** The file name `npm run conformance` reads by default, at the repository root. */
export const KNOWN_GAPS_FILE = 'conformance-known-gaps.json'

/** The keys of the file that apply to a run: `onnx` (and `onnx-<device>` on another device), or `tfjs` and `tfjs-<tfjs backend>`. */
export const gapKeys = (backend: string, tfjsBackend?: string): readonly string[] =>
  backend === 'tfjs' ? ['tfjs', ...(tfjsBackend !== undefined ? [`tfjs-${tfjsBackend}`] : [])]
    // the ONNX gaps hold on every device, plus the device's own
    : backend.startsWith('onnx-') ? ['onnx', backend]
      : [backend]

/** Case id → reason for the given keys (a later key wins on a shared id). */
export const gapsFor = (file: KnownGapsFile, keys: readonly string[]): Readonly<Record<string, string>> =>
  Object.assign({}, ...keys.map((k) => file[k] ?? {})) as Record<string, string>

/** Decodes the text of a known-gaps file (`source` names it in errors). */
export const parseKnownGaps = (text: string, source: string): E.Either<AttributionError, KnownGapsFile> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(invalidSpec([{ path: ['knownGaps'], message: `${source} is not valid JSON (${e instanceof Error ? e.message : String(e)}); it holds { "<backend>": { "<case id>": "why" } }` }]))
  }
  return decodeWith(KnownGapsFile, json, ['knownGaps'])
}

/** What a run means once its known gaps are taken out. */
export interface GapVerdict {
  /** Failures not listed as known gaps: these set the exit code. */
  readonly newFailures: readonly CaseReport[]
  /** Listed cases that failed, as expected, with their reasons. */
  readonly knownGaps: readonly (CaseReport & { readonly reason: string })[]
  /** Listed cases that passed: the entry can be removed. */
  readonly nowPassing: readonly string[]
  /** 1 when there is a new failure, else 0. */
  readonly exitCode: 0 | 1
}

/** Splits the failures of `report` into known gaps and new failures (see the module doc). */
export const verdict = (report: ConformanceReport, gaps: Readonly<Record<string, string>>): GapVerdict => {
  const reasonOf = (id: string): string | undefined => (Object.prototype.hasOwnProperty.call(gaps, id) ? gaps[id] : undefined)
  const failed = report.cases.filter((c) => c.status === 'fail')
  const newFailures = failed.filter((c) => reasonOf(c.id) === undefined)
  const knownGaps = failed.flatMap((c) => {
    const reason = reasonOf(c.id)
    return reason === undefined ? [] : [{ ...c, reason }]
  })
  const nowPassing = report.cases.filter((c) => c.status === 'pass' && reasonOf(c.id) !== undefined).map((c) => c.id)
  return { newFailures, knownGaps, nowPassing, exitCode: newFailures.length > 0 ? 1 : 0 }
}

/** The status word a case's log line starts with: `KNOWN-GAP` for a listed failure. */
export const statusLabel = (r: Pick<CaseReport, 'id' | 'status'>, gaps: Readonly<Record<string, string>>): string =>
  r.status === 'fail' && Object.prototype.hasOwnProperty.call(gaps, r.id) ? 'KNOWN-GAP' : r.status.toUpperCase()

/** The closing lines of a run: the counts, then each known gap that now passes. */
export const summaryLines = (report: ConformanceReport, v: GapVerdict, file: string): string[] => [
  `${report.passed} passed, ${v.newFailures.length} failed, ${v.knownGaps.length} known gap${v.knownGaps.length === 1 ? '' : 's'}, ${report.unsupported} unsupported`,
  ...v.nowPassing.map((id) => `known gap ${id} now passes: remove it from ${file}`),
]
