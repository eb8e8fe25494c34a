/**
 * The Demos menu: the repository's small real models, each with an input and a first method. Paths
 * are relative to the page (`build.ts` puts the files under `dist/demos/`).
 */
import type { ImagePreprocessing } from 'clarus/viz'

export type DemoInput =
  | { readonly kind: 'image'; readonly url: string; readonly preprocessing: ImagePreprocessing }
  /** A CSV file; `meta`: a JSON file with `mean` and `std` lists to standardise the row with. */
  | { readonly kind: 'csv'; readonly url: string; readonly meta?: string }
  | { readonly kind: 'text'; readonly text: string; readonly vocab: string }

/** An ONNX file, or a tfjs model.json with its weight files. */
export type DemoModel = string | { readonly json: string; readonly weights: readonly string[] }

export interface Demo {
  readonly id: string
  readonly title: string
  readonly model: DemoModel
  readonly input: DemoInput
  readonly method: string
  readonly options: Readonly<Record<string, unknown>>
  /** The model's class names, in output order (for a CSV demo with `meta`, read from its `classes` too). */
  readonly classes?: readonly string[]
}

export const DEMOS: readonly Demo[] = [
  {
    id: 'cnn',
    title: 'cnn: image classifier (Captum reference, 32×32 RGB)',
    model: 'demos/cnn.onnx',
    input: { kind: 'image', url: 'demos/cnn-input.png', preprocessing: { size: [32, 32], layout: 'NCHW', channelOrder: 'RGB', scale: 1 / 255 } },
    method: 'integratedGradients',
    options: { nSteps: 32 },
  },
  {
    id: 'mlp',
    title: 'mlp: tabular classifier (Captum reference, 12 features)',
    model: 'demos/mlp.onnx',
    input: { kind: 'csv', url: 'demos/mlp-row.csv' },
    method: 'integratedGradients',
    options: { nSteps: 32 },
  },
  {
    id: 'penguins',
    title: 'penguins: species from measurements (CSV row)',
    model: 'demos/penguins.onnx',
    input: { kind: 'csv', url: 'demos/penguins.csv', meta: 'demos/penguins.meta.json' },
    method: 'featureAblation',
    options: {},
  },
  {
    id: 'spam',
    title: 'spam: message classifier (text)',
    model: 'demos/spam.onnx',
    input: { kind: 'text', text: 'Congratulations! You have been selected to win a FREE cruise. Click here now to claim your $500 prize', vocab: 'demos/vocab.json' },
    classes: ['ham', 'spam'],
    method: 'layerIntegratedGradients',
    options: { layer: '/embedding/Gather_output_0', nSteps: 16 },
  },
  {
    id: 'emotion',
    title: 'emotion: facial expression (TensorFlow.js graph model, 64×64 grey)',
    model: { json: 'demos/emotion.json', weights: ['demos/emotion.bin'] },
    // The model was trained on (g − 0.5) · 2 with g = 0.2989 R + 0.587 G + 0.114 B; "grey" here is the
    // plain mean of R, G and B, close to it on these crops.
    input: { kind: 'image', url: 'demos/smiling.jpg', preprocessing: { size: [64, 64], layout: 'NHWC', channelOrder: 'grey', scale: 2 / 255, mean: [1] } },
    classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
    method: 'saliency',
    options: {},
  },
]
