import { IntegratedGradients } from 'clarus'
import { model, x } from './ocr-model.js'

// The baseline is "the input with nothing in it". After PaddleOCR's preprocessing, 0 is mid-grey
// ((127.5 / 255 − 0.5) / 0.5); a blank white page, the absence of text, is +1 everywhere.
const ig = new IntegratedGradients(model)
for (const [name, baselines, nSteps] of [['grey', 0, 32], ['white page', 1, 16], ['white page', 1, 64]] as const) {
  const [attr, delta] = await ig.attribute(x, { target: 0, baselines, nSteps, returnConvergenceDelta: true })
  const total = (attr.data as Float32Array).reduce((a, b) => a + b, 0)
  // completeness: Σ attr = F(x) − F(baseline) up to the quadrature error delta
  console.log(`${name}, ${nSteps} steps: Σ attr ${total.toFixed(2)}, delta ${Number(delta.data[0]).toFixed(3)}`)
}
