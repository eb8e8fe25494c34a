// `clarus serve` run in this process for tests: its stderr text, the URL it listens on, its
// SIGTERM (fake signals), and the promise of its end.
import { serve, type StopSignals } from '../../src/cli/serve.js'

export interface ServeRun {
  /** Everything the command wrote to stderr so far. */
  readonly log: () => string
  readonly url: string
  /** Sends the command its SIGTERM. */
  readonly terminate: () => void
  /** Settles when the command has stopped. */
  readonly done: Promise<void>
}

/** Starts `serve(argv)` and resolves once it says where it listens. */
export const runServe = async (argv: readonly string[]): Promise<ServeRun> => {
  const listeners = new Map<string, () => void>()
  const signals: StopSignals = { once: (s, l) => void listeners.set(s, l), off: (s) => void listeners.delete(s) }
  let err = ''
  let onListen: (url: string) => void = () => undefined
  const listening = new Promise<string>((r) => (onListen = r))
  const done = serve(argv, {
    write: (s: string) => {
      err += s
      const m = /listening on (http:\/\/\S+)/.exec(s)
      if (m !== null) onListen(m[1]!)
    },
  }, signals)
  const url = await Promise.race([listening, done.then(() => { throw new Error(`serve stopped before listening: ${err}`) })])
  return { log: () => err, url, terminate: () => listeners.get('SIGTERM')!(), done }
}
