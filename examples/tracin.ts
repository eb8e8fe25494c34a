/**
 * Which training rows made a tabular classifier predict this? TracIn on the reference mlp (12
 * features → 3 classes) trained for three epochs on 10 rows, two of them (rows 3 and 7) with a
 * flipped label. The three saved checkpoints (ONNX files with the learning rate of the epoch that
 * followed them) and the training set come from the Captum reference fixtures.
 *
 * For each test row the example prints the prediction, then, for the row's true label, the
 * training rows whose gradient steps lowered its loss (proponents: positive influence) and raised
 * it (opponents), by TracInCP over every parameter, and TracInCPFast (final layer only) for
 * comparison. Test row 2 (label 2) is mispredicted as class 1: its opponents are class-1 rows,
 * among them the flipped row 3. Last, the training rows by self-influence (Σ_c η_c ‖∇L‖²): rows
 * the model found hard to fit. Flipped row 3 ranks high, flipped row 7 does not: self-influence
 * points at rows worth a look, it does not detect label noise by itself.
 *
 *   npm run example:tracin            (reads ../shared/reference; set CLARUS_REFERENCE to move it)
 */
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { float32, int64, tracInCP, tracInCPFast, type Checkpoint, type HostTensor, type InfluenceData } from '../src/index.js'

const refDir = path.resolve(process.env['CLARUS_REFERENCE'] ?? '../shared/reference')

interface JsonTensor {
  readonly data: unknown
  readonly shape: number[]
  readonly dtype: string
}
const flat = (u: unknown): number[] => (Array.isArray(u) ? u.flatMap(flat) : [u as number])
const tensorOf = (j: JsonTensor): HostTensor => (j.dtype === 'int64' ? int64(j.shape, flat(j.data)) : float32(j.shape, flat(j.data)))

const ok = <A>(r: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const main = async (): Promise<void> => {
  const fixture = JSON.parse(readFileSync(path.join(refDir, 'cases/mlp/mlp.tracincp.all_params.ce_none.bs4.json'), 'utf8')) as {
    inputs: JsonTensor[]
    influence_data: { train_dataset: { inputs: JsonTensor; labels: JsonTensor }; checkpoints: { model: string; learning_rate: number }[]; mislabeled_train_indices: number[] }
  }
  const data = fixture.influence_data
  const train: InfluenceData = { inputs: tensorOf(data.train_dataset.inputs), labels: tensorOf(data.train_dataset.labels) }
  const test: InfluenceData = { inputs: tensorOf(fixture.inputs[0]!), labels: tensorOf(fixture.inputs[1]!) }
  const flipped = new Set(data.mislabeled_train_indices)
  const checkpoints: Checkpoint<HostTensor>[] = []
  for (const c of data.checkpoints) checkpoints.push({ model: ok(await fromOnnx(path.join(refDir, 'models', `${c.model}.onnx`))), learningRate: c.learning_rate })
  try {
    const last = checkpoints[checkpoints.length - 1]!.model
    const logits = ok(await last.forward([test.inputs as HostTensor])()).output
    const tracin = ok(tracInCP(checkpoints, train, { batchSize: 5 }))
    const fast = ok(tracInCPFast(checkpoints, train, { finalFcLayer: 'fc3.weight', batchSize: 5 }))
    const pro = ok(await tracin.topK(test, { k: 3 })())
    const opp = ok(await tracin.topK(test, { k: 3, proponents: false })())
    const fastPro = ok(await fast.topK(test, { k: 3 })())
    const trainLabel = (j: number): string => `#${j} (label ${Number(train.labels.data[j])}${flipped.has(j) ? ', FLIPPED' : ''})`
    const rows = (t: HostTensor, s: HostTensor, i: number): string =>
      [0, 1, 2].map((k) => `${trainLabel(Number(t.data[i * 3 + k]))} ${Number(s.data[i * 3 + k]).toFixed(3)}`).join(', ')
    for (let i = 0; i < 3; i++) {
      const z = Array.from(logits.data.subarray(i * 3, i * 3 + 3) as Float32Array)
      const predicted = z.indexOf(Math.max(...z))
      const label = Number(test.labels.data[i])
      console.log(`test row ${i}: label ${label}, predicted ${predicted}${predicted === label ? '' : '  <- MISPREDICTED'}`)
      console.log(`  proponents (TracInCP):     ${rows(pro.indices, pro.influenceScores, i)}`)
      console.log(`  opponents  (TracInCP):     ${rows(opp.indices, opp.influenceScores, i)}`)
      console.log(`  proponents (TracInCPFast): ${rows(fastPro.indices, fastPro.influenceScores, i)}`)
    }
    const self = ok(await tracin.selfInfluence()())
    const order = Array.from(self.data as Float32Array).map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0])
    console.log('training rows by self-influence (hardest to fit first):')
    console.log(`  ${order.map(([v, j]) => `${trainLabel(j)} ${v.toFixed(2)}`).join('\n  ')}`)
  } finally {
    await Promise.all(checkpoints.map((c) => c.model.dispose()))
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
