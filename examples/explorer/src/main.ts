/**
 * The explorer page (main thread): reads the user's model, input and method choices, sends the
 * work to `worker.ts`, and draws what comes back. Nothing here runs a model, so the page stays
 * responsive during a run. `window.__explorer` exposes the last input and results as plain data
 * (for the browser test and for anyone scripting the page).
 */
import * as E from 'fp-ts/lib/Either.js'
import { METHODS, type HostTensor } from 'clarus'
import { preprocessImage, type ImagePreprocessing } from 'clarus/viz'
import { DEMOS, type Demo } from './demos.js'
import { applicableMethods, decodeForm, formSchema, formValues } from './formSchema.js'
import { csvTensor, inputKindFor, parseCsvRow, parseNumberList, parseVocab, preprocessingFor, textTensor, topK } from './inputs.js'
import { readRaw, renderForm, showErrors } from './optionsForm.js'
import { dropZone, el, fetchOk, fileBytes, guard as guardWith, imageOf, numbersText, plainTensor } from './page.js'
import { clearPanels, drawPanels } from './panels.js'
import { className, drawPreview, exposed, imagePreprocessing, setKind, setPreprocessing, setStatus, setTarget, shapeText, state, ui, type Kind } from './pageState.js'
import type { FromWorker, ModelFiles, RunResult, ToWorker, WireTensor } from './protocol.js'
import { viewOf, type InputContext } from './render.js'
import { decodeSpec, SPEC_FORMAT, type ExplorerSpec, type InputPreparation } from './spec.js'

const guard = guardWith(setStatus)

// ---- the worker and its request/response calls ----------------------------------------------

if (location.protocol === 'file:') {
  ui.warning.hidden = false
  setStatus('open this page through a web server (see the note above)')
  throw new Error('the explorer needs a static web server: browsers forbid module workers and wasm fetches from file:// pages')
}
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
let nextId = 1
const pending = new Map<number, (m: FromWorker) => void>()
const send = (m: ToWorker): void => worker.postMessage(m)
const ask = <K extends 'loaded' | 'predicted'>(build: (requestId: number) => ToWorker, kind: K): Promise<Extract<FromWorker, { type: K }>> =>
  new Promise((resolve, reject) => {
    const id = nextId++
    pending.set(id, (m) => (m.type === kind ? resolve(m as Extract<FromWorker, { type: K }>) : reject(new Error(m.type === 'failed' ? m.message : `unexpected ${m.type}`))))
    send(build(id))
  })

worker.addEventListener('error', (e) => setStatus(`the worker failed to start: ${e.message}`))
worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
  const m = e.data
  switch (m.type) {
    case 'hello':
      exposed.ready = true
      exposed.timings['pageReadyMs'] = performance.now()
      return setStatus(`ready (onnxruntime-web, ${m.ortThreads} thread${m.ortThreads === 1 ? '' : 's'}); load a model or pick a demo`)
    case 'loaded':
    case 'predicted':
    case 'failed': {
      const done = pending.get(m.requestId)
      pending.delete(m.requestId)
      return done?.(m)
    }
    case 'progress':
      if (m.runId === state.current) {
        ui.progress.max = Math.max(1, m.total)
        ui.progress.value = m.done
      }
      return
    case 'result':
      return onResult(m.result)
    case 'runFailed':
      return onRunEnd(m.runId, m.cancelled ? 'cancelled' : 'failed', m.cancelled ? 'Cancelled.' : `Failed: ${m.message}`, null)
  }
})
send({ type: 'hello' })

// ---- model ----------------------------------------------------------------------------------

