/**
 * Runners for the influence cases of the wave-2 fixtures (TracInCP, TracInCPFast): the checkpoints
 * are reference models (`influence_data.checkpoints[].model`) with their learning rates, the
 * training set is `influence_data.train_dataset`, the test batch is the case's inputs (`input`,
 * `label`). Captum's module names (`layers`, `final_fc_layer`) map to the ONNX initializers that
 * torch's export names after them (`fc3` → `fc3.weight`, `fc3.bias`).
 *
 * @category conformance
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isHostTensor } from '../core/codecs.js'
import type { AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { InfluenceLoss } from '../influence/loss.js'
import { tracInCP, tracInCPFast, type Checkpoint, type InfluenceData, type TracIn } from '../influence/tracIn.js'
import { compareFields, expectedFields, type AreaCaseRunner, type AreaContext, type AreaOutcome } from './fields.js'
import type { ReferenceCase } from './load.js'

type Rec = Readonly<Record<string, unknown>>

const rec = (u: unknown): Rec => (typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Rec) : {})

const unsupported = (reason: string): AreaOutcome => ({ kind: 'unsupported', reason })

/** A case loss (`{type: 'CrossEntropyLoss', reduction}`), null (absent), or why it is not understood. */
const lossOf = (u: unknown): InfluenceLoss | null | string => {
  if (u === null || u === undefined) return null
  const l = rec(u)
  const r = l['reduction']
  if (r !== 'none' && r !== 'sum' && r !== 'mean') return `loss reduction ${JSON.stringify(r)} is not understood`
  if (l['type'] === 'CrossEntropyLoss') return { _tag: 'crossEntropy', reduction: r }
  if (l['type'] === 'MSELoss') return { _tag: 'mse', reduction: r }
  return `loss ${JSON.stringify(u)} is not understood`
}

const tensor = (u: unknown): HostTensor | undefined => (isHostTensor(u) ? u : undefined)

/** The checkpoints of the case, loaded on the target's backend. */
const checkpointsOf = async <T>(c: ReferenceCase, ctx: AreaContext<T>): Promise<readonly Checkpoint<T>[] | string> => {
  const list = rec(c.wave2['influence_data'])['checkpoints']
  if (!Array.isArray(list) || list.length === 0) return 'the case lists no checkpoints'
  const out: Checkpoint<T>[] = []
  for (const entry of list) {
    const e = rec(entry)
    const name = e['model']
    const lr = e['learning_rate']
    if (typeof name !== 'string' || typeof lr !== 'number') return `checkpoint ${JSON.stringify(entry)} has no model name or learning rate`
    const m = await ctx.model(name)
    if (E.isLeft(m)) return `checkpoint model ${name}: ${m.left}`
    out.push({ model: m.right, learningRate: lr })
  }
  return out
}

const describe = (e: AttributionError): string => `${e._tag}: ${e.message}`

