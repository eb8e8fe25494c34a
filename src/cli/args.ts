/**
 * A small argument parser for the `clarus` command: positionals, `--flag value`, `--flag=value`
 * and boolean switches, checked against the flags a command declares (an unknown flag is an
 * error that lists the known ones, never silently ignored).
 *
 * @category cli
 * @since 0.2.0
 */

/** A failure the CLI reports as a message and an exit code (2 = usage or input error, 1 = run failure, 130 = cancelled). */
export class CliError extends Error {
  constructor(message: string, readonly code: number = 2) {
    super(message)
    this.name = 'CliError'
  }
}

export interface ParsedArgs {
  readonly positionals: readonly string[]
  readonly flags: Readonly<Record<string, string>>
  readonly switches: ReadonlySet<string>
}

/** Parses `argv` for a command that takes the `valued` flags (with a value) and the `switches` (without). */
export const parseArgs = (argv: readonly string[], valued: readonly string[], switches: readonly string[] = []): ParsedArgs => {
  const positionals: string[] = []
  const flags: Record<string, string> = {}
  const on = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = a.slice(2, eq < 0 ? undefined : eq)
    if (switches.includes(name)) {
      if (eq >= 0) throw new CliError(`--${name} takes no value`)
      on.add(name)
      continue
    }
    if (!valued.includes(name)) {
      const known = [...valued, ...switches].map((f) => `--${f}`).join(', ')
      throw new CliError(`unknown option --${name}${known ? `; this command takes ${known}` : '; this command takes no options'}`)
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new CliError(`--${name} needs a value`)
    if (Object.hasOwn(flags, name)) throw new CliError(`--${name} is given twice`)
    flags[name] = value
  }
  return { positionals, flags, switches: on }
}

/** A whole-number flag (≥ `min`), or a CliError naming the flag; absent when not given. */
export const wholeFlag = (flags: Readonly<Record<string, string>>, name: string, min = 1): number | undefined => {
  const v = flags[name]
  if (v === undefined) return undefined
  const n = Number(v)
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new CliError(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`)
  return n
}

/** The signals that stop a long-running command (`serve`, `worker`); replaceable in tests. */
export interface StopSignals {
  readonly once: (signal: 'SIGINT' | 'SIGTERM', listener: () => void) => void
  readonly off: (signal: 'SIGINT' | 'SIGTERM', listener: () => void) => void
}

/** The process's own SIGINT and SIGTERM. */
export const processSignals: StopSignals = {
  once: (s, l) => void process.once(s, l),
  off: (s, l) => void process.removeListener(s, l),
}

/** Resolves with the name of the first of SIGINT and SIGTERM to arrive, then stops listening to both. */
export const stopSignal = (signals: StopSignals): Promise<'SIGINT' | 'SIGTERM'> =>
  new Promise((resolve) => {
    const stop = (name: 'SIGINT' | 'SIGTERM') => (): void => {
      signals.off('SIGINT', onInt)
      signals.off('SIGTERM', onTerm)
      resolve(name)
    }
    const onInt = stop('SIGINT')
    const onTerm = stop('SIGTERM')
    signals.once('SIGINT', onInt)
    signals.once('SIGTERM', onTerm)
  })

/** A Redis URL flag, checked (redis:// or rediss://). */
export const redisUrl = (v: string, flag = 'redis'): string => {
  if (!/^rediss?:\/\//.test(v)) throw new CliError(`--${flag} must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379`)
  return v
}

/** The BullMQ executor (an optional dependency, loaded only when asked for) on `url`. */
export const queueExecutor = async (url: string, options: { readonly queueName?: string; readonly workers?: number } = {}): Promise<import('../scale/executor.js').Executor> => {
  let mod: typeof import('../scale/bullmq.js')
  try {
    mod = await import('../scale/bullmq.js')
  } catch (e) {
    throw new CliError(`the Redis executor needs bullmq and ioredis installed next to clarus (npm install bullmq ioredis): ${(e as Error).message}`, 1)
  }
  return mod.bullmqExecutor({ connection: { url }, ...options })
}
