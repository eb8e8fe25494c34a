/**
 * The messages between the explorer page (main thread) and its Web Worker (all model work). Plain
 * data only, so every message survives `postMessage`'s structured clone; typed arrays travel as
 * they are.
 */

/** A tensor as it crosses the thread boundary (the shape of clarus's `HostTensor`). */
export type WireTensor =
  | { readonly dtype: 'float32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'int32'; readonly shape: readonly number[]; readonly data: Int32Array }
  | { readonly dtype: 'int64'; readonly shape: readonly number[]; readonly data: BigInt64Array }

/** A model file set as the user gave it. */
export type ModelFiles =
  | { readonly kind: 'onnx'; readonly name: string; readonly bytes: ArrayBuffer }
  /** A tfjs model: model.json's text and its weight files by file name. */
  | { readonly kind: 'tfjs'; readonly name: string; readonly json: string; readonly weights: readonly { readonly name: string; readonly bytes: ArrayBuffer }[] }

/** A model input or output as the model declares it (`null` or a string: a free dimension). */
export interface PortInfo {
  readonly name: string
  readonly dtype: string
  readonly shape: readonly (number | string | null)[]
}

export interface ModelSummary {
  readonly name: string
  readonly backend: 'onnx' | 'tfjs'
  readonly inputs: readonly PortInfo[]
  readonly outputs: readonly PortInfo[]
  /** Layers (internal tensors) layer and neuron methods can use, in graph order, with their op type. */
  readonly layers: readonly { readonly name: string; readonly opType: string }[]
}

/** What to run: a registered method with options, or a whole pipeline value (from a loaded spec). */
export interface RunRequest {
  readonly type: 'run'
  readonly runId: number
  /** The METHODS key (for a pipeline: its display name). */
  readonly method: string
  readonly options: Readonly<Record<string, unknown>>
  /** A pipeline value (JSON); when given it is run instead of building `method` from `options`. */
  readonly pipeline?: unknown
  readonly input: WireTensor
  readonly target: number
}

export type ToWorker =
  | { readonly type: 'hello' }
  | { readonly type: 'load'; readonly requestId: number; readonly files: ModelFiles }
  | { readonly type: 'predict'; readonly requestId: number; readonly input: WireTensor }
  | RunRequest
  | { readonly type: 'cancel'; readonly runId: number }

/** One finished attribution run. */
export interface RunResult {
  readonly runId: number
  readonly method: string
  readonly options: Readonly<Record<string, unknown>>
  /** The pipeline that ran (JSON value, `decodePipeline` reads it back). */
  readonly pipeline: unknown
  readonly target: number
  readonly attributions: readonly WireTensor[]
  /** The convergence delta per example, when the method computes one. */
  readonly delta?: readonly number[]
  /** Wall time of the `attribute` call in the worker, in milliseconds. */
  readonly ms: number
}

export type FromWorker =
  | { readonly type: 'hello'; readonly ortThreads: number }
  | { readonly type: 'loaded'; readonly requestId: number; readonly summary: ModelSummary; readonly ms: number }
  | { readonly type: 'predicted'; readonly requestId: number; readonly logits: readonly number[]; readonly ms: number }
  | { readonly type: 'progress'; readonly runId: number; readonly done: number; readonly total: number }
  | { readonly type: 'result'; readonly result: RunResult }
  /** A run that did not finish: `cancelled` when the user stopped it. */
  | { readonly type: 'runFailed'; readonly runId: number; readonly message: string; readonly cancelled: boolean }
  /** A load or predict request that failed. */
  | { readonly type: 'failed'; readonly requestId: number; readonly message: string }