/** Runs the Captum calls the case records and compares every expected field. */
const runCase = async (tracin: TracIn, c: ReferenceCase, test: InfluenceData): Promise<AreaOutcome> => {
  const args = rec(c.wave2['args'])
  const expected = expectedFields(c)
  const aggregate = args['aggregate'] === true
  const k = typeof args['k'] === 'number' ? args['k'] : 3
  const got: Record<string, unknown> = {}
  const infl = await tracin.influence(test, { aggregate })()
  if (E.isLeft(infl)) return { kind: 'compared', ok: false, detail: `influence: ${describe(infl.left)}` }
  got['influence'] = infl.right
  for (const [field, proponents] of [['proponents', true], ['opponents', false]] as const) {
    const r = await tracin.topK(test, { k, proponents, aggregate })()
    if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${field}: ${describe(r.left)}` }
    got[field] = { indices: r.right.indices, influence_scores: r.right.influenceScores }
  }
  const self = await tracin.selfInfluence()()
  if (E.isLeft(self)) return { kind: 'compared', ok: false, detail: `self_influence: ${describe(self.left)}` }
  got['self_influence'] = self.right
  if ('self_influence_inputs' in expected) {
    const s = await tracin.selfInfluence(test)()
    if (E.isLeft(s)) return { kind: 'compared', ok: false, detail: `self_influence_inputs: ${describe(s.left)}` }
    got['self_influence_inputs'] = s.right
  }
  const fields = Object.keys(got)
  const r = compareFields(c, got, fields)
  return { kind: 'compared', ok: r.ok, detail: r.detail }
}

/** Training and test data, the losses and batch size shared by both algorithms, or why not. */
const setupOf = (c: ReferenceCase): { train: InfluenceData; test: InfluenceData; loss: InfluenceLoss | null; testLoss: InfluenceLoss | null; batchSize: number } | string => {
  const data = rec(c.wave2['influence_data'])
  const ds = rec(data['train_dataset'])
  const inputs = tensor(ds['inputs'])
  const labels = tensor(ds['labels'])
  if (inputs === undefined || labels === undefined) return 'the case has no training set'
  const [x, y] = c.inputs
  if (x === undefined || y === undefined) return 'the case has no test batch (input, label)'
  const ctor = c.constructorArgs
  const loss = lossOf(ctor['loss_fn'])
  const testLoss = lossOf(ctor['test_loss_fn'])
  if (typeof loss === 'string') return loss
  if (typeof testLoss === 'string') return testLoss
  const bs = ctor['batch_size']
  return { train: { inputs, labels }, test: { inputs: x, labels: y }, loss, testLoss, batchSize: typeof bs === 'number' ? bs : 1 }
}

const asOutcome = async (made: E.Either<AttributionError, TracIn>, c: ReferenceCase, test: InfluenceData): Promise<AreaOutcome> => {
  if (E.isLeft(made)) {
    return made.left._tag === 'Unsupported' ? unsupported(made.left.message) : { kind: 'compared', ok: false, detail: describe(made.left) }
  }
  return runCase(made.right, c, test)
}

/** TracInCP: `layers` (torch module names, null = all) → the parameters named after them. */
export const runTracInCP: AreaCaseRunner = async (c, ctx) => {
  const s = setupOf(c)
  if (typeof s === 'string') return unsupported(s)
  const cks = await checkpointsOf(c, ctx)
  if (typeof cks === 'string') return unsupported(cks)
  const layers = c.constructorArgs['layers']
  if (layers !== null && layers !== undefined && !(Array.isArray(layers) && layers.every((l) => typeof l === 'string'))) return unsupported(`layers ${JSON.stringify(layers)} is not a list of module names`)
  const params = Array.isArray(layers)
    ? (cks[0]?.model.signature.parameters ?? []).filter((p) => (layers as string[]).some((l) => p.name.startsWith(`${l}.`))).map((p) => p.name)
    : undefined
  const made = tracInCP(cks, s.train, {
    ...(s.loss !== null ? { loss: s.loss } : {}),
    ...(s.testLoss !== null ? { testLoss: s.testLoss } : {}),
    batchSize: s.batchSize,
    sampleWiseGradsPerBatch: c.constructorArgs['sample_wise_grads_per_batch'] === true,
    ...(params !== undefined ? { parameters: params } : {}),
  })
  return asOutcome(made, c, s.test)
}

/** TracInCPFast: `final_fc_layer` (a torch module name) → its weight parameter. */
export const runTracInCPFast: AreaCaseRunner = async (c, ctx) => {
  const s = setupOf(c)
  if (typeof s === 'string') return unsupported(s)
  const fc = c.constructorArgs['final_fc_layer']
  if (typeof fc !== 'string') return unsupported('the case names no final_fc_layer')
  const cks = await checkpointsOf(c, ctx)
  if (typeof cks === 'string') return unsupported(cks)
  const made = tracInCPFast(cks, s.train, {
    finalFcLayer: `${fc}.weight`,
    ...(s.loss !== null ? { loss: s.loss } : {}),
    ...(s.testLoss !== null ? { testLoss: s.testLoss } : {}),
    batchSize: s.batchSize,
  })
  return asOutcome(made, c, s.test)
}
