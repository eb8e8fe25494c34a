/**
 * Pipelines as plain data. A {@link Pipeline} is a name and a list of stage specs; each stage
 * spec is `{ _tag, ...params }`. `JSON.stringify` round-trips it, {@link decodePipeline} validates
 * it (every bad field is reported with its path, and the stage structure is checked), and
 * {@link describe} prints the composition.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ClarusError, err, invalidSpec, type BadPipeline, type InvalidSpec } from '../core/errors.js'
import { describeKind, sameSpace, withSlots, type AbstractFlow, type CallDatum } from './abstract.js'
import { toInvalidSpec } from '../core/codecs.js'
import { ALL_STAGES } from './stages/index.js'
import type { AnyStageDef } from './stage.js'

/** The parameters type of a stage definition (what its `params` codec decodes to). */
export type ParamsOf<D> = D extends { readonly params: t.Type<infer P, unknown, unknown> } ? P : never

/** The spec of a stage definition: `{ _tag, ...params }`. Distributes over a union of definitions. */
export type SpecOf<D> = D extends AnyStageDef ? { readonly _tag: D['tag'] } & ParamsOf<D> : never

/** The stage definitions of the vocabulary, as a union of their precise types. */
export type StageDefs = (typeof ALL_STAGES)[number]

/** The tag of every stage in `ALL_STAGES`. */
export type StageTag = StageDefs['tag']

/** One stage of a pipeline, as data: derived from `ALL_STAGES`, one member per stage. */
export type StageSpec = SpecOf<StageDefs>

/** An attribution method as a value. */
export interface Pipeline {
  readonly _tag: 'Pipeline'
  readonly name: string
  readonly stages: readonly StageSpec[]
}

/**
 * The definition of a stage by tag (undefined for unknown tags). A scan of the short list rather
 * than a map built at load time: `apply` imports this module from inside the stage list, so
 * `ALL_STAGES` may not exist yet while this module loads.
 */
export const stageDef = (tag: string): AnyStageDef | undefined => ALL_STAGES.find((s) => s.tag === tag)

/** Codec for one stage spec: dispatches on `_tag` and decodes the parameters with that stage's codec. */
export const StageSpecCodec = new t.Type<StageSpec, StageSpec, unknown>(
  'StageSpec',
  (u): u is StageSpec => typeof u === 'object' && u !== null && stageDef((u as { _tag?: string })._tag ?? '')?.params.is(u) === true,
  (u, c) => {
    if (typeof u !== 'object' || u === null) return t.failure(u, c, 'a stage must be an object with a _tag')
    const tag = (u as { _tag?: unknown })._tag
    const def = typeof tag === 'string' ? stageDef(tag) : undefined
    if (def === undefined) {
      return t.failure(u, t.appendContext(c, '_tag', t.string, tag), `unknown stage ${JSON.stringify(tag)}; known stages: ${ALL_STAGES.map((s) => s.tag).join(', ')}`)
    }
    const { _tag, ...params } = u as Record<string, unknown>
    void _tag
    const decoded = def.params.validate(params, c)
    if (E.isLeft(decoded)) return decoded
    const issues = def.validate?.(decoded.right) ?? []
    if (issues.length > 0) {
      return t.failures(issues.map((i) => ({ value: u, context: [...c, ...i.path.map((key) => ({ key, type: t.unknown, actual: u }))], message: i.message })))
    }
    return t.success({ _tag: def.tag, ...(decoded.right as object) } as StageSpec)
  },
  (s) => s,
)

export const PipelineCodec = t.readonly(
  t.type({ _tag: t.literal('Pipeline'), name: t.string, stages: t.readonlyArray(StageSpecCodec) }),
  'Pipeline',
) as unknown as t.Type<Pipeline, Pipeline, unknown>

/**
 * Checks that expansions and reductions pair up like brackets with the same axis, so the
 * interpreter can chunk every expansion. Returns every problem found.
 */
