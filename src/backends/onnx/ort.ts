/**
 * The part of the ONNX Runtime JavaScript API that clarus calls, as a structural interface. Both
 * `onnxruntime-node` and `onnxruntime-web` satisfy it as they are (`import * as ort from
 * 'onnxruntime-web'; fromOnnx(bytes, { ort })`), and so does a wrapper that counts or delays
 * calls. Nothing here imports a runtime: the backend receives the module as a value.
 *
 * @category backends
 * @since 0.1.0
 */

/** The element types clarus hands to and takes from the runtime. */
export type OrtDType = 'float32' | 'int32' | 'int64' | 'bool'

/** A runtime tensor as clarus reads it. */
export interface OrtTensor {
  readonly type: string
  readonly dims: readonly number[]
  readonly data: unknown
}

/** The session options clarus sets (a subset of ORT's `InferenceSession.SessionOptions`). */
export interface OrtSessionOptions {
  readonly executionProviders?: readonly string[]
  readonly intraOpNumThreads?: number
  readonly interOpNumThreads?: number
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all'
  readonly enableProfiling?: boolean
  readonly profileFilePrefix?: string
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4
}

/** One loaded graph. */
export interface OrtSession {
  run(feeds: Readonly<Record<string, OrtTensor>>): Promise<Readonly<Record<string, OrtTensor>>>
  /** Frees the native session; the object must not be used afterwards. */
  release(): Promise<void>
}

/** The runtime module: a session factory (from model bytes) and the tensor constructor. */
export interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>
  }
  readonly Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor
    new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor
    new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensor
    new (type: 'bool', data: Uint8Array, dims: readonly number[]): OrtTensor
  }
}
