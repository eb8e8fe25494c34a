/**
 * Writing a job's results as they arrive, so memory stays flat: JSONL (one line per example) or
 * binary (the attributions as raw little-endian float32, one record per example, and a JSONL index
 * with each record's offset, shapes, delta and error). Writes wait for the stream to drain.
 *
 * @category scale
 * @since 0.6.0
 */
import { once } from 'node:events'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import * as path from 'node:path'
import type { ExampleResult } from './executor.js'

export interface ResultSink {
  /** Writes one example's result (resolves when the stream has room for more). */
  readonly write: (r: ExampleResult) => Promise<void>
  /** Flushes and closes the files. */
  readonly close: () => Promise<void>
}

const put = async (s: WriteStream, chunk: string | Uint8Array): Promise<void> => {
  if (!s.write(chunk)) await once(s, 'drain')
}

const end = (s: WriteStream): Promise<void> => new Promise((resolve, reject) => {
  s.once('error', reject)
  s.end(() => resolve())
})

/** The line of one result (attributions as nested shape + flat data; errors as tag, message and path). */
const head = (r: ExampleResult): Record<string, unknown> => ({
  index: r.index,
  ...(r.id !== undefined ? { id: r.id } : {}),
  ...(r.delta !== undefined ? { delta: r.delta } : {}),
  ...(r.error !== undefined ? { error: { tag: r.error._tag, message: r.error.message, path: r.error.path } } : {}),
})

/** One JSON line per example: `{ index, id?, delta?, error?, attributions: [{ shape, data }] }`. */
export const jsonlSink = (file: string): ResultSink => {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const s = createWriteStream(file)
  return {
    write: (r) => put(s, `${JSON.stringify({
      ...head(r),
      ...(r.attributions !== undefined ? { attributions: r.attributions.map((a) => ({ shape: a.shape, data: Array.from(a.data as ArrayLike<number>, Number) })) } : {}),
    })}\n`),
    close: () => end(s),
  }
}

/**
 * Binary results in `dir`: `attributions.f32` (every example's attributions, input after input, as
 * little-endian float32) and `index.jsonl` (`{ index, id?, delta?, error?, offset, shapes }`, offset
 * in float32 elements).
 */
export const binarySink = (dir: string): ResultSink => {
  mkdirSync(dir, { recursive: true })
  const data = createWriteStream(path.join(dir, 'attributions.f32'))
  const index = createWriteStream(path.join(dir, 'index.jsonl'))
  let offset = 0
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
  return {
    write: async (r) => {
      const shapes = (r.attributions ?? []).map((a) => a.shape)
      await put(index, `${JSON.stringify({ ...head(r), offset, shapes })}\n`)
      for (const a of r.attributions ?? []) {
        const f = Float32Array.from(a.data as ArrayLike<number>, Number)
        const bytes = new Uint8Array(f.buffer)
        if (!littleEndian) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse()
        await put(data, bytes)
        offset += f.length
      }
    },
    close: async () => {
      await end(data)
      await end(index)
    },
  }
}
