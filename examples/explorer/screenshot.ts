/**
 * Writes docs/img/explorer.png: the explorer with the cnn demo explained by IntegratedGradients and
 * DeepLift side by side on one colour scale (both satisfy completeness, so their maps are comparable). Builds the page, serves it, drives headless Chromium
 * (Debian's /usr/bin/chromium, or CLARUS_CHROMIUM).
 *
 *   npx tsx examples/explorer/screenshot.ts [out.png]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import type { Page } from 'playwright-core'
import { ROOT } from '../../scripts/browserBuild.js'
import { launchChromium, serveStatic } from '../../test/helpers/browser.js'
import { buildExplorer } from './build.js'

const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs/img/explorer.png'))

const statusStartsWith = (page: Page, prefix: string): Promise<unknown> =>
  page.waitForFunction((p) => document.getElementById('status')?.textContent?.startsWith(p) === true, prefix, { timeout: 60_000 })

const run = async (page: Page, method: string, options: Readonly<Record<string, string>>): Promise<void> => {
  await page.selectOption('#method', method)
  for (const [k, v] of Object.entries(options)) await page.fill(`#opt-${k}`, v)
  await page.click('#run')
  await page.waitForFunction(() => document.getElementById('run') instanceof HTMLButtonElement && !(document.getElementById('run') as HTMLButtonElement).disabled, undefined, { timeout: 60_000 })
}

const dir = await mkdtemp(path.join(tmpdir(), 'clarus-explorer-shot-'))
const built = await buildExplorer(dir)
const server = await serveStatic({ '/': built.outdir })
const browser = await launchChromium()
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(`${server.url}/`)
  await statusStartsWith(page, 'ready')
  await page.selectOption('#demo', 'cnn')
  await statusStartsWith(page, 'demo cnn ready')
  await run(page, 'integratedGradients', { nSteps: '64' })
  await run(page, 'deepLift', {})
  const text = await page.textContent('#runStatus')
  if (text === null || !text.includes('done')) throw new Error(`the runs did not finish: ${text ?? ''}`)
  await mkdir(path.dirname(out), { recursive: true })
  await page.screenshot({ path: out, fullPage: true })
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
} finally {
  await browser.close()
  await server.close()
  await rm(dir, { recursive: true, force: true })
}
