/**
 * Fixture directories on disk (Node): the file reader the conformance runner uses under Node, and
 * the path-taking forms of the loaders. The loaders themselves (`load.ts`) read through a
 * {@link ReferenceFiles}, so a browser page can run the same cases from fetched files.
 *
 * @category conformance
 * @since 0.1.0
 */
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { AttributionError, InvalidSpec } from '../core/errors.js'
import type { CaseEntry } from './format.js'
import { loadCaseFrom, loadReference, type ReferenceCase, type ReferenceDir, type ReferenceFiles } from './load.js'
import { modelFile, runReference, type ConformanceReport, type ConformanceTarget, type RunConformanceOptions } from './runner.js'

/** The files of the directory `dir` on disk. */
export const directoryFiles = (dir: string): ReferenceFiles => {
  const root = path.resolve(dir)
  return { root, readBytes: (rel) => new Uint8Array(readFileSync(path.resolve(root, rel))) }
}

/** Reads and decodes `index.json` of `dir`; the cases are listed, not read. */
export const loadReferenceDir = (dir: string): E.Either<InvalidSpec, ReferenceDir> => loadReference(directoryFiles(dir))

/**
 * Reads one case of the fixture directory `dir`. `entry.file` is relative to `dir`; any other index
 * fields given (id, model, algorithm, family, kind, layer) are cross-checked against the file.
 */
export const loadCase = (dir: string, entry: Partial<CaseEntry> & Pick<CaseEntry, 'file'>): E.Either<InvalidSpec, ReferenceCase> =>
  loadCaseFrom(directoryFiles(dir), entry)

/** The model file of a reference model, resolved against the directory. */
export const modelPath = (ref: ReferenceDir, model: string): string | undefined => {
  const f = modelFile(ref, model)
  return f === undefined ? undefined : path.resolve(ref.dir, f)
}

/**
 * Runs every case of the fixture directory `dir` on disk (see {@link runReference}; optionally only
 * ids matching `options.filter`); an `InvalidSpec` when its index cannot be read.
 */
export const runConformance = async <T>(dir: string, target: ConformanceTarget<T>, options: RunConformanceOptions = {}): Promise<E.Either<AttributionError, ConformanceReport>> => {
  const ref = loadReferenceDir(dir)
  return E.isLeft(ref) ? ref : runReference(ref.right, target, options)
}
