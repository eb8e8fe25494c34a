// LLM attribution on the trained mobylm (examples/assets/mobylm, ONNX, 2 threads), issue 15's figures:
// 1. FeatureAblation over a 20-word prompt (one segment per word) and a 10-token target, one
//    teacher-forced pass per perturbed prompt: time ÷ the bare forward passes it needs (the same
//    number of calls of the same rows, timed in the same run);
// 2. LLMGradientAttribution with LayerIntegratedGradients, 50 steps, the same target: the model calls
//    and rows clarus uses, next to Captum's scheme (one attribution call per target token: T calls of
//    nSteps rows, each a forward and a backward), and the time of each.
//   npx tsx bench/llm.ts
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { int64 } from '../src/core/tensor.js'
import { llmAttributionWithInfo, llmGradientAttribution, loadTokenizerFile, textSegmentInput, textTokenInput } from '../src/index.js'
import { quadrature } from '../src/dsl/quadratureRules.js'
import { embeddingPathAttribution } from '../src/llm/llmGradientCore.js'
import { interleaved, median, row, time, unwrap } from './util.js'

const dir = path.resolve('examples/assets/mobylm')
const tokenizer = unwrap(await loadTokenizerFile(path.join(dir, 'mobylm.tokenizer.json')))
const model = unwrap(await fromOnnx(path.join(dir, 'mobylm.onnx'), { session: { intraOpNumThreads: 2 } }))
const prompt = 'the old captain stood upon the deck of the ship and looked out at the sea where the white whale'
const target = unwrap(await (async () => {
  const ids = tokenizer.encode('was swimming in the water and the men in boats', { addSpecialTokens: false })
  return { _tag: 'Right' as const, right: ids }
})())
const words = prompt.split(' ').length
const T = target.length

// 1. FeatureAblation, 20 segments
const segments = unwrap(textSegmentInput(prompt, { unit: 'word' }))
const runFa = async () => unwrap(await llmAttributionWithInfo(model, tokenizer, 'FeatureAblation', segments, { target, forwardInTokens: false, maxPositions: 64 })())
const info = await runFa()
const calls = info.info.passes.calls
const rows = info.info.passes.rows
const len = tokenizer.encode(prompt).length + T - 1
const perCall = Math.ceil(rows / calls)
const ids = int64([perCall, len], Array.from({ length: perCall * len }, (_, i) => (i % len === 0 ? 1 : 4 + (i % 50))))
const runBare = async () => {
  for (let c = 0; c < calls; c++) unwrap(await model.forward([ids])())
}
await runBare()
// interleaved pairs (the bare forwards, then one FeatureAblation), so the machine's drift hits both alike
const PAIRS = 40
const timed = await interleaved(runBare, runFa, PAIRS, 0)
const fa = timed.measured
const bare = timed.reference
const pairRatios = timed.ratios

// 2. LayerIG, 50 steps
const tokens = unwrap(textTokenInput(prompt, tokenizer, { skipTokens: ['<bos>'], baselines: '<unk>' }))
let grad = unwrap(await llmGradientAttribution(model, tokenizer, 'LayerIntegratedGradients', tokens, { target, nSteps: 50 })())
const ig = await time(async () => {
  grad = unwrap(await llmGradientAttribution(model, tokenizer, 'LayerIntegratedGradients', tokens, { target, nSteps: 50 })())
}, 3)
// Captum's scheme on the same machinery: one attribution per target token, on prompt + target[:t]
const promptIds = tokenizer.encode(prompt)
const layer = '/tok_emb/Gather_output_0'
const q = quadrature('gausslegendre', 50)
if (typeof q === 'string') throw new Error(q)
const points = Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! }))
const baseline = promptIds.map((id, p) => (p === 0 ? id : 0))
let captumCalls = 0
let captumRows = 0
const perToken = await time(async () => {
  captumCalls = 0
  captumRows = 0
  for (let t = 0; t < T; t++) {
    const forced = target.slice(0, t)
    const r = unwrap(await embeddingPathAttribution(model, { layer, promptIds: [...promptIds, ...forced], targetIds: [target[t]!], baselines: [[...baseline, ...forced]], points, multiplyByInputs: true })())
    captumCalls += r.passes.forwardCalls + r.passes.vjpCalls
    captumRows += r.passes.forwardRows + r.passes.vjpRows
  }
}, 3)
await model.dispose()

const p = grad.passes
console.log(`mobylm (2 004 words, width 64, 2 blocks), prompt "${prompt}" (${words} words), target ${T} tokens\n`)
console.log(row(['case', 'model calls', 'model rows', 'median s', 'ratio']))
console.log(row(['---', '---', '---', '---', '---']))
console.log(row([`FeatureAblation, ${words} word segments, one teacher-forced pass per prompt`, String(calls), String(rows), fa, `${median(pairRatios).toFixed(2)}× the bare forwards (median of ${PAIRS} interleaved pairs)`]))
console.log(row([`bare forwards: ${calls} call(s) of ${perCall} rows × ${len} tokens`, String(calls), String(calls * perCall), bare, '']))
console.log(row(['LayerIntegratedGradients, 50 steps (clarus: every target token seeded in one backward per chunk)', `${p.forwardCalls} fwd + ${p.vjpCalls} vjp`, `${p.forwardRows} fwd + ${p.vjpRows} vjp`, ig, `${(ig / perToken).toFixed(2)}× Captum's scheme`]))
console.log(row([`Captum's scheme: one LayerIG call per target token (${T} × 50 steps)`, String(captumCalls), String(captumRows), perToken, '']))
