/**
 * The six axioms `verify` checks, each as data: a precise statement, when it applies, the
 * parameters fast-check searches over (besides the perturbation of the inputs, which every axiom
 * shares), and a measurement that returns the error for one sample. An axiom holds on a sample when
 * its error is at most the tolerance. x is the user's input moved by the sampled perturbation, x′
 * the baseline (zeros unless given), F the explained output scalar (the `target` column), A(F, x, x′)
 * the method's attributions, and ‖A‖ the largest |attribution| of the reference run.
 *
 * - completeness: Σ A(F, x, x′) = F(x) − F(x′) per example (x′ averaged over a baseline
 *   distribution for methods that draw from one); error |Σ A − ΔF| / (1 + |ΔF|).
 * - sensitivity (Sundararajan et al.'s sensitivity(a)): for every feature i, with x̃ = x′ except
 *   x̃_i = x_i, if F(x̃) ≠ F(x′) then A(F, x̃, x′)_i ≠ 0; error: the largest |F(x̃) − F(x′)| whose
 *   feature got an attribution of (numerically) zero (|A_i| ≤ 1e-7 + 1e-6 |ΔF|).
 * - implementationInvariance: a functionally equal model G (here (1 + c)·F∘P∘P − c·F, with P a
 *   feature swap, so P∘P = id) gets the same attributions; error ‖A(G) − A(F)‖∞ / (1 + ‖A‖).
 * - linearity: A(a·F₁ + b·F₂) = a·A(F₁) + b·A(F₂), with F₁ the target output and F₂ another
 *   output of the same model (the same output for a single-output model), combined by
 *   `combineModels`; error ‖·‖∞ / (1 + ‖A‖).
 * - symmetry: for a model symmetric in features i and j (S(x) = F(x) + F(P_ij x)), swapping i and
 *   j in the input and the baseline swaps their attributions: A(S, Px, Px′) = P A(S, x, x′);
 *   error ‖·‖∞ / (1 + ‖A‖).
 * - dummy: a feature the model does not depend on (F with that feature held constant) gets zero
 *   attribution; error |A_i| / (1 + ‖A‖).
 *
 * Sensitivity and symmetry are stated on input features: for methods that attribute to a layer or
 * a neuron they do not apply (the report says so). Dummy applies to a layer method too, on the
 * layer's neurons: the model with one neuron of the layer pinned to a constant (`withConstantNeuron`)
 * does not depend on it, so it must get zero attribution.
 *
 * @category verify
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import type { Model } from '../core/backend.js'
import type { AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { Axiom } from '../algorithms/registry.js'
import { combineModels, reimplemented, symmetrized, withConstantFeature, withConstantNeuron } from './models.js'
import { featureName, fmt, locate, maxAbsOf, maxDiff, perRow, rowSums, rowsOf, swapped, tiled, weightedSum } from './host.js'

/** What the method returns for one call: attributions (host tensors), or a typed error. */
export type Runner<T> = (
  model: Model<T>,
  inputs: readonly HostTensor[],
  call: { readonly baselines: readonly HostTensor[]; readonly target: number | undefined },
) => Promise<E.Either<AttributionError, readonly HostTensor[]>>

/** Everything an axiom needs about the call being verified. */
export interface AxiomContext<T> {
  readonly model: Model<T>
  readonly run: Runner<T>
  /** The user's inputs, as float32. */
  readonly inputs: readonly HostTensor[]
  /** x′: one row per example (a baseline distribution's rows for methods that draw from one). */
  readonly baselines: readonly HostTensor[]
  /** Whether `baselines` is a distribution to average over (rows need not match the inputs). */
  readonly distribution: boolean
  readonly target: number | undefined
  /** Output columns of a (rows, k) output; undefined for one scalar per row. */
  readonly outputColumns: number | undefined
  /** Whether the method's attributions mirror the inputs (false for layer and neuron methods). */
  readonly inputSpace: boolean
  /**
   * For a method attributing to one named layer: the layer, and its scalars per example (dummy is
   * then checked on the layer's neurons).
   */
  readonly layer?: { readonly name: string; readonly size: number }
  /** F per example row. */
  readonly explained: (xs: readonly HostTensor[]) => Promise<E.Either<AttributionError, Float64Array>>
}

/** One measurement: the error, and where the worst of it is. */
export interface Measurement {
  readonly error: number
  readonly where: string
}

export type Params = Readonly<Record<string, number>>

