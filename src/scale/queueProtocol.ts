/**
 * What the BullMQ producer (`bullmqExecutor`) and the queue workers (`startQueueWorker`)
 * agree on: job names, the data each job carries, the value it returns, the connection options and
 * the Redis key that cancels a unit. Everything a job carries is JSON text from `wire.ts`, so typed
 * arrays arrive bit for bit.
 *
 * One unit is one BullMQ flow:
 *
 *   finish (parent: combines the children's partials in span order and finishes the unit,
 *   │       or passes a whole unit's outcome through)
 *   ├── task slot 0 (a `whole` task, or the first `span`)
 *   ├── task slot 1
 *   └── …
 *
 * A child returns `{ slot, outcome }`, so the parent reads exactly one value per child (BullMQ keeps
 * one entry per child job in the parent's processed set, whichever attempt produced it) and puts
 * them back in span order whatever order they finished in.
 *
 * Not part of the public API (the types the public API uses are re-exported by `bullmq.ts`).
 *
 * @category scale
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { AttributionError } from '../core/errors.js'
import type { ExpansionSize } from '../dsl/run.js'
import type { Job, Task, TaskOutcome, Unit } from './job.js'
import { decodeWire, encodeWire } from './wire.js'

/** The queue clarus uses when none is named. */
export const DEFAULT_QUEUE = 'clarus'
/** BullMQ's own default key prefix. */
export const DEFAULT_PREFIX = 'bull'

/**
 * Where Redis is: a URL (`redis://user:pass@host:6379/0`, `rediss://…` for TLS), or host and port
 * and the other usual options (passed to the Redis client as they are).
 *
 * @category scale
 * @since 0.6.0
 */
export type QueueConnection =
  | { readonly url: string }
  | {
    readonly host?: string
    readonly port?: number
    readonly username?: string
    readonly password?: string
    readonly db?: number
    /** TLS options (an object turns TLS on). */
    readonly tls?: Readonly<Record<string, unknown>>
  }

/** The options BullMQ gets: the connection, with the retry setting BullMQ's blocking connections need. */
export const bullConnection = (c: QueueConnection): Record<string, unknown> => ({ ...c, maxRetriesPerRequest: null })

/** `redis://host:port/…` with any password hidden, for messages. */
export const describeConnection = (c: QueueConnection): string => {
  if ('url' in c) {
    try {
      const u = new URL(c.url)
      if (u.password !== '') u.password = '***'
      return u.toString()
    } catch {
      return '<an unparseable Redis URL>'
    }
  }
  return `${c.host ?? '127.0.0.1'}:${c.port ?? 6379}`
}

export const TASK_JOB = 'task'
export const FINISH_JOB = 'finish'
export const EXPANSION_JOB = 'expansion'

/** Fields every clarus job carries: the clarus job (id and spec, as wire text) and the unit's cancel scope. */
interface Common {
  readonly v: 1
  /** `encodeWire({ id, spec })` of the clarus job. */
  readonly job: string
  /** The scope whose cancel key stops this job (`<job id>.u<unit index>`). */
  readonly scope: string
}
/** A child: one `whole` or `span` task, and its place among the unit's tasks. */
export interface TaskData extends Common {
  readonly task: string
  readonly slot: number
}
/** A parent: the unit, and how many span partials to combine (`null`: pass the whole task's outcome through). */
export interface FinishData extends Common {
  readonly unit: string
  readonly spans: number | null
}
/** A lone job asking for the size of a unit's first expansion. */
export interface ExpansionData extends Common {
  readonly unit: string
}

export const jobText = (job: Job): string => encodeWire({ id: job.id, spec: job.spec })
export const unitText = (unit: Unit): string => encodeWire(unit)
export const taskText = (task: Task): string => encodeWire(task)

/** A BullMQ job id from clarus names (BullMQ refuses `:` in custom ids). */
export const bullId = (s: string): string => s.replace(/:/g, '_')
export const unitScope = (job: Job, unit: Unit): string => bullId(`${job.id}.u${unit.index}`)

/** The Redis key whose presence cancels `scope` (set by the producer, read by workers). */
export const cancelKey = (prefix: string, queue: string, scope: string): string => `${prefix}:${queue}:clarus-cancel:${scope}`

/** What a child returns. */
export interface ChildValue {
  readonly slot: number
  readonly outcome: TaskOutcome
}

/** A task outcome as JSON text; a backend failure's `cause` is kept only as an `Error` (name and message) or text. */
export const outcomeText = (o: TaskOutcome): string => encodeWire(shippable(o))
export const childText = (slot: number, o: TaskOutcome): string => encodeWire({ slot, outcome: shippable(o) })

const shippableError = (e: AttributionError): AttributionError => {
  if (e._tag !== 'BackendFailure' || e.cause === undefined) return e
  const c = e.cause
  return { ...e, cause: c instanceof Error ? c : String(c) }
}
const shippable = (o: TaskOutcome): TaskOutcome => (o.ok ? o : { ok: false, error: shippableError(o.error) })

/** The size of a unit's first expansion, or the error measuring it, as JSON text. */
export const expansionText = (r: E.Either<AttributionError, ExpansionSize | undefined>): string =>
  encodeWire(E.isLeft(r) ? { ok: false, error: shippableError(r.left) } : { ok: true, size: r.right })

export const readExpansion = (text: unknown): E.Either<AttributionError, ExpansionSize | undefined> => {
  if (typeof text !== 'string') throw new TypeError(`expected a clarus expansion size as text, got ${typeof text}`)
  const v = decodeWire(text) as { ok: boolean; size?: ExpansionSize; error?: AttributionError }
  if (typeof v !== 'object' || v === null || typeof v.ok !== 'boolean') throw new TypeError('not a clarus expansion size')
  return v.ok ? E.right(v.size) : E.left(v.error!)
}

/** Reads an outcome back (the checks catch data that is not ours, not every field). */
export const readOutcome = (text: unknown): TaskOutcome => {
  if (typeof text !== 'string') throw new TypeError(`expected a clarus outcome as text, got ${typeof text}`)
  const o = decodeWire(text) as TaskOutcome
  if (typeof o !== 'object' || o === null || typeof o.ok !== 'boolean') throw new TypeError('not a clarus task outcome')
  return o
}

export const readChild = (text: unknown): ChildValue => {
  if (typeof text !== 'string') throw new TypeError(`expected a clarus task value as text, got ${typeof text}`)
  const v = decodeWire(text) as ChildValue
  if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.slot) || typeof v.outcome?.ok !== 'boolean') throw new TypeError('not a clarus task value')
  return v
}
