/**
 * The abstract flow: what a pipeline's data looks like between stages, without any tensor. Every
 * stage declares how it transforms one (`StageBase.abstract`) and which call data it needs
 * (`StageBase.needs`); {@link checkPipeline} walks a pipeline over these declarations, the way JAX
 * evaluates a program on shapes only, so a composition that cannot run is rejected before any model
 * call, naming the stage and what it lacks.
 *
 * Kinds of flow:
 * - `points`: where the model is evaluated (inputs, path points, perturbed copies, layer values to inject);
 * - `values`: per-element results over those points (gradients, activations, attributions);
 * - `outputs`: model outputs per perturbed copy, waiting for a perturbation reducer.
 *
 * Slots (named data a flow may carry besides its value; see docs/architecture.md):
 * - `baseline`: x′ aligned row for row with the points;
 * - `anchor`: the points at which the current values were computed (x of x ⊙ ∂F/∂x);
 * - `anchorBaseline`: the baseline of the anchor (x′ of (x − x′) ⊙ …);
 * - `reference`: F(x) at the unperturbed inputs (perturbation methods);
 * - `delta`: a completeness delta per row.
 *
 * @category dsl
 * @since 0.2.0
 */

import type { CallDataKey, Space } from './flow.js'
import { sameLayers, spaceSelection } from './layers.js'

export type FlowKind = 'points' | 'values' | 'outputs'
export type Slot = 'baseline' | 'anchor' | 'anchorBaseline' | 'reference' | 'delta'
/**
 * What a stage declares it needs from the call (`StageBase.needs`): a key of the typed call-data
 * record (`CallDataTypes` in flow.ts: `baselines`, `baselineDistribution`, `featureMask`,
 * `perturbationsPerEval`, `plugins`), which `attribute` then prepares and the stage reads from
 * `ctx.callData`, or `floatInputs` (the attributed inputs are differentiated, so they must be
 * float; a requirement the interpreter checks, not data).
 */
export type CallDatum = CallDataKey | 'floatInputs'

export interface AbstractFlow {
  readonly kind: FlowKind
  /** The model inputs, or a named internal tensor. */
  readonly space: Space
  readonly slots: ReadonlySet<Slot>
  /** Expansions open around this point (0: one row per example). */
  readonly depth: number
}

/** Do two spaces name the same tensors (the same layers, in the same form and order)? */
export const sameSpace = (a: Space, b: Space): boolean => {
  const la = spaceSelection(a)
  const lb = spaceSelection(b)
  return la === undefined || lb === undefined ? la === lb : sameLayers(la, lb)
}

/** A stage's verdict on an abstract flow: the flow it produces, or why it cannot run on it. */
export type Transfer = AbstractFlow | string

const KIND_WORDS: Readonly<Record<FlowKind, string>> = {
  points: 'model inputs (points where the model is evaluated)',
  values: 'per-element values (gradients, activations or attributions)',
  outputs: 'model outputs of perturbed copies',
}

export const describeKind = (k: FlowKind): string => KIND_WORDS[k]

/** The reason `flow` is not of one of `kinds`, for a stage that `does` something; undefined when it is. */
export const wrongKind = (flow: AbstractFlow, kinds: readonly FlowKind[], does: string): string | undefined =>
  kinds.includes(flow.kind) ? undefined : `${does}, so it needs ${kinds.map(describeKind).join(' or ')}, but here the flow holds ${describeKind(flow.kind)}`

/** The reason a slot is missing; undefined when all are there. */
export const missingSlot = (flow: AbstractFlow, slots: readonly Slot[], hint: string): string | undefined => {
  const missing = slots.filter((s) => !flow.slots.has(s))
  return missing.length === 0 ? undefined : `it reads the slot${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s}'`).join(', ')}, which no earlier stage set: ${hint}`
}

/** `flow` with some slots added and some removed. */
export const withSlots = (flow: AbstractFlow, add: readonly Slot[], drop: readonly Slot[] = []): ReadonlySet<Slot> => {
  const s = new Set(flow.slots)
  for (const d of drop) s.delete(d)
  for (const a of add) s.add(a)
  return s
}

/** The first reason in the list, or the produced flow. */
export const firstProblem = (problems: readonly (string | undefined)[], ok: () => AbstractFlow): Transfer =>
  problems.find((p) => p !== undefined) ?? ok()