export const checkStructure = (p: Pipeline): readonly { path: string[]; message: string }[] => {
  const issues: { path: string[]; message: string }[] = []
  const open: { axis: string; at: number }[] = []
  p.stages.forEach((s, i) => {
    const def = stageDef(s._tag)
    if (def === undefined) return
    if (def.kind === 'expand') open.push({ axis: def.axis, at: i })
    if (def.kind === 'reduce') {
      const top = open.pop()
      if (top === undefined) issues.push({ path: ['stages', String(i)], message: `${s._tag} closes a '${def.axis}' axis but none is open` })
      else if (top.axis !== def.axis) {
        issues.push({ path: ['stages', String(i)], message: `${s._tag} closes a '${def.axis}' axis but stage ${top.at} opened a '${top.axis}' axis` })
      }
    }
  })
  for (const o of open) issues.push({ path: ['stages', String(o.at)], message: `the '${o.axis}' axis opened here is never closed by a reducing stage` })
  return issues
}

const paramsOf = (s: StageSpec): unknown => {
  const { _tag, ...params } = s as { _tag: string } & Record<string, unknown>
  void _tag
  return params
}

/**
 * The call data a (well-formed) pipeline's stages declare they need, less what an enclosing
 * expansion provides to the stages inside it (`StageBase.provides`).
 */
export const callDataOf = (p: Pipeline): ReadonlySet<CallDatum> => {
  const out = new Set<CallDatum>()
  const provided: ReadonlySet<CallDatum>[] = []
  for (const s of p.stages) {
    const def = stageDef(s._tag)
    if (def === undefined) continue
    if (def.kind === 'reduce') provided.pop()
    for (const d of def.needs?.(paramsOf(s)) ?? []) if (!provided.some((q) => q.has(d))) out.add(d)
    if (def.kind === 'expand') provided.push(new Set(def.provides?.(paramsOf(s)) ?? []))
  }
  return out
}

/** Whether any stage of `p`, inner pipelines included, makes an example's result depend on its batch. */
export const isBatchDependent = (p: { readonly stages: readonly StageSpec[] }): boolean =>
  p.stages.some((s) => {
    const def = stageDef(s._tag)
    if (def === undefined) return false
    if (def.batchDependent?.(paramsOf(s)) === true) return true
    const inner = def.kind === 'map' ? def.inner?.(paramsOf(s)) : undefined
    return inner !== undefined && isBatchDependent(inner as { readonly stages: readonly StageSpec[] })
  })

/**
 * The abstract interpretation of a well-formed pipeline (see `abstract.ts`): walks the stages over
 * flow kinds and slots, as the interpreter would over tensors, and returns the call data the
 * pipeline needs, or a `BadPipeline` naming the first stage that cannot run and what it lacks.
 * After a reduction the outer flow's slots come back as the interpreter restores them: `baseline`,
 * and `anchor`/`anchorBaseline` = the points before the expansion, when the space is unchanged;
 * `reference` and `delta` are dropped, and a delta dropped that way is an error.
 */
export const checkPipeline = (p: Pipeline): E.Either<BadPipeline, ReadonlySet<CallDatum>> => E.map((r: { readonly needs: ReadonlySet<CallDatum> }) => r.needs)(abstractResult(p))

