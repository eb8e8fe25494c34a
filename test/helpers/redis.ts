// A real redis-server for the BullMQ tests and `npm run bench -- scale`: a free loopback port, a
// server without persistence started there, and polling helpers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { connect, createServer } from 'node:net'

/** A TCP port nothing listens on right now (the OS picks it). */
export const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer()
  s.once('error', reject)
  s.listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port
    s.close(() => resolve(port))
  })
})

/** Whether a Redis server answers PING on `port`. */
export const pong = (port: number): Promise<boolean> => new Promise((resolve) => {
  const c = connect(port, '127.0.0.1')
  c.once('error', () => resolve(false))
  c.once('data', (d) => {
    c.destroy()
    resolve(d.toString().startsWith('+PONG'))
  })
  c.write('PING\r\n')
})

/** Polls `ok` every 50 ms until it holds; an Error naming `what` after `ms`. */
export const until = async (what: string, ms: number, ok: () => boolean | Promise<boolean>): Promise<void> => {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Whether `redis-server` is on PATH. */
export const haveRedis = (): boolean => {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  return found.error === undefined && found.status === 0
}

/** Starts redis-server on a free loopback port (no persistence); resolves once it answers. */
export const startRedis = async (): Promise<{ readonly url: string; readonly port: number; readonly process: ChildProcess }> => {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await until(`redis-server on port ${port}`, 10_000, () => pong(port))
  return { url: `redis://127.0.0.1:${port}`, port, process: child }
}
