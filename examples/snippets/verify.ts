import { mkdirSync, writeFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { float32, formatVerifyReport, verify, verifyReportSection } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { htmlReport } from 'clarus/viz'
import { flowers, layersModel } from './iris-model.js'

const r = await verify(fromTfjs(layersModel), { method: 'integratedGradients', options: { nSteps: 64 } }, {
  inputs: float32(flowers.shape, await flowers.data()), baselines: 0, target: 2,   // baselines: a number, one tensor per input, or one row for all
  numRuns: 4, seed: 0, tolerance: { completeness: 1e-2 },                           // default tolerance 1e-3
})()
if (E.isRight(r)) {
  console.log(formatVerifyReport(r.right))
  // verify integratedGradients on tfjs: every checked axiom holds or does not apply (…)
  //   holds  completeness: worst error … (tolerance 0.01, 4 runs)   …
  mkdirSync('out', { recursive: true })
  writeFileSync('out/axioms.html', htmlReport('Iris classifier', [verifyReportSection(r.right)]))
}