const filesOf = async (list: readonly File[]): Promise<ModelFiles> => {
  const onnx = list.find((f) => f.name.toLowerCase().endsWith('.onnx'))
  if (onnx !== undefined) return { kind: 'onnx', name: onnx.name, bytes: await fileBytes(onnx) }
  const json = list.find((f) => f.name.toLowerCase().endsWith('.json'))
  if (json === undefined) throw new Error('give an .onnx file, or a tfjs model.json together with its .bin weight files')
  const weights = await Promise.all(list.filter((f) => f !== json).map(async (f) => ({ name: f.name, bytes: await fileBytes(f) })))
  return { kind: 'tfjs', name: json.name, json: await json.text(), weights }
}

const loadModel = async (files: ModelFiles): Promise<void> => {
  setStatus(`loading ${files.name}…`)
  const r = await ask((requestId) => ({ type: 'load', requestId, files }), 'loaded')
  state.summary = r.summary
  exposed.model = r.summary
  exposed.timings['modelLoadMs'] = r.ms
  state.classes = []
  clearPanels()
  const first = r.summary.inputs[0]
  ui.modelInfo.replaceChildren(
    el('div', `${r.summary.name} (${r.summary.backend}), loaded in ${r.ms.toFixed(0)} ms`),
    el('div', `inputs: ${r.summary.inputs.map((i) => `${i.name} ${i.dtype} ${shapeText(i.shape)}`).join('; ')}`),
    el('div', `outputs: ${r.summary.outputs.map((o) => `${o.name} ${o.dtype} ${shapeText(o.shape)}`).join('; ')}`),
    el('div', `${r.summary.layers.length} layers available to layer and neuron methods`),
  )
  if (first !== undefined) {
    setKind(inputKindFor(first))
    if (state.kind === 'image') setPreprocessing(preprocessingFor(first))
  }
  fillMethods()
  setStatus(`model ${r.summary.name} loaded; give an input and press Predict`)
}

// ---- input and prediction ------------------------------------------------------------------------

const prepareInput = (): E.Either<string, { tensor: HostTensor; ctx: InputContext; prep: InputPreparation }> => {
  const port = state.summary?.inputs[0]
  if (port === undefined) return E.left('load a model first')
  if (state.kind === 'image') {
    if (state.image === undefined) return E.left('drop or pick an image first')
    const p = imagePreprocessing()
    if (E.isLeft(p)) return p
    const { tensor, image } = preprocessImage(state.image, p.right)
    return E.right({ tensor, ctx: { kind: 'image', layout: p.right.layout ?? 'NCHW', picture: image }, prep: { kind: 'image', image: p.right } })
  }
  if (state.kind === 'csv') {
    const row = parseCsvRow(ui.csvText.value)
    if (E.isLeft(row)) return row
    const mean = ui.csvStandardise.checked ? parseNumberList(ui.csvMean.value, 'mean') : E.right([])
    const std = ui.csvStandardise.checked ? parseNumberList(ui.csvStd.value, 'std') : E.right([])
    if (E.isLeft(mean)) return mean
    if (E.isLeft(std)) return std
    const x = csvTensor(row.right, port, mean.right, std.right)
    return E.isLeft(x) ? x : E.right({ tensor: x.right, ctx: { kind: 'csv', featureNames: row.right.names }, prep: { kind: 'csv', mean: mean.right, std: std.right } })
  }
  if (state.vocab === undefined) return E.left('pick the model\'s vocab.json (a JSON list of tokens) first')
  const x = textTensor(ui.textText.value, state.vocab, port)
  return E.isLeft(x) ? x : E.right({ tensor: x.right.tensor, ctx: { kind: 'text', tokens: x.right.tokens }, prep: { kind: 'text' } })
}

const predict = async (): Promise<void> => {
  ui.inputError.textContent = ''
  const x = prepareInput()
  if (E.isLeft(x)) {
    ui.inputError.textContent = x.left
    return
  }
  state.input = x.right
  exposed.input = plainTensor(x.right.tensor)
  if (x.right.ctx.picture !== undefined) drawPreview(x.right.ctx.picture)
  const r = await ask((requestId) => ({ type: 'predict', requestId, input: x.right.tensor as WireTensor }), 'predicted')
  exposed.logits = r.logits
  exposed.timings['predictMs'] = r.ms
  clearPanels()
  showPredictions(r.logits)
}

