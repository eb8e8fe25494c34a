/**
 * An image as interpretable features for a multimodal causal LM: each feature is a region of the
 * image (a mask; regions may overlap), and an absent region's pixels are replaced by the baseline
 * colour. The text prompt stays as it is; the image reaches the model through `processor`, which
 * turns the (masked) image into the model's other inputs (e.g. `{ pixel_values: [1, 3, H, W] }`).
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, HostTensorCodec } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { PromptInputs } from './causalLm.js'
import type { InterpretableInput } from './inputs.js'

/**
 * Options of {@link imageMaskInput}: the regions, as `masks` (one [H, W] tensor per feature, non-zero
 * = inside; overlaps allowed) or a `segmentation` map ([H, W] integer ids, one feature per distinct
 * id in ascending order); `baselines`: the colour of an absent region (one number, or one per
 * channel; default 255 = white, as Captum); `labels`: one name per feature (default `mask i` /
 * `segment <id>`).
 */
export const ImageMaskInputOptions = t.readonly(
  t.partial({
    masks: t.readonlyArray(HostTensorCodec),
    segmentation: HostTensorCodec,
    baselines: t.union([t.number, t.readonlyArray(t.number)]),
    labels: t.readonlyArray(t.string),
  }),
)
export type ImageMaskInputOptions = t.TypeOf<typeof ImageMaskInputOptions>

/** An {@link InterpretableInput} over image regions, with the masked image itself for display. */
export interface ImageMaskInput extends InterpretableInput {
  readonly _tag: 'ImageMaskInput'
  /** The image with every absent feature's region set to the baseline colour ([H, W] or [H, W, C], float32). */
  toImage(present: ArrayLike<number>): HostTensor<'float32'>
}

const invalid = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(invalidSpec([{ path, message }]))

/**
 * Image regions as features (Captum 0.9's `ImageMaskInput`). `image` is [H, W] or [H, W, C] (any
 * numeric dtype; values are kept as float32). `prompt` is the fixed text prompt; `processor` maps
 * the masked image to the model's other inputs, each with a batch dim of 1.
 *
 * Captum: `ImageMaskInput(processor_fn, image, mask_list=…, baselines=(255, 255, 255))`, where the
 * processor also builds the text prompt's ids; here the prompt is tokenized by the LLM method.
 */
export const imageMaskInput = (
  prompt: string,
  image: HostTensor,
  processor: (image: HostTensor<'float32'>) => PromptInputs,
  options: ImageMaskInputOptions,
): E.Either<AttributionError, ImageMaskInput> => {
  const od = decodeWith(ImageMaskInputOptions, options)
  if (E.isLeft(od)) return od
  const o = od.right
  if (image.shape.length !== 2 && image.shape.length !== 3) return invalid(`the image must be [H, W] or [H, W, C], got [${image.shape.join(', ')}]`, ['image'])
  const [H, W] = image.shape as [number, number]
  const C = image.shape[2] ?? 1
  if (H * W * C === 0) return E.left(err('EmptyInput', 'the image has no pixels', ['image']))
  if ((o.masks === undefined) === (o.segmentation === undefined)) return invalid('give exactly one of masks (a list of [H, W] region masks) or segmentation (an [H, W] id map)', ['masks'])

  // regions: for each feature, the flat pixel indices it covers
  const regions: number[][] = []
  let labels: string[]
  const checkShape = (m: HostTensor, path: readonly string[]): E.Either<AttributionError, void> =>
    m.shape.length === 2 && m.shape[0] === H && m.shape[1] === W ? E.right(undefined) : invalid(`a mask must be [${H}, ${W}] like the image, got [${m.shape.join(', ')}]`, path)
  if (o.masks !== undefined) {
    if (o.masks.length === 0) return E.left(err('EmptyInput', 'masks is empty: give at least one region', ['masks']))
    for (const [i, m] of o.masks.entries()) {
      const ok = checkShape(m, ['masks', String(i)])
      if (E.isLeft(ok)) return ok
      const px: number[] = []
      for (let p = 0; p < H * W; p++) if (Number(m.data[p]) !== 0) px.push(p)
      regions.push(px)
    }
    labels = o.masks.map((_, i) => `mask ${i}`)
  } else {
    const seg = o.segmentation!
    const ok = checkShape(seg, ['segmentation'])
    if (E.isLeft(ok)) return ok
    const ids = [...new Set(Array.from(seg.data as ArrayLike<number | bigint>, Number))].sort((a, b) => a - b)
    const at = new Map(ids.map((id, f) => [id, f]))
    ids.forEach(() => regions.push([]))
    for (let p = 0; p < H * W; p++) regions[at.get(Number(seg.data[p]))!]!.push(p)
    labels = ids.map((id) => `segment ${id}`)
  }
  if (o.labels !== undefined) {
    if (o.labels.length !== regions.length) return invalid(`labels has ${o.labels.length} entries for ${regions.length} features`, ['labels'])
    labels = [...o.labels]
  }
  const bl = typeof o.baselines === 'number' || o.baselines === undefined ? new Array<number>(C).fill(o.baselines ?? 255) : [...o.baselines]
  if (bl.length !== C) return invalid(`baselines has ${bl.length} values for ${C} channel(s)`, ['baselines'])

  const pixels = Float32Array.from(image.data as ArrayLike<number | bigint>, Number)
  const toImage = (present: ArrayLike<number>): HostTensor<'float32'> => {
    const out = pixels.slice()
    regions.forEach((px, f) => {
      if (present[f] === 1) return
      for (const p of px) for (let c = 0; c < C; c++) out[p * C + c] = bl[c]!
    })
    return { dtype: 'float32', shape: [...image.shape], data: out }
  }
  return E.right({
    _tag: 'ImageMaskInput',
    nFeatures: regions.length,
    labels,
    featureOfColumn: regions.map((_, f) => f),
    baselines: regions.map(() => `colour (${bl.join(', ')})`),
    toText: () => prompt,
    toIds: (_present, tokenizer) => tokenizer.encode(prompt),
    toModelInputs: (present) => processor(toImage(present)),
    toImage,
  })
}
