/**
 * Progress on stderr for long runs: a redrawn bar on a terminal, plain lines (every 10%) when
 * asked for on a pipe, nothing otherwise, so logs and captured output stay clean.
 *
 * @category cli
 * @since 0.2.0
 */
import type { Progress } from '../dsl/flow.js'

/** Where text goes: process.stdout / process.stderr, or anything with `write` (tests). */
export interface TextSink {
  write(s: string): unknown
  readonly isTTY?: boolean
}

export interface ProgressSink {
  readonly update: (p: Progress) => void
  /** Clears the bar (terminal) or prints nothing (pipe). */
  readonly done: () => void
}

/** The bar's text: `[#####-----]  50% 100/200 model rows`. */
export const progressText = (p: Progress, width = 30, unit = 'model rows'): string => {
  const f = p.total > 0 ? Math.max(0, Math.min(1, p.done / p.total)) : 0
  const n = Math.round(f * width)
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}] ${String(Math.floor(f * 100)).padStart(3)}% ${p.done}/${p.total} ${unit}`
}

/** A progress sink for `stream`: a bar when it is a TTY; lines every 10% when `lines`; else silent. */
export const progressSink = (stream: TextSink, lines = false, unit = 'model rows'): ProgressSink => {
  let last = 0
  let lastDecile = -1
  let drawn = false
  return {
    update: (p) => {
      if (stream.isTTY === true) {
        const now = Date.now()
        if (now - last < 100 && p.done < p.total) return
        last = now
        stream.write(`\r${progressText(p, 30, unit)}`)
        drawn = true
      } else if (lines) {
        const decile = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 0
        if (decile === lastDecile) return
        lastDecile = decile
        stream.write(`progress ${progressText(p, 20, unit)}\n`)
      }
    },
    done: () => {
      if (drawn) stream.write('\r\u001b[2K')
    },
  }
}
