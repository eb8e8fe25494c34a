import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { llmAttributionWithInfo, loadTokenizerFile, textSegmentInput } from '../src/index.js'
import { unwrap } from './util.js'
const dir = path.resolve('examples/assets/mobylm')
const tokenizer = unwrap(await loadTokenizerFile(path.join(dir, 'mobylm.tokenizer.json')))
const model = unwrap(await fromOnnx(path.join(dir, 'mobylm.onnx'), { session: { intraOpNumThreads: 2 } }))
const prompt = 'the old captain stood upon the deck of the ship and looked out at the sea where the white whale'
const target = tokenizer.encode('was swimming in the water and the men in boats', { addSpecialTokens: false })
const segments = unwrap(textSegmentInput(prompt, { unit: 'word' }))
const fa = async () => unwrap(await llmAttributionWithInfo(model, tokenizer, 'FeatureAblation', segments, { target, forwardInTokens: false, maxPositions: 64 })())
for (let i = 0; i < 5; i++) await fa()
const t0 = performance.now()
for (let i = 0; i < 100; i++) await fa()
console.log('per FA ms', (performance.now() - t0) / 100)
await model.dispose()
