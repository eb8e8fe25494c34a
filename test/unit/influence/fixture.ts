// The TracIn reference checkpoints (mlp after epochs 1-3) and the case's training and test rows.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import type { Model } from '../../../src/core/backend.js'
import { float32, int64, type HostTensor } from '../../../src/core/tensor.js'
import type { Checkpoint, InfluenceData } from '../../../src/influence/tracIn.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

interface JsonTensor {
  readonly data: unknown
  readonly shape: number[]
  readonly dtype: string
}

const flat = (u: unknown): number[] => (Array.isArray(u) ? u.flatMap(flat) : [u as number])

const hostOf = (j: JsonTensor): HostTensor => (j.dtype === 'int64' ? int64(j.shape, flat(j.data)) : float32(j.shape, flat(j.data)))

const caseJson = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'cases/mlp/mlp.tracincp.all_params.ce_none.bs4.json'), 'utf8')) as {
  inputs: JsonTensor[]
  influence_data: { train_dataset: { inputs: JsonTensor; labels: JsonTensor }; checkpoints: { model: string; learning_rate: number }[]; mislabeled_train_indices: number[] }
  expected: { influence: JsonTensor; self_influence: JsonTensor }
}

export const train: InfluenceData = { inputs: hostOf(caseJson.influence_data.train_dataset.inputs), labels: hostOf(caseJson.influence_data.train_dataset.labels) }
export const test: InfluenceData = { inputs: hostOf(caseJson.inputs[0]!), labels: hostOf(caseJson.inputs[1]!) }
export const expectedInfluence = hostOf(caseJson.expected.influence)
export const learningRates = caseJson.influence_data.checkpoints.map((c) => c.learning_rate)

export const loadModel = async (file: string): Promise<Model<HostTensor>> => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models', file))
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}

/** The three checkpoints with their learning rates (dispose the models after use). */
export const loadCheckpoints = async (): Promise<Checkpoint<HostTensor>[]> =>
  Promise.all(caseJson.influence_data.checkpoints.map(async (c) => ({ model: await loadModel(`${c.model}.onnx`), learningRate: c.learning_rate })))
