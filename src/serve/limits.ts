/**
 * The service's work limits, checked before a request waits for a slot: integration steps
 * (`nSteps`), samples (`nSamples`, NoiseTunnel's `ntSamples`) and the number of perturbed copies a
 * perturbation method evaluates per example (features, Occlusion windows, Shapley coalitions),
 * counted from the request's own inputs and feature masks exactly as the interpreter counts them.
 *
 * @category serve
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ResolvedSpec } from '../cli/spec.js'
import type { HostTensor } from '../core/tensor.js'
import { Design, itemCount } from '../dsl/perturbation/designs.js'
import { FeatureSpec, layoutOf } from '../dsl/perturbation/layout.js'
import type { RequestIssue } from './request.js'

/**
 * The limits {@link limitIssues} enforces.
 *
 * @internal
 */
export interface WorkLimits {
  readonly maxSteps: number
  readonly maxSamples: number
  readonly maxPerturbations: number
}

const STEP_KEYS = ['nSteps']
const SAMPLE_KEYS = ['nSamples', 'ntSamples']

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** Every object in a JSON tree with its path. */
const objectsOf = (u: unknown, path: readonly string[], out: { path: readonly string[]; o: Readonly<Record<string, unknown>> }[] = []): typeof out => {
  if (Array.isArray(u)) u.forEach((v, i) => objectsOf(v, [...path, String(i)], out))
  else if (isRecord(u)) {
    out.push({ path, o: u })
    for (const [k, v] of Object.entries(u)) objectsOf(v, [...path, k], out)
  }
  return out
}

const over = (value: unknown, max: number): value is number => typeof value === 'number' && value > max

/**
 * Every limit a request exceeds. A method spec is checked on its options (`spec.options.nSteps`),
 * a pipeline spec on its stages (`spec.stages.0.nSteps`); perturbation counts on every `perturb`
 * stage of the pipeline that will run.
 *
 * @internal
 */
export const limitIssues = (spec: ResolvedSpec, given: unknown, limits: WorkLimits, inputs: readonly HostTensor[], featureMask: readonly HostTensor[] | undefined): RequestIssue[] => {
  const issues: RequestIssue[] = []
  const tooMany = (path: readonly string[], key: string, value: number, max: number, name: string): void => {
    issues.push({ path: [...path, key].join('.'), message: `${key} is ${value}; this server allows at most ${max} (${name}). Ask for fewer` })
  }
  const checkCounts = (o: Readonly<Record<string, unknown>>, path: readonly string[]): void => {
    for (const k of STEP_KEYS) if (over(o[k], limits.maxSteps)) tooMany(path, k, o[k], limits.maxSteps, 'maxSteps')
    // An enumerating sampler's nSamples is a cap (2^features are enumerated at most); the perturbation count below bounds it.
    const capOnly = o._tag === 'coalitions' && o.sampler === 'enumerate'
    if (!capOnly) for (const k of SAMPLE_KEYS) if (over(o[k], limits.maxSamples)) tooMany(path, k, o[k], limits.maxSamples, 'maxSamples')
  }
  const fromOptions = spec.method !== undefined
  // A method's options are what the client wrote; its pipeline may add to them (LayerConductance's nSteps + 1).
  if (fromOptions) checkCounts(spec.options, ['spec', 'options'])
  const shapes = inputs.map((x) => x.shape)
  for (const { path, o } of objectsOf(spec.pipeline, ['spec'])) {
    if (!fromOptions) checkCounts(o, path)
    if (o._tag !== 'perturb') continue
    const features = FeatureSpec.decode(o.features)
    const design = Design.decode(o.design)
    if (E.isLeft(features) || E.isLeft(design) || features.right._tag === 'layerMask') continue
    // A layout that does not fit the inputs is the interpreter's error to report, with its own path.
    const layout = layoutOf(features.right, shapes, featureMask)
    if (E.isLeft(layout)) continue
    const n = itemCount(design.right, layout.right.nFeatures)
    if (n <= limits.maxPerturbations) continue
    const where = !fromOptions ? path.join('.')
      : isRecord(given) && isRecord(given.options) && 'nSamples' in given.options ? 'spec.options.nSamples'
        : features.right._tag === 'windows' ? 'spec.options.slidingWindowShapes'
          : featureMask !== undefined ? 'featureMask' : 'inputs'
    const hint = features.right._tag === 'windows' ? 'use larger windows or strides' : 'group features with a featureMask, or ask for fewer samples'
    issues.push({ path: where, message: `${spec.pipeline.name} would evaluate ${n} perturbed copies of each example over ${layout.right.nFeatures} features; this server allows at most ${limits.maxPerturbations} (maxPerturbations): ${hint}` })
  }
  return issues
}
