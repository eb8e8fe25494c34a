/**
 * The facial-expression CNN of the emotion example: loading the TensorFlow.js GraphModel committed
 * under examples/assets/emotion/ (from @vladmandic/human, trained by oarriaga/face_classification),
 * the three face crops (JPEG, from @vladmandic/face-api's demo photo) and the model's
 * preprocessing. Shared by `explain-emotion.ts` and its test.
 */
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { float32, type HostTensor } from '../src/index.js'
import { decodeImage, resizeRgba, type Rgba } from '../src/viz/index.js'

export const ASSETS = fileURLToPath(new URL('./assets/emotion/', import.meta.url))

/** The model's seven classes, in output order. */
export const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const
export const HAPPY = CLASSES.indexOf('happy')
/** The model's input side (64 × 64 grey). */
export const SIDE = 64

/** The node holding the seven logits (global average of the last convolution), which the softmax reads. */
export const LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean'

/**
 * The committed face crops (240 × 240 JPEGs), by file name, each with a box around the mouth in
 * the model's 64 × 64 picture (inclusive pixel ranges, drawn by hand).
 */
export const FACES = [
  { file: 'laughing.jpg', title: 'laughing woman', mouth: { x: [11, 29], y: [35, 51] } },
  { file: 'smiling.jpg', title: 'smiling woman', mouth: { x: [24, 45], y: [45, 57] } },
  { file: 'clown.jpg', title: 'clown make-up', mouth: { x: [11, 29], y: [52, 61] } },
] as const

/** The share of a map's positive mass inside a box, and the box's share of the picture's area. */
export const shareInside = (values: ArrayLike<number>, box: { readonly x: readonly [number, number]; readonly y: readonly [number, number] }): { readonly mass: number; readonly area: number } => {
  let inside = 0
  let total = 0
  for (let p = 0; p < SIDE * SIDE; p++) {
    const v = Math.max(0, values[p]!)
    const [x, y] = [p % SIDE, Math.floor(p / SIDE)]
    total += v
    if (x >= box.x[0] && x <= box.x[1] && y >= box.y[0] && y <= box.y[1]) inside += v
  }
  const area = ((box.x[1] - box.x[0] + 1) * (box.y[1] - box.y[0] + 1)) / (SIDE * SIDE)
  return { mass: total > 0 ? inside / total : 0, area }
}

interface WeightsGroup {
  readonly paths: readonly string[]
  readonly weights: readonly tf.io.WeightsManifestEntry[]
}

interface GraphNode {
  readonly name: string
  readonly op: string
  readonly input?: readonly string[]
  readonly attr?: Readonly<Record<string, { readonly list?: { readonly s?: readonly string[] } } & Record<string, unknown>>>
  readonly [key: string]: unknown
}

/**
 * The GraphModel read from model.json and its weight files (no network, no tfjs-node). clarus runs
 * its gradients on a twin with the bias-only fused convolutions split, which skips their unused
 * filter gradients (src/backends/tfjs/linearFused.ts).
 */
export const loadGraph = (file = path.join(ASSETS, 'emotion.json')): ReturnType<typeof loadGraphModelSync> => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: { node: GraphNode[] }; format?: string; weightsManifest: readonly WeightsGroup[] }
  const dir = path.dirname(file)
  const weights = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p)))))
  return loadGraphModelSync({
    modelTopology: json.modelTopology,
    ...(json.format !== undefined ? { format: json.format } : {}),
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  })
}

/** A committed face crop, decoded from its JPEG bytes. */
export const loadFace = (file: string): Rgba => decodeImage(readFileSync(path.join(ASSETS, file)))

/**
 * The model's view of a face: resized to 64 × 64 (bilinear), grey = 0.2989 R + 0.587 G + 0.114 B
 * in 0..1, then (g − 0.5) · 2, as @vladmandic/human feeds it. Returns the grey picture too.
 */
export const preprocessFace = (face: Rgba): { readonly values: Float32Array; readonly grey: Rgba } => {
  const small = resizeRgba(face, SIDE, SIDE)
  const values = new Float32Array(SIDE * SIDE)
  const grey = new Uint8ClampedArray(SIDE * SIDE * 4)
  for (let p = 0; p < SIDE * SIDE; p++) {
    const g = (0.2989 * small.data[p * 4]! + 0.587 * small.data[p * 4 + 1]! + 0.114 * small.data[p * 4 + 2]!) / 255
    values[p] = (g - 0.5) * 2
    grey.set([g * 255, g * 255, g * 255, 255], p * 4)
  }
  return { values, grey: { width: SIDE, height: SIDE, data: grey } }
}

/** Faces stacked as one NHWC batch [N, 64, 64, 1]. */
export const toInput = (faces: readonly Rgba[]): { readonly x: HostTensor; readonly greys: readonly Rgba[] } => {
  const pre = faces.map(preprocessFace)
  const data = new Float32Array(faces.length * SIDE * SIDE)
  pre.forEach((p, i) => data.set(p.values, i * SIDE * SIDE))
  return { x: float32([faces.length, SIDE, SIDE, 1], data), greys: pre.map((p) => p.grey) }
}

/** Selects the tfjs CPU backend (the one with every gradient kernel). */
export const useCpu = async (): Promise<void> => {
  await tf.setBackend('cpu')
  await tf.ready()
}
