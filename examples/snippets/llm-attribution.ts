import { mkdirSync, writeFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from 'clarus/onnx'
import { llmAttribution, llmAttributionHtml, loadTokenizerFile, textTemplateInput } from 'clarus'

// mobylm: a small causal LM trained on Moby-Dick (examples/assets/mobylm); lower-case words, no punctuation
const tokenizer = await loadTokenizerFile('examples/assets/mobylm/mobylm.tokenizer.json')
const model = await fromOnnx('examples/assets/mobylm/mobylm.onnx')
const input = textTemplateInput('{who} stood upon the {place} and looked at the', { who: 'the old captain', place: 'deck' },
  { baselines: { who: 'a man', place: 'house' } })
if (E.isLeft(tokenizer) || E.isLeft(model) || E.isLeft(input)) throw new Error('cannot read the tokenizer, the model or the template')

const r = await llmAttribution(model.right, tokenizer.right, 'ShapleyValues', input.right, { target: 'sea', skipTokens: ['<bos>'] })()
if (E.isLeft(r)) throw new Error(r.left.message)
console.log(r.right.inputTokens, r.right.seqAttr.data)     // each segment's share of log p("sea"); also .tokenAttr, …
mkdirSync('out', { recursive: true })
writeFileSync('out/llm.html', llmAttributionHtml('why "sea"?', r.right))
await model.right.dispose()
