import { Occlusion } from 'clarus'
import { model, x } from './ocr-model.js'

// Expanded rows (steps, samples, perturbed copies) are chunked under memoryBudgetBytes (256 MiB by
// default); perturbationsPerEval / internalBatchSize bound the rows per model call. Results do not
// depend on the chunking. onProgress reports after every model call; a signal or timeoutMs stops the run.
const controller = new AbortController()
const occ = await new Occlusion(model).attribute(x, {
  target: 0, slidingWindowShapes: [3, 12, 12], strides: [3, 6, 6],
  perturbationsPerEval: 64,
  onProgress: ({ done, total }) => console.log(`${done} / ${total} rows`),
  signal: controller.signal, timeoutMs: 60_000,
})
console.log(occ.shape)