export interface AxiomDef {
  readonly axiom: Axiom
  readonly statement: string
  /** Why the axiom does not apply to this call, or undefined when it does. */
  readonly notApplicable: <T>(ctx: AxiomContext<T>) => string | undefined
  readonly params: <T>(ctx: AxiomContext<T>) => fc.Arbitrary<Params>
  readonly measure: <T>(ctx: AxiomContext<T>, xs: readonly HostTensor[], p: Params) => Promise<E.Either<AttributionError, Measurement>>
  /** The sampled parameters in words, for a counterexample. */
  readonly describe: <T>(ctx: AxiomContext<T>, p: Params) => string
}

/**
 * A number in [min, max] on a grid of 1/1000, shrinking towards 0. (fast-check's doubles favour
 * tiny magnitudes like 1e-300, which would make weights and perturbations vanish.)
 */
export const grid = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min: Math.round(min * 1000), max: Math.round(max * 1000) }).map((v) => v / 1000)

const totalFeatures = (xs: readonly HostTensor[]): number => xs.reduce((s, x) => s + perRow(x), 0)
const inputSpaceOnly = <T>(ctx: AxiomContext<T>): string | undefined =>
  ctx.inputSpace ? undefined : 'the method attributes to a layer or a neuron, and this axiom is about input features'
const rowOf = (where: number, rows: number): number => where % rows

/** ΔF per example: F(x) − F(x′), with F(x′) averaged over a distribution's rows. */
const deltaF = async <T>(ctx: AxiomContext<T>, xs: readonly HostTensor[], x0: readonly HostTensor[]): Promise<E.Either<AttributionError, Float64Array>> => {
  const fx = await ctx.explained(xs)
  if (E.isLeft(fx)) return fx
  const f0 = await ctx.explained(x0)
  if (E.isLeft(f0)) return f0
  if (!ctx.distribution) return E.right(fx.right.map((v, r) => v - f0.right[r]!))
  const mean = f0.right.reduce((a, v) => a + v, 0) / f0.right.length
  return E.right(fx.right.map((v) => v - mean))
}

const completeness: AxiomDef = {
  axiom: 'completeness',
  statement: 'Σ attributions = F(x) − F(x′) for every example',
  notApplicable: () => undefined,
  params: () => fc.constant({}),
  measure: async (ctx, xs) => {
    const a = await ctx.run(ctx.model, xs, { baselines: ctx.baselines, target: ctx.target })
    if (E.isLeft(a)) return a
    const d = await deltaF(ctx, xs, ctx.baselines)
    if (E.isLeft(d)) return d
    const sums = rowSums(a.right, d.right.length)
    let worst = { error: 0, where: 'every example' }
    d.right.forEach((df, r) => {
      const e = Math.abs(sums[r]! - df) / (1 + Math.abs(df))
      if (!(e <= worst.error)) worst = { error: e, where: `example ${r}: Σ attributions = ${fmt(sums[r]!)}, F(x) − F(x′) = ${fmt(df)}` }
    })
    return E.right(worst)
  },
  describe: () => 'the perturbed inputs',
}

/** How many features one sensitivity sample checks (all of them for small inputs). */
const SENSITIVITY_BLOCK = 16

const sensitivity: AxiomDef = {
  axiom: 'sensitivity',
  statement: 'if x and x′ differ in one feature only and F(x) ≠ F(x′), that feature gets a non-zero attribution',
  notApplicable: (ctx) => inputSpaceOnly(ctx) ?? (ctx.distribution ? 'the method draws its baselines from a distribution, so there is no single x′ to differ from' : undefined),
  params: (ctx) => fc.record({ start: fc.integer({ min: 0, max: Math.max(0, totalFeatures(ctx.inputs) - 1) }) }),
  measure: async (ctx, xs, p) => {
    const n = rowsOf(xs[0]!)
    const total = totalFeatures(xs)
    const feats = Array.from({ length: Math.min(SENSITIVITY_BLOCK, total) }, (_, q) => (p.start! + q) % total)
    // rows (q, r) ↦ q·n + r: example r's baseline with feature feats[q] taken from x
    const batch = ctx.baselines.map((b) => tiled(b, feats.length))
    feats.forEach((f, q) => {
      const { input, index } = locate(xs, f)
      const d = perRow(xs[input]!)
      for (let r = 0; r < n; r++) (batch[input]!.data as Float32Array)[(q * n + r) * d + index] = Number(xs[input]!.data[r * d + index])
    })
    const base = ctx.baselines.map((b) => tiled(b, feats.length))
    const a = await ctx.run(ctx.model, batch, { baselines: base, target: ctx.target })
    if (E.isLeft(a)) return a
    const d = await deltaF(ctx, batch, base)
    if (E.isLeft(d)) return d
    let worst = { error: 0, where: 'every feature' }
    feats.forEach((f, q) => {
      const { input, index } = locate(xs, f)
      const dim = perRow(xs[input]!)
      for (let r = 0; r < n; r++) {
        const df = d.right[q * n + r]!
        const attr = Number(a.right[input]!.data[(q * n + r) * dim + index])
        const e = Math.abs(attr) <= 1e-7 + 1e-6 * Math.abs(df) ? Math.abs(df) : 0
        if (e > worst.error) worst = { error: e, where: `${featureName(xs, input, index)} of example ${r}: F(x̃) − F(x′) = ${fmt(df)} but its attribution is ${fmt(attr)}` }
      }
    })
    return E.right(worst)
  },
  describe: (ctx, p) => {
    const total = totalFeatures(ctx.inputs)
    return total <= SENSITIVITY_BLOCK ? 'every feature' : `features ${p.start} … ${(p.start! + SENSITIVITY_BLOCK - 1) % total} (cyclically)`
  },
}

