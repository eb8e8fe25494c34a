/**
 * The explorer page's elements and state: the controls by id, what the page holds between user
 * actions, `window.__explorer` (plain data for tests and scripts), and the small setters the other
 * page modules share.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HostTensor } from 'clarus'
import { decodePreprocessing, type ImagePreprocessing, type Rgba } from 'clarus/viz'
import type { FormField } from './formSchema.js'
import { parseNumberList } from './inputs.js'
import { $, numbersText, type PlainTensor } from './page.js'
import type { ModelSummary, RunResult } from './protocol.js'
import type { InputContext, View } from './render.js'
import type { InputPreparation } from './spec.js'

export type Kind = 'image' | 'csv' | 'text'

/** What the page shows for tests and scripts (plain data only). */
export interface ExplorerState {
  ready: boolean
  status: string
  model: ModelSummary | null
  input: PlainTensor | null
  logits: readonly number[] | null
  target: number | null
  results: { method: string; options: Readonly<Record<string, unknown>>; pipeline: unknown; target: number; attributions: PlainTensor[]; delta: readonly number[] | null; ms: number }[]
  runs: { runId: number; method: string; state: 'running' | 'done' | 'cancelled' | 'failed'; message: string; ms: number | null }[]
  timings: Record<string, number>
}

export const exposed: ExplorerState = { ready: false, status: 'starting', model: null, input: null, logits: null, target: null, results: [], runs: [], timings: {} }

;(window as unknown as { __explorer: ExplorerState }).__explorer = exposed

export const ui = {
  status: $('status', HTMLElement), warning: $('fileWarning', HTMLElement), demo: $('demo', HTMLSelectElement),
  modelFile: $('modelFile', HTMLInputElement), modelDrop: $('modelDrop', HTMLElement), modelInfo: $('modelInfo', HTMLElement),
  kind: [...document.querySelectorAll<HTMLInputElement>('input[name=kind]')], imageInput: $('imageInput', HTMLElement), csvInput: $('csvInput', HTMLElement), textInput: $('textInput', HTMLElement),
  imageFile: $('imageFile', HTMLInputElement), imageDrop: $('imageDrop', HTMLElement), preview: $('preview', HTMLCanvasElement),
  ppH: $('ppH', HTMLInputElement), ppW: $('ppW', HTMLInputElement), ppLayout: $('ppLayout', HTMLSelectElement), ppChannels: $('ppChannels', HTMLSelectElement),
  ppScale: $('ppScale', HTMLInputElement), ppMean: $('ppMean', HTMLInputElement), ppStd: $('ppStd', HTMLInputElement),
  csvText: $('csvText', HTMLTextAreaElement), csvStandardise: $('csvStandardise', HTMLInputElement), csvMean: $('csvMean', HTMLInputElement), csvStd: $('csvStd', HTMLInputElement),
  textText: $('textText', HTMLTextAreaElement), vocabFile: $('vocabFile', HTMLInputElement), vocabInfo: $('vocabInfo', HTMLElement),
  predict: $('predict', HTMLButtonElement), inputError: $('inputError', HTMLElement), topk: $('topk', HTMLElement), targetLabel: $('targetLabel', HTMLElement),
  method: $('method', HTMLSelectElement), methodInfo: $('methodInfo', HTMLElement), form: $('optionsForm', HTMLFormElement), formError: $('formError', HTMLElement),
  run: $('run', HTMLButtonElement), cancel: $('cancel', HTMLButtonElement), progress: $('progress', HTMLProgressElement), runStatus: $('runStatus', HTMLElement),
  exportSpec: $('exportSpec', HTMLButtonElement), specFile: $('specFile', HTMLInputElement), specError: $('specError', HTMLElement),
  legend: $('legend', HTMLCanvasElement), scaleLabel: $('scaleLabel', HTMLElement), perPanel: $('perPanel', HTMLInputElement), clear: $('clear', HTMLButtonElement), results: $('results', HTMLElement),
}

export const state: {
  summary?: ModelSummary; kind: Kind; image?: Rgba; vocab?: readonly string[]
  input?: { tensor: HostTensor; ctx: InputContext; prep: InputPreparation }; fields: readonly FormField[]
  panels: { result: RunResult; view: View }[]; current?: number; classes: readonly string[]
} = { kind: 'image', fields: [], panels: [], classes: [] }

/** A class by its name when the model's class names are known. */
export const className = (i: number): string => state.classes[i] ?? `class ${i}`

export const setStatus = (s: string): void => {
  ui.status.textContent = s
  exposed.status = s
}

export const setKind = (k: Kind): void => {
  state.kind = k
  for (const r of ui.kind) r.checked = r.value === k
  ui.imageInput.hidden = k !== 'image'
  ui.csvInput.hidden = k !== 'csv'
  ui.textInput.hidden = k !== 'text'
}

export const setPreprocessing = (p: ImagePreprocessing): void => {
  ui.ppH.value = p.size !== undefined ? String(p.size[0]) : ''
  ui.ppW.value = p.size !== undefined ? String(p.size[1]) : ''
  ui.ppLayout.value = p.layout ?? 'NCHW'
  ui.ppChannels.value = p.channelOrder ?? 'RGB'
  ui.ppScale.value = String(p.scale ?? 1 / 255)
  ui.ppMean.value = numbersText(p.mean)
  ui.ppStd.value = numbersText(p.std)
}

/** A declared shape, free dimensions shown by name or as ?. */
export const shapeText = (shape: readonly (number | string | null)[]): string => `[${shape.map((d) => d ?? '?').join(', ')}]`

export const imagePreprocessing = (): E.Either<string, ImagePreprocessing> => {
  const size = ui.ppH.value.trim() !== '' || ui.ppW.value.trim() !== '' ? { size: [Number(ui.ppH.value), Number(ui.ppW.value)] } : {}
  const mean = parseNumberList(ui.ppMean.value, 'mean')
  const std = parseNumberList(ui.ppStd.value, 'std')
  if (E.isLeft(mean)) return mean
  if (E.isLeft(std)) return std
  const raw = { ...size, layout: ui.ppLayout.value, channelOrder: ui.ppChannels.value, scale: Number(ui.ppScale.value), ...(mean.right.length > 0 ? { mean: mean.right } : {}), ...(std.right.length > 0 ? { std: std.right } : {}) }
  const d = decodePreprocessing(raw)
  return E.isLeft(d) ? E.left(d.left._tag === 'InvalidSpec' ? d.left.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : d.left.message) : E.right(d.right)
}

export const drawPreview = (img: Rgba): void => {
  const zoom = Math.max(1, Math.floor(128 / img.width))
  ui.preview.width = img.width * zoom
  ui.preview.height = img.height * zoom
  const ctx = ui.preview.getContext('2d')
  if (ctx === null) return
  const tmp = new OffscreenCanvas(img.width, img.height)
  tmp.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0)
  ctx.imageSmoothingEnabled = false
  ctx.drawImage(tmp, 0, 0, ui.preview.width, ui.preview.height)
}

export const setTarget = (t: number): void => {
  exposed.target = t
  ui.targetLabel.textContent = className(t)
  for (const b of ui.topk.querySelectorAll<HTMLElement>('[data-class]')) b.classList.toggle('selected', Number(b.dataset['class']) === t)
}
