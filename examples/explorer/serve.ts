/**
 * Builds the explorer and serves it on a loopback port, printing the address to open.
 * Stop with Ctrl-C.
 *
 *   npx tsx examples/explorer/serve.ts
 */
import * as path from 'node:path'
import { serveStatic } from '../../test/helpers/browser.js'
import { buildExplorer } from './build.js'

const built = await buildExplorer()
const server = await serveStatic({ '/': built.outdir })
console.log(`explorer built in ${(built.ms / 1000).toFixed(1)} s into ${path.relative(process.cwd(), built.outdir)}`)
console.log(`open ${server.url}/  (Ctrl-C stops the server)`)
process.on('SIGINT', () => void server.close().then(() => process.exit(0)))