const showPredictions = (logits: readonly number[]): void => {
  const top = topK(logits, 5)
  ui.topk.replaceChildren(...top.map((c) => {
    const b = el('button', `${className(c.index)}: p = ${c.p.toFixed(3)} (output ${c.logit.toFixed(2)})`)
    b.dataset['class'] = String(c.index)
    b.type = 'button'
    b.addEventListener('click', () => setTarget(c.index))
    const li = el('li', '')
    li.append(b)
    return li
  }))
  if (top[0] !== undefined) setTarget(top[0].index)
}

// ---- methods and runs ---------------------------------------------------------------------

const fillMethods = (): void => {
  const names = applicableMethods(METHODS, state.summary?.layers.length ?? 0)
  const keep = ui.method.value
  ui.method.replaceChildren(...names.map((n) => {
    const o = el('option', `${METHODS[n]!.captumName} (${METHODS[n]!.family})`)
    o.value = n
    return o
  }))
  ui.method.value = names.includes(keep) ? keep : 'integratedGradients'
  showMethod()
}

const showMethod = (values: Readonly<Record<string, unknown>> = {}): void => {
  const info = METHODS[ui.method.value]
  if (info === undefined) return
  state.fields = formSchema(info.options)
  const v = formValues(state.fields, values)
  renderForm(ui.form, state.fields, state.summary?.layers ?? [], v.raw)
  showErrors(ui.form, ui.formError, v.unknown.length > 0 ? { fields: {}, form: [`not options of ${info.captumName}, left out: ${v.unknown.join(', ')}`] } : undefined)
  ui.methodInfo.textContent = `${info.family} method${info.hasDelta ? ', reports a convergence delta' : ''}${info.stochastic ? ', stochastic (seed 0)' : ''}`
}

let nextRun = 1
const startRun = (): void => {
  const info = METHODS[ui.method.value]
  if (info === undefined) return
  const options = decodeForm(info.options, state.fields, readRaw(ui.form))
  showErrors(ui.form, ui.formError, E.isLeft(options) ? options.left : undefined)
  if (E.isLeft(options)) return
  if (state.input === undefined || exposed.target === null) {
    ui.formError.textContent = 'press Predict first (the run explains the chosen class of the predicted input)'
    return
  }
  const runId = nextRun++
  state.current = runId
  exposed.runs.push({ runId, method: ui.method.value, state: 'running', message: '', ms: null })
  ui.progress.value = 0
  ui.run.disabled = true
  ui.cancel.disabled = false
  ui.runStatus.textContent = `running ${info.captumName}…`
  send({ type: 'run', runId, method: ui.method.value, options: options.right, input: state.input.tensor as WireTensor, target: exposed.target })
}

const onRunEnd = (runId: number, how: 'done' | 'cancelled' | 'failed', message: string, ms: number | null): void => {
  const run = exposed.runs.find((r) => r.runId === runId)
  if (run !== undefined) Object.assign(run, { state: how, message, ms })
  if (runId !== state.current) return
  state.current = undefined
  ui.run.disabled = false
  ui.cancel.disabled = true
  ui.runStatus.textContent = message
}

const onResult = (r: RunResult): void => {
  const first = r.attributions[0]
  if (state.input !== undefined && first !== undefined) {
    state.panels.push({ result: r, view: viewOf(first, state.input.ctx) })
    exposed.results.push({ method: r.method, options: r.options, pipeline: r.pipeline, target: r.target, attributions: r.attributions.map(plainTensor), delta: r.delta ?? null, ms: r.ms })
    drawPanels()
  }
  onRunEnd(r.runId, 'done', `${METHODS[r.method]?.captumName ?? r.method}: done in ${r.ms.toFixed(0)} ms`, r.ms)
}