const pairArb = <T>(ctx: AxiomContext<T>): fc.Arbitrary<{ input: number; i: number; j: number }> =>
  fc.integer({ min: 0, max: ctx.inputs.length - 1 }).chain((input) => {
    const d = perRow(ctx.inputs[input]!)
    return fc.record({ input: fc.constant(input), i: fc.integer({ min: 0, max: d - 1 }), j: fc.integer({ min: 0, max: d - 1 }) })
  })

const relative = (a: readonly HostTensor[], b: readonly HostTensor[], xs: readonly HostTensor[], scale: number, label: string): Measurement => {
  const m = maxDiff(a, b)
  const where = a.length === xs.length && a.every((t, k) => t.shape.join() === xs[k]!.shape.join())
    ? `${featureName(xs, m.tensor, m.index % perRow(xs[m.tensor]!))} of example ${Math.floor(m.index / perRow(xs[m.tensor]!))}`
    : `attribution ${m.tensor}, scalar ${m.index}`
  return { error: m.value / (1 + scale), where: `${where}: ${label} ${fmt(Number(a[m.tensor]?.data[m.index] ?? NaN))} vs ${fmt(Number(b[m.tensor]?.data[m.index] ?? NaN))}` }
}

const implementationInvariance: AxiomDef = {
  axiom: 'implementationInvariance',
  statement: 'two models that compute the same function get the same attributions',
  notApplicable: () => undefined,
  params: (ctx) => pairArb(ctx).chain((p) => fc.record({ input: fc.constant(p.input), i: fc.constant(p.i), j: fc.constant(p.j), c: grid(-2, 2) })),
  measure: async (ctx, xs, p) => {
    const call = { baselines: ctx.baselines, target: ctx.target }
    const a = await ctx.run(ctx.model, xs, call)
    if (E.isLeft(a)) return a
    const twin = reimplemented(ctx.model, { input: p.input!, i: p.i!, j: p.j!, c: p.c! })
    const b = await ctx.run(twin, xs, call)
    if (E.isLeft(b)) return b
    return E.right(relative(b.right, a.right, xs, maxAbsOf(a.right), 'equal model'))
  },
  describe: (ctx, p) => `G = ${fmt(1 + p.c!)}·F∘P∘P − ${fmt(p.c!)}·F, P swapping ${featureName(ctx.inputs, p.input!, p.i!)} and ${p.j}`,
}

const linearity: AxiomDef = {
  axiom: 'linearity',
  statement: 'attributions of a·F₁ + b·F₂ are a·(attributions of F₁) + b·(attributions of F₂)',
  notApplicable: () => undefined,
  params: (ctx) => fc.record({
    a: grid(-2, 2),
    b: grid(-2, 2),
    other: fc.integer({ min: 0, max: Math.max(0, (ctx.outputColumns ?? 1) - 1) }),
  }),
  measure: async (ctx, xs, p) => {
    const cols = ctx.outputColumns
    const t1 = cols === undefined ? undefined : (ctx.target ?? 0)
    const t2 = cols === undefined ? undefined : p.other!
    const combined = combineModels([
      { model: ctx.model, weight: p.a!, ...(t1 === undefined ? {} : { output: t1 }) },
      { model: ctx.model, weight: p.b!, ...(t2 === undefined ? {} : { output: t2 }) },
    ])
    const ac = await ctx.run(combined, xs, { baselines: ctx.baselines, target: cols === undefined ? undefined : 0 })
    if (E.isLeft(ac)) return ac
    const a1 = await ctx.run(ctx.model, xs, { baselines: ctx.baselines, target: t1 })
    if (E.isLeft(a1)) return a1
    const a2 = await ctx.run(ctx.model, xs, { baselines: ctx.baselines, target: t2 })
    if (E.isLeft(a2)) return a2
    const expected = weightedSum([{ w: p.a!, ts: a1.right }, { w: p.b!, ts: a2.right }])
    return E.right(relative(ac.right, expected, xs, Math.abs(p.a!) * maxAbsOf(a1.right) + Math.abs(p.b!) * maxAbsOf(a2.right), 'combined'))
  },
  describe: (ctx, p) => `a = ${fmt(p.a!)}, b = ${fmt(p.b!)}${ctx.outputColumns === undefined ? ' (F₁ = F₂ = F)' : `, F₁ = output ${ctx.target ?? 0}, F₂ = output ${p.other}`}`,
}

