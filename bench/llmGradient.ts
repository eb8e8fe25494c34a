// LLMGradientAttribution with LayerIntegratedGradients (50 Gauss–Legendre steps) on tinylm (ONNX):
// a 10-token prompt and a 10-token target. clarus's scheme (one teacher-forced sequence, each
// point's rows replicated once per target token, one vjp per chunk) against Captum's scheme run on
// the same machinery (one attribution call per target token t, on prompt + target[:t]). Prints the
// model calls, rows and median wall time of each, and the largest difference between the two.
//   npx tsx bench/llmGradient.ts
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { quadrature } from '../src/dsl/quadratureRules.js'
import { embeddingPathAttribution, type EmbeddingPathPlan, type PassCount } from '../src/llm/llmGradientCore.js'
import { row, time, unwrap } from './util.js'

const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/tinylm.onnx'), { session: { intraOpNumThreads: 2 } }))
const layer = '/tok_emb/Gather_output_0'
const prompt = [1, 4, 57, 12, 26, 5, 56, 8, 36, 4]
const target = [69, 38, 4, 8, 31, 4, 12, 26, 5, 56]
const P = prompt.length
const T = target.length
const q = quadrature('gausslegendre', 50)
if (typeof q === 'string') throw new Error(q)
const points = Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! }))
const baseline = prompt.map((id, p) => (p === 0 ? id : 0))

const onePass = async (maxRowsPerPass?: number): Promise<{ attr: Float64Array; passes: PassCount }> => {
  const plan: EmbeddingPathPlan = { layer, promptIds: prompt, targetIds: target, baselines: [baseline], points, multiplyByInputs: true, ...(maxRowsPerPass ? { maxRowsPerPass } : {}) }
  const r = unwrap(await embeddingPathAttribution(model, plan)())
  return { attr: r.tokenAttr, passes: r.passes }
}

// Captum: token t is explained on prompt + target[:t]; the forced target tokens stay in the baseline too
const perToken = async (): Promise<{ attr: Float64Array; passes: PassCount }> => {
  const attr = new Float64Array(T * P)
  const passes = { forwardCalls: 0, forwardRows: 0, vjpCalls: 0, vjpRows: 0 }
  for (let t = 0; t < T; t++) {
    const forced = target.slice(0, t)
    const r = unwrap(await embeddingPathAttribution(model, { layer, promptIds: [...prompt, ...forced], targetIds: [target[t]!], baselines: [[...baseline, ...forced]], points, multiplyByInputs: true })())
    attr.set(r.tokenAttr.subarray(0, P), t * P)
    for (const k of Object.keys(passes) as (keyof PassCount)[]) passes[k] += r.passes[k]
  }
  return { attr, passes }
}

const schemes: [string, () => Promise<{ attr: Float64Array; passes: PassCount }>][] = [
  ['clarus: one sequence, 500 rows in one vjp', () => onePass()],
  ['clarus: one sequence, chunks of 100 rows', () => onePass(100)],
  ['Captum: one call per target token', perToken],
]
const ref = await perToken()
console.log(`tinylm, LayerIntegratedGradients, 50 steps, prompt ${P} tokens, target ${T} tokens (onnxruntime-node, 2 threads)\n`)
console.log(row(['scheme', 'forward calls', 'forward rows', 'vjp calls', 'vjp rows', 'median s', 'max |Δ| vs Captum scheme']))
console.log(row(['---', '---', '---', '---', '---', '---', '---']))
for (const [name, f] of schemes) {
  const r = await f()
  const s = await time(f, 5, 1)
  const d = Math.max(...Array.from(r.attr, (v, i) => Math.abs(v - ref.attr[i]!)))
  const p = r.passes
  console.log(row([name, String(p.forwardCalls), String(p.forwardRows), String(p.vjpCalls), String(p.vjpRows), s, d.toExponential(1)]))
}
await model.dispose()
