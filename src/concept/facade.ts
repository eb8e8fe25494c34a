/**
 * Captum's `TCAV` class as a thin facade over {@link computeCavs} and {@link tcav}: the model,
 * the layers and the classifier are fixed at construction; trained CAVs are kept in the instance
 * (Captum keeps them on disk under `save_path`) and reused by later calls unless `forceTrain`.
 * Failures throw a {@link ClarusError} carrying the typed error.
 *
 * @example
 * const t = new TCAV(model, ['/pool1/MaxPool_output_0'], { classifier: { _tag: 'meanDifference' } })
 * const { scores } = await t.interpret(images, [[striped, random0], [dotted, random0]], { target: 2 })
 * scores['0-2']['/pool1/MaxPool_output_0'].signCount   // fraction of images the concept pushes towards class 2
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TensorLike } from '../api/callData.js'
import type { Model } from '../core/backend.js'
import { ClarusError } from '../core/errors.js'
import type { Target } from '../core/target.js'
import type { HostTensor } from '../core/tensor.js'
import type { Cav, Cavs } from './cav.js'
import type { ClassifierFn, ClassifierSpec } from './classifier.js'
import { setKey, type ExperimentalSet } from './concept.js'
import { computeCavs, tcav, type TcavResult } from './tcav.js'

/** Captum's constructor arguments, camelCased (layers are tensor names). */
export interface TcavConstructorOptions {
  readonly classifier?: ClassifierSpec
  readonly classifierFn?: ClassifierFn
  readonly attributeToLayerInput?: boolean
  readonly seed?: number
}

/** Captum: `TCAV(model, layers, classifier=…, attribute_to_layer_input=…)`. */
export class TCAV<T> {
  private readonly trained = new Map<string, Map<string, Cav>>()
  private readonly layers: readonly string[]

  constructor(readonly model: Model<T>, layers: string | readonly string[], readonly options: TcavConstructorOptions = {}) {
    this.layers = typeof layers === 'string' ? [layers] : layers
  }

  /** The CAVs this instance holds (trained or given), by set key and layer. */
  get cavs(): Cavs {
    return Object.fromEntries([...this.trained].map(([k, m]) => [k, Object.fromEntries(m)]))
  }

  /** Stores CAVs (e.g. read with `cavsFromJson`) so later calls use them instead of training. */
  loadCavs(cavs: Cavs): void {
    for (const [key, byLayer] of Object.entries(cavs)) {
      const m = this.trained.get(key) ?? new Map<string, Cav>()
      for (const [layer, cav] of Object.entries(byLayer)) m.set(layer, cav)
      this.trained.set(key, m)
    }
  }

  private held(sets: readonly ExperimentalSet[], forceTrain: boolean): Cavs | undefined {
    return forceTrain ? undefined : Object.fromEntries(sets.map((s) => [setKey(s), Object.fromEntries(this.trained.get(setKey(s)) ?? new Map())]))
  }

  /** Captum: `compute_cavs(experimental_sets, force_train=False)`. */
  async computeCavs(experimentalSets: readonly ExperimentalSet[], options: { readonly forceTrain?: boolean } = {}): Promise<Cavs> {
    const held = this.held(experimentalSets, options.forceTrain === true)
    const r = await computeCavs(this.model, { ...this.options, layers: this.layers, experimentalSets, ...(held !== undefined ? { cavs: held } : {}) })()
    if (E.isLeft(r)) throw new ClarusError(r.left)
    this.loadCavs(r.right)
    return r.right
  }

  /** Captum: `interpret(inputs, experimental_sets, target=…, additional_forward_args=…)`. */
  async interpret(
    inputs: TensorLike<T>,
    experimentalSets: readonly ExperimentalSet[],
    options: { readonly target?: Target; readonly additionalForwardArgs?: readonly HostTensor[]; readonly forceTrain?: boolean } = {},
  ): Promise<TcavResult> {
    const held = this.held(experimentalSets, options.forceTrain === true)
    const r = await tcav(this.model, inputs, {
      ...this.options,
      layers: this.layers,
      experimentalSets,
      ...(options.target !== undefined ? { target: options.target } : {}),
      ...(options.additionalForwardArgs !== undefined ? { additionalForwardArgs: options.additionalForwardArgs } : {}),
      ...(held !== undefined ? { cavs: held } : {}),
    })()
    if (E.isLeft(r)) throw new ClarusError(r.left)
    this.loadCavs(r.right.cavs)
    return r.right
  }
}
