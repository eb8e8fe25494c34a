// LLMAttribution on the real tinylm (the fixtures' causal transformer) on both backends: one-pass
// scoring equals token-by-token scoring, both backends agree, and nothing leaks (tfjs tensors).
import * as fs from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { buildTfjsReferenceModel } from '../../../src/conformance/tfjsModels.js'
import { scoreTargets } from '../../../src/llm/causalLm.js'
import { textTemplateInput } from '../../../src/llm/inputs.js'
import { llmAttribution } from '../../../src/llm/llmAttribution.js'
import { llmAttributionHtml, loadTokenizerFile as loadTok, textTemplateInput as template } from '../../../src/index.js'
import { loadTokenizerFile } from '../../../src/llm/tokenizer.js'

const MODELS = '../shared/reference/models'
const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('tinylm', async () => {
  const tok = right(await loadTokenizerFile(`${MODELS}/tinylm.tokenizer.json`))
  const prompts = [tok.encode('the old king saw a small bird'), tok.encode('a dog ran to the river'), tok.encode('the queen sang')]
  const target = tok.encode('and the bird sang', { addSpecialTokens: false })

  it('ONNX: one teacher-forced pass equals token-by-token scoring; sessions released', async () => {
    const model = right(await fromOnnx(`${MODELS}/tinylm.onnx`))
    try {
      const a = right(await scoreTargets(model, prompts, target, { forwardInTokens: true }))
      const b = right(await scoreTargets(model, prompts, target, { forwardInTokens: false }))
      a.forEach((row, i) => row.forEach((v, t) => expect(Math.abs(b[i]![t]! - v)).toBeLessThan(1e-4)))
      // right-padded into one call: the causal mask keeps the padding out of every scored position
      const n = { calls: 0, rows: 0 }
      const c = right(await scoreTargets(model, prompts, target, { forwardInTokens: false, padBatches: true }, n))
      expect(n.calls).toBe(1)
      a.forEach((row, i) => row.forEach((v, t) => expect(Math.abs(c[i]![t]! - v)).toBeLessThan(1e-4)))
      // longer than its 32 learned positions: checked up front with maxPositions, a hint without
      const long = new Array<number>(40).fill(4)
      const checked = await scoreTargets(model, [long], [5], { maxPositions: 32 })
      expect(E.isLeft(checked) && checked.left._tag === 'BadTarget' && checked.left.message).toMatch(/at most 32 positions/)
      const unchecked = await scoreTargets(model, [long], [5])
      expect(E.isLeft(unchecked) && unchecked.left._tag === 'BackendFailure' && unchecked.left.message).toMatch(/40 tokens.*pass maxPositions/)
    } finally {
      await model.dispose()
    }
  })

  it('tfjs rebuild: same scores as ONNX, and no tfjs tensor left behind by an attribution', async () => {
    const built = right(buildTfjsReferenceModel(JSON.parse(fs.readFileSync(`${MODELS}/tinylm.weights.json`, 'utf8'))))
    const onnx = right(await fromOnnx(`${MODELS}/tinylm.onnx`))
    const model = fromTfjs(built.fn)
    try {
      const a = right(await scoreTargets(model, prompts, target, { forwardInTokens: false }))
      const b = right(await scoreTargets(onnx, prompts, target, { forwardInTokens: false }))
      a.forEach((row, i) => row.forEach((v, t) => expect(Math.abs(b[i]![t]! - v)).toBeLessThan(1e-4)))
      const input = right(textTemplateInput('{} walked to the {} with {}', ['the old man', 'river', 'his dog']))
      const before = tf.memory().numTensors
      const r = await llmAttribution(model, tok, 'ShapleyValues', input, { target: 'and sang', skipTokens: ['<bos>'] })()
      expect(E.isRight(r)).toBe(true)
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      built.dispose()
      await onnx.dispose()
    }
  })

  it("README's LLM attribution snippet runs as written (on tinylm)", async () => {
    const tokenizer = await loadTok(`${MODELS}/tinylm.tokenizer.json`)
    const model = await fromOnnx(`${MODELS}/tinylm.onnx`)
    const input = template('{who} walked to the {place}', { who: 'the old man', place: 'river' }, { baselines: { who: 'a woman', place: 'city' } })
    let html = ''
    if (E.isRight(tokenizer) && E.isRight(model) && E.isRight(input)) {
      const r = await llmAttribution(model.right, tokenizer.right, 'ShapleyValues', input.right, { target: 'and sang', skipTokens: ['<bos>'] })()
      if (E.isRight(r)) html = llmAttributionHtml('why?', r.right)
      await model.right.dispose()
    }
    expect(html).toContain('<svg')
    expect(html).toContain('old man')
  })
})
