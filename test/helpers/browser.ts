// Real headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core
// (playwright's own browser download is not reachable), and a static file server for the pages.
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import * as path from 'node:path'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env['CLARUS_CHROMIUM'] ?? '/usr/bin/chromium'

/** Whether the Chromium binary is installed (`.ci/run` installs it with apt). */
export const haveChromium = (): boolean => existsSync(CHROMIUM)

/** Headless Chromium; `args` are extra command-line switches. */
export const launchChromium = (args: readonly string[] = []): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...args] })

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.map': 'application/json',
}

export interface StaticServer {
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves directories on loopback: `mounts` maps a URL prefix ('/', '/ref/') to a directory (the
 * longest matching prefix wins; paths cannot leave their directory). `handle` may answer a request
 * first (return true when it did).
 */
export const serveStatic = async (
  mounts: Readonly<Record<string, string>>,
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>,
): Promise<StaticServer> => {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length)
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (handle !== undefined && (await handle(req, res))) return
      const url = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
      const prefix = prefixes.find((p) => url.startsWith(p))
      if (prefix === undefined) return void res.writeHead(404).end()
      const root = path.resolve(mounts[prefix]!)
      let file = path.resolve(root, `.${path.sep}${url.slice(prefix.length)}`)
      if (file !== root && !file.startsWith(root + path.sep)) return void res.writeHead(403).end()
      try {
        if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html')
        const body = await readFile(file)
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body)
      } catch {
        res.writeHead(404).end()
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
