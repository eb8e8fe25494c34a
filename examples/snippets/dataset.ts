import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { inProcessExecutor, jsonlSink, runJob, type Example } from 'clarus/scale'

// the Palmer penguins table (examples/assets/penguins): every complete record, standardised as the model was trained
type Penguin = Record<string, string | number | null>
const meta = JSON.parse(readFileSync('examples/assets/penguins/penguins.meta.json', 'utf8')) as { numeric: string[]; islands: string[]; sexes: string[]; mean: number[]; std: number[] }
const records = (JSON.parse(readFileSync('examples/assets/penguins/penguins.json', 'utf8')) as Penguin[])
  .filter((p) => meta.numeric.every((c) => typeof p[c] === 'number') && meta.sexes.includes(String(p['Sex'])))
const examples: Example[] = records.map((p, i) => {
  const raw = [...meta.numeric.map((c) => Number(p[c])), ...meta.islands.map((s) => Number(p['Island'] === s)), ...meta.sexes.map((s) => Number(p['Sex'] === s))]
  return { inputs: [{ dtype: 'float32', shape: [1, 9], data: Float32Array.from(raw, (v, j) => (v - meta.mean[j]!) / meta.std[j]!) }], id: `row ${i}`, target: ['Adelie', 'Chinstrap', 'Gentoo'].indexOf(String(p['Species'])) }
})

// A job is data: the method, the model file (as every worker sees it), how to split the work.
const job = {
  spec: { method: 'integratedGradients', options: { nSteps: 64 } },
  model: 'examples/assets/penguins/penguins.onnx',
  examplesPerTask: 32,   // a unit of work: 32 penguins stacked into one call
  entriesPerTask: 32,    // and each unit's 64 steps split into two tasks, combined exactly
}
// the same job, the same bits, anywhere: threadPoolExecutor({ workers: 4 }), bullmqExecutor({ connection: { url } })
const executor = inProcessExecutor()
const out = jsonlSink(path.join(tmpdir(), 'penguins-ig.jsonl'))   // one line per penguin, streamed
const summary = await runJob(executor, job, { size: examples.length, examples }, out.write, {
  onProgress: ({ done, total }) => process.stderr.write(`\r${done}/${total} penguins`),
})
await out.close()
await executor.close()
if (summary._tag === 'Left') throw new Error(summary.left.message)
console.log(summary.right)   // { examples: 333, failed: 0, units: 11, tasks: 33, modelRows: …, seconds: … }
