import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers'
import { llmAttribution, llmGradientAttribution, textTokenInput } from 'clarus'
import { fromTransformers } from 'clarus/onnx'
import { makeMobylmHf } from '../../scripts/make-mobylm-hf.js'

// a folder transformers.js loads (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx): mobylm's
const dir = makeMobylmHf(path.resolve('out/mobylm-hf'))
env.allowRemoteModels = false
const hf = await AutoModelForCausalLM.from_pretrained(dir, { dtype: 'fp32' })
const hfTokenizer = await AutoTokenizer.from_pretrained(dir)

// forward passes run through transformers.js; modelPath lets clarus re-read onnx/model.onnx for gradients
const lm = await fromTransformers(hf, hfTokenizer, { modelPath: dir })
if (E.isLeft(lm)) throw new Error(lm.left.message)
const { model, tokenizer } = lm.right
const input = textTokenInput('the old king saw a small bird', tokenizer, { skipTokens: ['<bos>'] })
if (E.isLeft(input)) throw new Error(input.left.message)

const target = { target: 'near the sea', skipTokens: ['<bos>'] }
const ablation = await llmAttribution(model, tokenizer, 'FeatureAblation', input.right, target)()
const ig = await llmGradientAttribution(model, tokenizer, 'LayerIntegratedGradients', input.right, { ...target, nSteps: 16 })()
if (E.isLeft(ablation) || E.isLeft(ig)) throw new Error('attribution failed')
console.log(ablation.right.inputTokens, ablation.right.seqAttr.data, ig.right.seqAttr.data)
await model.dispose()   // releases what clarus loaded (the gradient model); the transformers.js model stays yours
await hf.dispose()
