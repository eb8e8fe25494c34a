/**
 * The explorer end to end in real headless Chromium: build the page, serve it, load the cnn demo,
 * run IntegratedGradients and Occlusion in the page's worker (onnxruntime-web), and check
 * - the input tensor the page made is the demo picture preprocessed as in Node;
 * - the page ran exactly the pipelines the options ask for, and its attributions equal those
 *   clarus computes in Node (onnxruntime-node) for that input and target;
 * - every result canvas shows a picture (more than one colour);
 * - the spec export loads back, and a bad spec file is reported field by field;
 * - opened from file://, the page says it needs a web server;
 * - the page stays responsive during a long run: Cancel is handled while it runs, and the run
 *   ends cancelled rather than finished.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attribute, decodePipeline, float32, METHODS } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { decodePng } from '../../src/viz/png.js'
import { preprocessImage } from '../../src/viz/preprocess.js'
import { DEMOS } from '../../examples/explorer/src/demos.js'
import { buildExplorer, EXPLORER } from '../../examples/explorer/build.js'
import { CHROMIUM, haveChromium, launchChromium, serveStatic, type StaticServer } from '../helpers/browser.js'

interface Plain { readonly dtype: string; readonly shape: readonly number[]; readonly data: readonly number[] }
interface PageResult { readonly method: string; readonly options: Record<string, unknown>; readonly pipeline: unknown; readonly target: number; readonly attributions: readonly Plain[]; readonly delta: readonly number[] | null; readonly ms: number }
interface PageRun { readonly runId: number; readonly method: string; readonly state: string; readonly message: string; readonly ms: number | null }
interface Exposed { readonly ready: boolean; readonly status: string; readonly input: Plain | null; readonly target: number | null; readonly results: readonly PageResult[]; readonly runs: readonly PageRun[]; readonly timings: Record<string, number> }

const exposed = (page: Page): Promise<Exposed> => page.evaluate(() => (window as unknown as { __explorer: Exposed }).__explorer)

/** Chooses a method and fills its options form (selects and text boxes alike). */
const setMethod = async (page: Page, method: string, options: Readonly<Record<string, string>>): Promise<void> => {
  await page.selectOption('#method', method)
  for (const [k, v] of Object.entries(options)) {
    const sel = `#opt-${k}`
    if ((await page.$eval(sel, (e) => e.tagName)) === 'SELECT') await page.selectOption(sel, v)
    else await page.fill(sel, v)
  }
}

/** Clicks Run and waits for that run to end; returns its record. */
const runToEnd = async (page: Page): Promise<PageRun> => {
  const before = (await exposed(page)).runs.length
  await page.click('#run')
  await page.waitForFunction((n) => {
    const runs = (window as unknown as { __explorer: Exposed }).__explorer.runs
    return runs.length > n && runs[runs.length - 1]!.state !== 'running'
  }, before, { timeout: 60_000 })
  return (await exposed(page)).runs.at(-1)!
}

const maxAbs = (xs: ArrayLike<number>): number => Array.from(xs).reduce((m, x) => Math.max(m, Math.abs(x)), 0)

