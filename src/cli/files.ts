/**
 * File handling for the CLI: reading JSON with messages that name the file, and writing a set of
 * output files all-or-nothing (each written under a temporary name, then renamed; on any failure
 * the temporaries are removed and no output file is touched).
 *
 * @category cli
 * @since 0.2.0
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { CliError } from './args.js'

/** The bytes of `file`, or a CliError saying it cannot be read. */
export const readBytes = (file: string, what: string): Buffer => {
  try {
    return readFileSync(file)
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
  }
}

/** Parsed JSON of `file`, or a CliError naming the file and the syntax error. */
export const readJson = (file: string, what: string): unknown => {
  const text = readBytes(file, what).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new CliError(`${what} ${file} is not valid JSON: ${(e as Error).message}`)
  }
}

/**
 * Writes every file into `dir` (created if needed) or none: all contents go to temporary names
 * first; only when all are written are they renamed into place. Returns the final paths.
 */
export const writeAll = (dir: string, files: ReadonlyMap<string, string | Uint8Array>): string[] => {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (e) {
    throw new CliError(`cannot create the output folder ${dir}: ${(e as Error).message}`, 1)
  }
  // A folder in the way would make a rename fail halfway; refuse before writing anything.
  const blocked = [...files.keys()].filter((name) => statSync(path.join(dir, name), { throwIfNoEntry: false })?.isDirectory() === true)
  if (blocked.length > 0) throw new CliError(`cannot write ${blocked.join(', ')} in ${dir}: a folder of that name is in the way; nothing was written`, 1)
  const tag = `.clarus-tmp-${process.pid}-${Date.now()}`
  const temps: string[] = []
  try {
    for (const [name, content] of files) {
      const tmp = path.join(dir, `${name}${tag}`)
      temps.push(tmp)
      writeFileSync(tmp, content)
    }
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true })
    throw new CliError(`cannot write the outputs to ${dir}: ${(e as Error).message}; nothing was written`, 1)
  }
  const finals = [...files.keys()].map((name) => path.join(dir, name))
  temps.forEach((t, i) => renameSync(t, finals[i]!))
  return finals
}