/** The abstract flow a pipeline ends with (its kind, space and slots) and the call data it needs; see {@link checkPipeline}. */
export const abstractResult = (p: Pipeline): E.Either<BadPipeline, { readonly needs: ReadonlySet<CallDatum>; readonly flow: AbstractFlow }> => {
  const needs = callDataOf(p)
  if (p.stages.length === 0) return E.left(err('BadPipeline', `pipeline ${JSON.stringify(p.name)} has no stages: it would return its inputs unchanged`, ['stages']))
  const outer: { flow: AbstractFlow; at: number }[] = []
  let flow: AbstractFlow = { kind: 'points', space: { kind: 'input' }, slots: new Set(needs.has('baselines') ? ['baseline'] : []), depth: 0 }
  for (let i = 0; i < p.stages.length; i++) {
    const s = p.stages[i]!
    const def = stageDef(s._tag)
    if (def === undefined) continue
    const at = ['stages', String(i)]
    const open = def.kind === 'reduce' ? outer.pop() : undefined
    if (def.kind === 'reduce') {
      if (open === undefined) return E.left(err('BadPipeline', `stage ${i} (${s._tag}) closes an axis but none is open`, at))
      if (flow.slots.has('delta') && def.carries?.includes('delta') !== true) {
        return E.left(err('BadPipeline', `stage ${i} (${s._tag}) closes the '${def.axis}' axis opened at stage ${open.at} and would drop the completeness delta computed inside it: ` +
          `move completenessDelta after stage ${i}`, at))
      }
    }
    const next = def.abstract(paramsOf(s), flow)
    if (typeof next === 'string') return E.left(err('BadPipeline', `stage ${i} (${s._tag}) cannot run here: ${next}`, at))
    if (def.kind === 'expand') outer.push({ flow, at: i })
    if (open === undefined) {
      flow = next
      continue
    }
    const back = open.flow
    const kept = sameSpace(back.space, next.space)
    flow = {
      kind: next.kind,
      space: next.space,
      depth: back.depth,
      slots: withSlots({ ...back, slots: new Set() }, [
        ...(kept ? (back.slots.has('baseline') ? ['baseline', 'anchor', 'anchorBaseline'] as const : ['anchor'] as const) : []),
        ...(next.slots.has('delta') && def.kind === 'reduce' && def.carries?.includes('delta') === true ? ['delta'] as const : []),
      ]),
    }
  }
  if (flow.kind !== 'values') {
    return E.left(err('BadPipeline', `pipeline ${JSON.stringify(p.name)} ends with ${describeKind(flow.kind)}, not attributions: ` +
      'end it with a stage that computes values (grad, activation, or perturb … forward … diff)', ['stages', String(p.stages.length - 1)]))
  }
  return E.right({ needs, flow })
}

/**
 * Validates unknown data (e.g. parsed JSON) as a pipeline: its fields and bracket structure
 * (`InvalidSpec`), then whether its stages fit together (`BadPipeline`, see {@link checkPipeline}).
 */
export const decodePipeline = (u: unknown): E.Either<InvalidSpec | BadPipeline, Pipeline> => {
  const decoded = PipelineCodec.decode(u)
  if (E.isLeft(decoded)) return E.left(toInvalidSpec(decoded.left))
  const issues = checkStructure(decoded.right)
  if (issues.length > 0) return E.left(invalidSpec(issues))
  return E.map(() => decoded.right)(checkPipeline(decoded.right))
}

/** Builds a pipeline value, validated: a malformed composition or bad parameters throw a {@link ClarusError} carrying the InvalidSpec. */
export const pipeline = (name: string, ...stages: readonly StageSpec[]): Pipeline => {
  const p: Pipeline = { _tag: 'Pipeline', name, stages }
  const r = decodePipeline(p)
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

/** A readable, indented rendering of the composition, one stage per line, with axis changes marked. */
export const describe = (p: Pipeline): string => {
  let depth = 1
  const lines = [p.name]
  for (const s of p.stages) {
    const def = stageDef(s._tag)
    if (def === undefined) continue
    if (def.kind === 'reduce') depth = Math.max(1, depth - 1)
    const { _tag, ...params } = s as { _tag: string } & Record<string, unknown>
    const summary = def.summary(params)
    const mark = def.kind === 'expand' ? `  [+${def.axis}]` : def.kind === 'reduce' ? `  [−${def.axis}]` : ''
    lines.push(`${'  '.repeat(depth)}${_tag}${summary ? `(${summary})` : ''}${mark}`)
    if (def.kind === 'expand') depth++
  }
  return lines.join('\n')
}

/** The composition on one line: `interpolate ∘ grad ∘ quadrature ∘ scaleByDelta`. */
export const compositionOf = (p: Pipeline): string => p.stages.map((s) => s._tag).join(' ∘ ')