describe('explorer in headless Chromium', () => {
  let outdir: string
  let server: StaticServer
  let browser: Browser
  let page: Page
  const timings: Record<string, number> = {}
  const started = performance.now()

  beforeAll(async () => {
    if (!haveChromium()) throw new Error(`Chromium is not installed at ${CHROMIUM}: install it (sudo apt-get install -y chromium) or set CLARUS_CHROMIUM to its path`)
    outdir = await mkdtemp(path.join(tmpdir(), 'clarus-explorer-'))
    const built = await buildExplorer(outdir)
    timings['buildMs'] = built.ms
    server = await serveStatic({ '/': outdir })
    browser = await launchChromium()
    page = await browser.newPage({ acceptDownloads: true })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    const t0 = performance.now()
    await page.goto(`${server.url}/`)
    await page.waitForFunction(() => (window as unknown as { __explorer?: Exposed }).__explorer?.ready === true, undefined, { timeout: 30_000 })
    timings['pageLoadMs'] = performance.now() - t0
    expect(errors).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (outdir !== undefined) await rm(outdir, { recursive: true, force: true })
    timings['fileMs'] = performance.now() - started
    console.log(`explorer timings (ms) and browser-vs-node differences: ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, k.includes('MaxAbs') ? Number(v.toPrecision(3)) : Math.round(v)])))}`)
  })

  it('loads the cnn demo with the demo picture preprocessed as in Node', async () => {
    const t0 = performance.now()
    await page.selectOption('#demo', 'cnn')
    await page.waitForFunction(() => (window as unknown as { __explorer: Exposed }).__explorer.status.startsWith('demo cnn ready'), undefined, { timeout: 60_000 })
    timings['demoLoadMs'] = performance.now() - t0
    const x = (await exposed(page)).input!
    const demo = DEMOS.find((d) => d.id === 'cnn')!
    if (demo.input.kind !== 'image') throw new Error('the cnn demo takes a picture')
    const png = decodePng(new Uint8Array(await readFile(path.join(EXPLORER, demo.input.url))))
    const expected = preprocessImage(png, demo.input.preprocessing).tensor
    expect(x.shape).toEqual([1, 3, 32, 32])
    expect(maxAbs(Float32Array.from(x.data, (v, i) => v - Number(expected.data[i])))).toBeLessThan(1e-6)
  })

  it('runs IntegratedGradients and Occlusion in the worker with the same results as Node', async () => {
    await setMethod(page, 'integratedGradients', { nSteps: '16' })
    const ig = await runToEnd(page)
    expect(ig.state, ig.message).toBe('done')
    await setMethod(page, 'occlusion', { slidingWindowShapes: '[3, 4, 4]', strides: '[3, 4, 4]' })
    const occ = await runToEnd(page)
    expect(occ.state, occ.message).toBe('done')
    timings['igMs'] = ig.ms!
    timings['occlusionMs'] = occ.ms!

    const state = await exposed(page)
    expect(state.results.map((r) => r.method)).toEqual(['integratedGradients', 'occlusion'])
    // What the page ran is what the library builds for those options (the delta added where the method has one).
    const asJson = (u: unknown): unknown => JSON.parse(JSON.stringify(u))
    expect(state.results[0]!.pipeline).toEqual(asJson(METHODS['integratedGradients']!.build({ nSteps: 16, returnConvergenceDelta: true })))
    expect(state.results[1]!.pipeline).toEqual(asJson(METHODS['occlusion']!.build({ slidingWindowShapes: [3, 4, 4], strides: [3, 4, 4] })))

    const loaded = await fromOnnx(path.join(EXPLORER, 'demos/cnn.onnx'), {})
    if (E.isLeft(loaded)) throw new Error(loaded.left.message)
    const model = loaded.right
    const x = float32(state.input!.shape, state.input!.data)
    try {
      for (const r of state.results) {
        expect(r.target).toBe(state.target)
        const p = decodePipeline(r.pipeline)
        if (E.isLeft(p)) throw new Error(p.left.message)
        const node = await attribute(p.right, model, x, { target: r.target })()
        if (E.isLeft(node)) throw new Error(`${node.left._tag}: ${node.left.message}`)
        const want = node.right.attributions[0]!
        const got = r.attributions[0]!
        expect(got.shape).toEqual(want.shape)
        const scale = maxAbs(want.data as Float32Array)
        expect(scale).toBeGreaterThan(0)
        const diff = maxAbs(Float32Array.from(got.data, (v, i) => v - Number(want.data[i])))
        timings[`${r.method}MaxAbsDiff`] = diff
        timings[`${r.method}MaxAbsAttr`] = scale
        expect(diff, `${r.method}: max |browser − node| = ${diff} (max |attr| ${scale})`).toBeLessThanOrEqual(1e-4 * scale + 1e-6)
        if (node.right.delta !== undefined) {
          expect(r.delta).not.toBeNull()
          expect(Math.abs(r.delta![0]! - Number(node.right.delta.data[0]))).toBeLessThanOrEqual(1e-4 * scale + 1e-6)
        }
      }
    } finally {
      await model.dispose()
    }
  })

  it('draws every result on a canvas that is not blank', async () => {
    const colours = await page.$$eval('#results canvas.attr', (canvases) => (canvases as HTMLCanvasElement[]).map((c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      const seen = new Set<number>()
      for (let i = 0; i < d.length; i += 4) seen.add(((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!) * 256 + d[i + 3]!)
      return seen.size
    }))
    expect(colours).toHaveLength(2)
    for (const n of colours) expect(n).toBeGreaterThan(1)
  })

  it('exports the current spec as JSON and loads it back, reporting bad files field by field', async () => {
    // The Occlusion form of the last run is still on the page.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#exportSpec')])
    const file = path.join(outdir, 'exported.spec.json')
    await download.saveAs(file)
    const spec = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    expect(spec).toMatchObject({ format: 'clarus-explorer/1', method: 'occlusion', options: { slidingWindowShapes: [3, 4, 4], strides: [3, 4, 4] }, target: (await exposed(page)).target })
    expect(spec['preprocessing']).toEqual({ kind: 'image', image: { size: [32, 32], layout: 'NCHW', channelOrder: 'RGB', scale: 1 / 255 } })
    await setMethod(page, 'saliency', {})
    await page.setInputFiles('#specFile', file)
    await page.waitForFunction(() => (document.getElementById('method') as HTMLSelectElement).value === 'occlusion')
    expect(await page.inputValue('#opt-slidingWindowShapes')).toBe('[3,4,4]')
    expect(await page.textContent('#specError')).toBe('')
    const bad = path.join(outdir, 'bad.spec.json')
    await writeFile(bad, JSON.stringify({ ...spec, options: { slidingWindowShapes: 'big' }, preprocessing: { kind: 'image', image: { layout: 'CHW' } } }))
    await page.setInputFiles('#specFile', bad)
    await page.waitForFunction(() => (document.getElementById('specError')?.textContent ?? '') !== '')
    const text = await page.textContent('#specError')
    expect(text).toContain('options.slidingWindowShapes')
    expect(text).toContain('preprocessing.image.layout')
  })

  it('tells the user to use a web server when opened from file://', async () => {
    const p = await browser.newPage()
    try {
      await p.goto(`file://${path.join(outdir, 'index.html')}`)
      expect(await p.isVisible('#fileWarning')).toBe(true)
      expect(await p.textContent('#status')).toContain('web server')
    } finally {
      await p.close()
    }
  })

  it('stays responsive during a long run: Cancel is handled while it runs', async () => {
    await setMethod(page, 'integratedGradients', { nSteps: '4000' })
    const before = (await exposed(page)).runs.length
    await page.click('#run')
    // Wait until the worker reports progress, so the run is under way, then cancel it.
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value > 0, undefined, { timeout: 30_000 })
    // A click on the page while the worker computes: choosing another class to explain shows at once.
    const other = await page.$eval('#topk li:nth-child(2) button', (b) => Number((b as HTMLElement).dataset['class']))
    await page.click('#topk li:nth-child(2) button')
    const during = await page.evaluate((n) => ({
      label: document.getElementById('targetLabel')!.textContent,
      state: (window as unknown as { __explorer: Exposed }).__explorer.runs[n]!.state,
    }), before)
    expect(during).toEqual({ label: `class ${other}`, state: 'running' })
    // Cancel: the page says so at once, then the worker stops the run.
    await page.evaluate(() => {
      const log: string[] = []
      ;(window as unknown as { __statusLog: string[] }).__statusLog = log
      const el = document.getElementById('runStatus')!
      new MutationObserver(() => log.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true })
    })
    const t0 = performance.now()
    await page.click('#cancel')
    await page.waitForFunction((n) => (window as unknown as { __explorer: Exposed }).__explorer.runs[n]?.state !== 'running', before, { timeout: 30_000 })
    timings['cancelMs'] = performance.now() - t0
    expect(await page.evaluate(() => (window as unknown as { __statusLog: string[] }).__statusLog)).toEqual(['cancelling…', 'Cancelled.'])
    const run = (await exposed(page)).runs[before]!
    expect(run.state).toBe('cancelled')
    expect(await page.textContent('#runStatus')).toBe('Cancelled.')
    expect((await exposed(page)).results).toHaveLength(2)
    // The page still works after a cancel.
    await setMethod(page, 'saliency', {})
    expect((await runToEnd(page)).state).toBe('done')
  })
})
