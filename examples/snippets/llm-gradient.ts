import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from 'clarus/onnx'
import { llmGradientAttribution, loadTokenizerFile, textTokenInput } from 'clarus'

// mobylm, the Moby-Dick language model of the previous example
const tokenizer = await loadTokenizerFile('examples/assets/mobylm/mobylm.tokenizer.json')
const model = await fromOnnx('examples/assets/mobylm/mobylm.onnx')
if (E.isLeft(tokenizer) || E.isLeft(model)) throw new Error('cannot read the tokenizer or the model')
const input = textTokenInput('the old king saw a small bird', tokenizer.right, { skipTokens: ['<bos>'] })
if (E.isLeft(input)) throw new Error(input.left.message)

const r = await llmGradientAttribution(model.right, tokenizer.right, 'LayerIntegratedGradients', input.right,
  { target: 'near the sea', skipTokens: ['<bos>'], nSteps: 32 })()
if (E.isLeft(r)) throw new Error(r.left.message)
console.log(r.right.inputTokens, r.right.seqAttr.data)     // one score per prompt token
console.log(r.right.tokenAttr?.shape, r.right.passes)      // [3 target tokens, 7 prompt tokens]; model calls made
await model.right.dispose()