// ---- specs -------------------------------------------------------------------------------------

const exportSpec = (): void => {
  const info = METHODS[ui.method.value]
  ui.specError.textContent = ''
  if (info === undefined) return
  const options = decodeForm(info.options, state.fields, readRaw(ui.form))
  showErrors(ui.form, ui.formError, E.isLeft(options) ? options.left : undefined)
  if (E.isLeft(options)) return
  const prep = state.input?.prep ?? (state.kind === 'image' ? { kind: 'image' as const, image: E.getOrElse((): ImagePreprocessing => ({}))(imagePreprocessing()) } : { kind: 'text' as const })
  const withDelta = info.hasDelta && options.right['returnConvergenceDelta'] === undefined ? { ...options.right, returnConvergenceDelta: true } : options.right
  const spec: ExplorerSpec = { format: SPEC_FORMAT, method: ui.method.value, options: options.right, pipeline: info.build(withDelta), target: exposed.target ?? 0, preprocessing: prep }
  const a = document.createElement('a')
  a.href = URL.createObjectURL(new Blob([JSON.stringify(spec, null, 2)], { type: 'application/json' }))
  a.download = `${ui.method.value}.spec.json`
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 1000)
}

const loadSpec = async (file: File): Promise<void> => {
  ui.specError.textContent = ''
  let json: unknown
  try {
    json = JSON.parse(await file.text())
  } catch (e) {
    ui.specError.textContent = `${file.name} is not JSON: ${e instanceof Error ? e.message : String(e)}`
    return
  }
  const d = decodeSpec(json)
  if (E.isLeft(d)) {
    ui.specError.replaceChildren(el('div', `${file.name} is not a valid explorer spec:`), ...d.left.map((line) => el('div', line)))
    return
  }
  const s = d.right
  if (![...ui.method.options].some((o) => o.value === s.method)) {
    ui.specError.textContent = `${s.method} needs a model with layers; load one first`
    return
  }
  ui.method.value = s.method
  showMethod(s.options)
  // The page runs the method from its options; say so when the file's pipeline is something else (edited by hand).
  const info = METHODS[s.method]
  const built = info !== undefined ? JSON.stringify(info.build(info.hasDelta && s.options['returnConvergenceDelta'] === undefined ? { ...s.options, returnConvergenceDelta: true } : s.options)) : ''
  if (built !== JSON.stringify(s.pipeline)) ui.specError.textContent = `note: the file's pipeline differs from what ${s.method} builds from its options; the explorer runs ${s.method} with these options`
  if (s.preprocessing.kind === 'image') {
    setKind('image')
    setPreprocessing(s.preprocessing.image)
  } else if (s.preprocessing.kind === 'csv') {
    setKind('csv')
    ui.csvStandardise.checked = s.preprocessing.mean.length > 0 || s.preprocessing.std.length > 0
    ui.csvMean.value = numbersText(s.preprocessing.mean)
    ui.csvStd.value = numbersText(s.preprocessing.std)
  } else setKind('text')
  if (exposed.logits !== null && s.target < exposed.logits.length) setTarget(s.target)
  setStatus(`spec ${file.name} loaded: ${METHODS[s.method]?.captumName ?? s.method}, target ${className(s.target)}`)
}

// ---- demos -------------------------------------------------------------------------------------