const symmetry: AxiomDef = {
  axiom: 'symmetry',
  statement: 'for a model symmetric in features i and j, swapping x_i ↔ x_j (and x′_i ↔ x′_j) swaps their attributions',
  notApplicable: (ctx) => inputSpaceOnly(ctx) ?? (ctx.inputs.every((x) => perRow(x) < 2) ? 'no input has two features to swap' : undefined),
  params: (ctx) => {
    const inputs = ctx.inputs.flatMap((x, k) => (perRow(x) >= 2 ? [k] : []))
    return fc.constantFrom(...inputs).chain((input) => {
      const d = perRow(ctx.inputs[input]!)
      return fc.record({ input: fc.constant(input), i: fc.integer({ min: 0, max: d - 2 }), gap: fc.integer({ min: 1, max: d - 1 }) })
        .map(({ input, i, gap }) => ({ input, i, j: (i + gap) % d }))
    })
  },
  measure: async (ctx, xs, p) => {
    const at = { input: p.input!, i: p.i!, j: p.j! }
    const sym = symmetrized(ctx.model, at)
    const swap = (ts: readonly HostTensor[]): HostTensor[] => ts.map((t, k) => (k === at.input ? swapped(t, at.i, at.j) : t))
    const a = await ctx.run(sym, xs, { baselines: ctx.baselines, target: ctx.target })
    if (E.isLeft(a)) return a
    const b = await ctx.run(sym, swap(xs), { baselines: swap(ctx.baselines), target: ctx.target })
    if (E.isLeft(b)) return b
    return E.right(relative(swap(b.right), a.right, xs, maxAbsOf(a.right), 'swapped'))
  },
  describe: (ctx, p) => `S(x) = F(x) + F(x with ${featureName(ctx.inputs, p.input!, p.i!)} and ${p.j} swapped)`,
}

const dummy: AxiomDef = {
  axiom: 'dummy',
  statement: 'a feature (or layer neuron) the model does not depend on gets zero attribution',
  notApplicable: (ctx) => (ctx.layer !== undefined ? undefined : inputSpaceOnly(ctx)),
  params: (ctx) => fc.record({ feature: fc.integer({ min: 0, max: (ctx.inputSpace ? totalFeatures(ctx.inputs) : ctx.layer!.size) - 1 }), value: grid(-1, 1) }),
  measure: async (ctx, xs, p) => {
    const inLayer = !ctx.inputSpace && ctx.layer !== undefined
    const { input, index } = inLayer ? { input: 0, index: p.feature! } : locate(xs, p.feature!)
    const blind = inLayer ? withConstantNeuron(ctx.model, { layer: ctx.layer!.name, index, value: p.value! }) : withConstantFeature(ctx.model, { input, index, value: p.value! })
    const a = await ctx.run(blind, xs, { baselines: ctx.baselines, target: ctx.target })
    if (E.isLeft(a)) return a
    const t = a.right[input]!
    const d = perRow(t)
    const scale = maxAbsOf(a.right)
    let worst = { error: 0, where: 'every example' }
    for (let r = 0; r < rowsOf(t); r++) {
      const v = Number(t.data[r * d + index])
      const e = Math.abs(v) / (1 + scale)
      if (!(e <= worst.error)) worst = { error: e, where: `${inLayer ? `neuron ${index} of ${ctx.layer!.name}` : featureName(xs, input, index)} of example ${rowOf(r, rowsOf(t))}: attribution ${fmt(v)}` }
    }
    return E.right(worst)
  },
  describe: (ctx, p) => {
    if (!ctx.inputSpace && ctx.layer !== undefined) return `F with neuron ${p.feature} of ${ctx.layer.name} held at ${fmt(p.value!)}`
    const { input, index } = locate(ctx.inputs, p.feature!)
    return `F with ${featureName(ctx.inputs, input, index)} held at ${fmt(p.value!)}`
  },
}

/** Every axiom, in the order reports list them. */
export const AXIOMS: Readonly<Record<Axiom, AxiomDef>> = { completeness, sensitivity, implementationInvariance, linearity, symmetry, dummy }
