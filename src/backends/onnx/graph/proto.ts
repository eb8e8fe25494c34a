/**
 * ONNX protobuf encoding and decoding through protobufjs reflection on the vendored descriptor
 * ({@link onnxDescriptor}). Messages are plain objects with camelCase field names; 64-bit integers
 * are decimal strings (exact), bytes are `Uint8Array`s.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import protobuf from 'protobufjs'
import { onnxDescriptor } from './onnxDescriptor.js'
import { err, type AttributionError } from '../../../core/errors.js'

/** A protobuf int64 as read (decimal string) or written (string or safe integer). */
export type Long = string | number

export interface StringStringEntryProto {
  readonly key?: string
  readonly value?: string
}

export interface TensorProto {
  readonly dims?: readonly Long[]
  readonly dataType?: number
  readonly name?: string
  readonly rawData?: Uint8Array
  readonly floatData?: readonly number[]
  readonly int32Data?: readonly number[]
  readonly int64Data?: readonly Long[]
  readonly doubleData?: readonly number[]
  readonly uint64Data?: readonly Long[]
  readonly stringData?: readonly Uint8Array[]
  readonly dataLocation?: number
  readonly externalData?: readonly StringStringEntryProto[]
  readonly docString?: string
}

export interface TensorShapeDimProto {
  readonly dimValue?: Long
  readonly dimParam?: string
  readonly denotation?: string
}

export interface TypeProto {
  readonly tensorType?: {
    readonly elemType?: number
    readonly shape?: { readonly dim?: readonly TensorShapeDimProto[] }
  }
  readonly denotation?: string
  readonly [other: string]: unknown
}

export interface ValueInfoProto {
  readonly name?: string
  readonly type?: TypeProto
  readonly docString?: string
}

export interface AttributeProto {
  readonly name?: string
  readonly refAttrName?: string
  readonly docString?: string
  readonly type?: number
  readonly f?: number
  readonly i?: Long
  readonly s?: Uint8Array
  readonly t?: TensorProto
  readonly g?: GraphProto
  readonly floats?: readonly number[]
  readonly ints?: readonly Long[]
  readonly strings?: readonly Uint8Array[]
  readonly tensors?: readonly TensorProto[]
  readonly graphs?: readonly GraphProto[]
  readonly [other: string]: unknown
}

export interface NodeProto {
  readonly input?: readonly string[]
  readonly output?: readonly string[]
  readonly name?: string
  readonly opType?: string
  readonly domain?: string
  readonly attribute?: readonly AttributeProto[]
  readonly docString?: string
}

export interface GraphProto {
  readonly node?: readonly NodeProto[]
  readonly name?: string
  readonly initializer?: readonly TensorProto[]
  readonly docString?: string
  readonly input?: readonly ValueInfoProto[]
  readonly output?: readonly ValueInfoProto[]
  readonly valueInfo?: readonly ValueInfoProto[]
  readonly [other: string]: unknown
}

export interface OperatorSetIdProto {
  readonly domain?: string
  readonly version?: Long
}

export interface ModelProto {
  readonly irVersion?: Long
  readonly opsetImport?: readonly OperatorSetIdProto[]
  readonly producerName?: string
  readonly producerVersion?: string
  readonly domain?: string
  readonly modelVersion?: Long
  readonly docString?: string
  readonly graph?: GraphProto
  readonly metadataProps?: readonly StringStringEntryProto[]
  readonly [other: string]: unknown
}

/** The ModelProto reflection type, built from the descriptor (immutable after construction). */
const modelType = (): protobuf.Type => protobuf.Root.fromJSON(onnxDescriptor as unknown as protobuf.INamespace).lookupType('onnx.ModelProto')
const MODEL_TYPE = modelType()

/** Decodes serialized ONNX model bytes into a plain {@link ModelProto}. */
export const decodeModel = (bytes: Uint8Array): E.Either<AttributionError, ModelProto> => {
  try {
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const msg = MODEL_TYPE.decode(plain)
    const obj = MODEL_TYPE.toObject(msg, { longs: String, enums: Number, defaults: false, arrays: false })
    if (obj['graph'] === undefined) return E.left(err('BadModel', 'the ONNX model has no graph; pass a complete .onnx file', ['model']))
    return E.right(obj as ModelProto)
  } catch (e) {
    return E.left(err('BadModel', `cannot decode the ONNX model (${e instanceof Error ? e.message : String(e)}); pass a valid .onnx file`, ['model']))
  }
}

/** Serializes a plain {@link ModelProto} into ONNX bytes. */
export const encodeModel = (model: ModelProto): Uint8Array => {
  const msg = MODEL_TYPE.fromObject(model as Record<string, unknown>)
  const buf = MODEL_TYPE.encode(msg).finish()
  // a plain Uint8Array view (protobufjs returns a Buffer under Node)
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