const loadDemo = async (demo: Demo): Promise<void> => {
  const t0 = performance.now()
  const baseName = (url: string): string => url.split('/').pop() ?? url
  const m = demo.model
  if (typeof m === 'string') await loadModel({ kind: 'onnx', name: baseName(m), bytes: await (await fetchOk(m)).arrayBuffer() })
  else {
    const weights = await Promise.all(m.weights.map(async (w) => ({ name: baseName(w), bytes: await (await fetchOk(w)).arrayBuffer() })))
    await loadModel({ kind: 'tfjs', name: baseName(m.json), json: await (await fetchOk(m.json)).text(), weights })
  }
  const inp = demo.input
  state.classes = demo.classes ?? []
  setKind(inp.kind)
  if (inp.kind === 'image') {
    state.image = await imageOf(await (await fetchOk(inp.url)).blob())
    setPreprocessing(inp.preprocessing)
  } else if (inp.kind === 'csv') {
    ui.csvText.value = await (await fetchOk(inp.url)).text()
    const meta = inp.meta !== undefined ? ((await (await fetchOk(inp.meta)).json()) as { mean?: number[]; std?: number[]; classes?: string[] }) : undefined
    state.classes = meta?.classes ?? []
    ui.csvStandardise.checked = meta !== undefined
    ui.csvMean.value = numbersText(meta?.mean)
    ui.csvStd.value = numbersText(meta?.std)
  } else {
    const vocab = parseVocab(await (await fetchOk(inp.vocab)).json())
    if (E.isLeft(vocab)) throw new Error(vocab.left)
    state.vocab = vocab.right
    ui.vocabInfo.textContent = `${vocab.right.length} tokens`
    ui.textText.value = inp.text
  }
  await predict()
  ui.method.value = demo.method
  showMethod(demo.options)
  exposed.timings['demoLoadMs'] = performance.now() - t0
  setStatus(`demo ${demo.id} ready: press Run (or change the method, its options or the target)`)
}

// ---- wiring ------------------------------------------------------------------------------------

const onModelFiles = async (files: File[]): Promise<void> => loadModel(await filesOf(files))
const onImageFiles = async (files: File[]): Promise<void> => {
  const f = files[0]
  if (f === undefined) return
  state.image = await imageOf(f)
  setKind('image')
  drawPreview(state.image)
}
ui.demo.append(...DEMOS.map((d) => {
  const o = el('option', d.title)
  o.value = d.id
  return o
}))
ui.demo.addEventListener('change', () => {
  const d = DEMOS.find((x) => x.id === ui.demo.value)
  if (d !== undefined) guard(() => loadDemo(d))()
})
dropZone(ui.modelDrop, (files) => guard(() => onModelFiles(files))())
dropZone(ui.imageDrop, (files) => guard(() => onImageFiles(files))())
dropZone(ui.csvInput, (files) => guard(async () => {
  if (files[0] !== undefined) ui.csvText.value = await files[0].text()
})())
ui.modelFile.addEventListener('change', guard(() => onModelFiles([...(ui.modelFile.files ?? [])])))
ui.imageFile.addEventListener('change', guard(() => onImageFiles([...(ui.imageFile.files ?? [])])))
ui.vocabFile.addEventListener('change', guard(async () => {
  const f = ui.vocabFile.files?.[0]
  if (f === undefined) return
  const v = parseVocab(JSON.parse(await f.text()) as unknown)
  if (E.isLeft(v)) throw new Error(v.left)
  state.vocab = v.right
  ui.vocabInfo.textContent = `${v.right.length} tokens`
}))
for (const r of ui.kind) r.addEventListener('change', () => setKind(r.value as Kind))
ui.predict.addEventListener('click', guard(predict))
ui.method.addEventListener('change', () => showMethod())
ui.form.addEventListener('submit', (e) => e.preventDefault())
ui.run.addEventListener('click', startRun)
ui.cancel.addEventListener('click', () => {
  if (state.current === undefined) return
  ui.runStatus.textContent = 'cancelling…'
  send({ type: 'cancel', runId: state.current })
})
ui.clear.addEventListener('click', clearPanels)
ui.perPanel.addEventListener('change', drawPanels)
ui.exportSpec.addEventListener('click', exportSpec)
ui.specFile.addEventListener('change', guard(async () => {
  const f = ui.specFile.files?.[0]
  if (f !== undefined) await loadSpec(f)
  ui.specFile.value = ''
}))
fillMethods()
setKind('image')
