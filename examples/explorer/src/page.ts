/** Small DOM and data helpers of the explorer page. */
import type { Rgba } from 'clarus/viz'
import type { WireTensor } from './protocol.js'

/** The element with this id, checked to be of the expected kind (a missing one is a bug in index.html). */
export const $ = <T extends HTMLElement>(id: string, kind: abstract new () => T): T => {
  const e = document.getElementById(id)
  if (!(e instanceof kind)) throw new Error(`index.html lacks a ${kind.name} #${id}`)
  return e
}

/** A new element with text content (never parsed as HTML). */
export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag)
  e.textContent = text
  return e
}

export const fileBytes = (f: Blob): Promise<ArrayBuffer> => f.arrayBuffer()

/** A picture file decoded by the browser into RGBA pixels. */
export const imageOf = async (blob: Blob): Promise<Rgba> => {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(blob)
  } catch {
    throw new Error('the browser cannot decode this file as an image (use PNG, JPEG, GIF, WebP or BMP)')
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
  const ctx = canvas.getContext('2d')
  if (ctx === null) throw new Error('this browser has no 2D canvas')
  ctx.drawImage(bitmap, 0, 0)
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data
  return { width: bitmap.width, height: bitmap.height, data: new Uint8ClampedArray(data) }
}

export const numbersText = (xs: readonly number[] | undefined): string => (xs ?? []).join(', ')

/** A tensor as plain JSON-able data (int64 values as numbers). */
export interface PlainTensor {
  readonly dtype: string
  readonly shape: readonly number[]
  readonly data: number[]
}

export const plainTensor = (t: WireTensor | { readonly dtype: string; readonly shape: readonly number[]; readonly data: ArrayLike<number | bigint> }): PlainTensor => ({
  dtype: t.dtype,
  shape: [...t.shape],
  data: Array.from(t.data as ArrayLike<number | bigint>, Number),
})

/** Options as one short line (`nSteps=16, method=riemann_left`; `defaults` when empty). */
export const describeOptions = (o: Readonly<Record<string, unknown>>): string => {
  const parts = Object.entries(o).filter(([k]) => k !== 'returnConvergenceDelta').map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return parts.length > 0 ? parts.join(', ') : 'default options'
}

/** `fetch` that fails with a message on an HTTP error. */
export const fetchOk = async (url: string): Promise<Response> => {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`could not fetch ${url}: HTTP ${r.status}`)
  return r
}

/** A handler that runs an async action and reports its failure with `report`. */
export const guard = (report: (message: string) => void) => (f: () => Promise<void>) => (): void => {
  f().catch((e: unknown) => report(`error: ${e instanceof Error ? e.message : String(e)}`))
}

/** Makes `zone` take dropped files. */
export const dropZone = (zone: HTMLElement, onFiles: (files: File[]) => void): void => {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault()
    zone.classList.add('over')
  })
  zone.addEventListener('dragleave', () => zone.classList.remove('over'))
  zone.addEventListener('drop', (e) => {
    e.preventDefault()
    zone.classList.remove('over')
    onFiles([...(e.dataTransfer?.files ?? [])])
  })
}
