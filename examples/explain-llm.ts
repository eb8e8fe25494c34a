/**
 * Which parts of a prompt made a language model say that? LLM attribution by perturbation.
 *
 * The model is `mobylm` (examples/assets/mobylm): a 2-block causal transformer over a 2 004-word
 * vocabulary trained on the text of Moby-Dick by scripts/train-mobylm.py (see the folder's
 * README for the data's licence). The example
 *
 * 1. generates a greedy 5-token completion of a prompt,
 * 2. explains it segment by segment (a template with three named segments, exact Shapley values),
 * 3. explains it token by token (FeatureAblation over every prompt token, <bos> skipped),
 *
 * and writes the pictures out/llm-segments-bars.svg (seqAttr per segment) and
 * out/llm-tokens-heatmap.svg (prompt token × generated token), the pages out/llm-segments.html and
 * out/llm-tokens.html, and out/llm-report.html (everything, with the pass counts).
 *
 *   npm run example:llm
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { generateGreedy, llmAttributionHtml, llmAttributionWithInfo, llmSeqAttrSvg, llmTokenAttrSvg, loadTokenizerFile, textTemplateInput, textTokenInput } from '../src/index.js'
import { htmlReport } from '../src/viz/index.js'

const models = fileURLToPath(new URL('./assets/mobylm/', import.meta.url))
const outDir = path.resolve('out')
const MAX_POSITIONS = 64 // mobylm's learned positions

const ok = <A>(e: E.Either<{ readonly _tag: string; readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}

const main = async (): Promise<void> => {
  const tokenizer = ok(await loadTokenizerFile(path.join(models, 'mobylm.tokenizer.json')))
  const model = ok(await fromOnnx(path.join(models, 'mobylm.onnx')))
  try {
    const template = '{who} stood upon the {place} and {did} at the'
    const values = { who: 'the old captain', place: 'deck', did: 'looked' }
    const segments = ok(textTemplateInput(template, values, { baselines: { who: 'a man', place: 'house', did: 'sat' } }))
    const prompt = segments.toText([1, 1, 1, 1])

    // 1. the completion to explain: greedy, 5 tokens
    const generated = ok(await generateGreedy(model, tokenizer.encode(prompt), { maxNewTokens: 5, maxPositions: MAX_POSITIONS }))
    const completion = tokenizer.decode(generated.ids)
    console.log(`prompt:     ${prompt}\ncompletion: ${completion}`)

    // 2. segment by segment: exact Shapley values over the 3 segments (2^3 prompts, one pass each)
    const bySegment = ok(
      await llmAttributionWithInfo(model, tokenizer, 'ShapleyValues', segments, { target: generated.ids, forwardInTokens: false, maxPositions: MAX_POSITIONS })(),
    )
    // 3. token by token: FeatureAblation over every prompt token (the <bos> token stays, unattributed)
    const tokens = ok(textTokenInput(prompt, tokenizer, { skipTokens: ['<bos>'], baselines: '<unk>' }))
    const byToken = ok(await llmAttributionWithInfo(model, tokenizer, 'FeatureAblation', tokens, { target: generated.ids, maxPositions: MAX_POSITIONS })())

    const row = (labels: readonly string[], xs: ArrayLike<number>): string => labels.map((l, i) => `${l}=${xs[i]!.toFixed(3)}`).join('  ')
    console.log(`segments (Σ = ${Array.from(bySegment.result.seqAttr.data).reduce((a, b) => a + b, 0).toFixed(3)}): ${row(bySegment.result.inputTokens, bySegment.result.seqAttr.data)}`)
    console.log(`tokens: ${row(byToken.result.inputTokens, byToken.result.seqAttr.data)}`)

    mkdirSync(outDir, { recursive: true })
    const passes = (i: typeof byToken.info): string => `${i.passes.calls} model calls (${i.passes.rows} rows), ${i.promptsScored} distinct prompts`
    writeFileSync(path.join(outDir, 'llm-segments-bars.svg'), llmSeqAttrSvg(bySegment.result))
    writeFileSync(path.join(outDir, 'llm-tokens-heatmap.svg'), llmTokenAttrSvg(byToken.result))
    writeFileSync(path.join(outDir, 'llm-segments.html'), llmAttributionHtml('Segments of the prompt (ShapleyValues)', bySegment.result, [['passes', passes(bySegment.info)]]))
    writeFileSync(path.join(outDir, 'llm-tokens.html'), llmAttributionHtml('Tokens of the prompt (FeatureAblation)', byToken.result, [['passes', passes(byToken.info)]]))
    writeFileSync(
      path.join(outDir, 'llm-report.html'),
      htmlReport('Why did mobylm continue the prompt that way?', [
        {
          heading: 'Prompt and completion',
          facts: [
            ['prompt', prompt],
            ['completion (greedy)', completion],
            ['top-1 − top-2 logit per generated token', generated.margins.map((m) => m.toFixed(3)).join(', ')],
          ],
        },
        {
          heading: 'Segment by segment: exact Shapley values, one teacher-forced pass per prompt',
          facts: [['passes', passes(bySegment.info)]],
          svgs: [
            { caption: 'seqAttr per segment', svg: llmSeqAttrSvg(bySegment.result) },
            { caption: 'per generated token', svg: llmTokenAttrSvg(bySegment.result) },
          ],
        },
        {
          heading: 'Token by token: FeatureAblation (token replaced by <unk>), token-by-token scoring as Captum',
          facts: [['passes', passes(byToken.info)]],
          svgs: [
            { caption: 'seqAttr per prompt token', svg: llmSeqAttrSvg(byToken.result) },
            { caption: 'prompt token × generated token', svg: llmTokenAttrSvg(byToken.result) },
          ],
        },
      ]),
    )
    console.log(`wrote ${path.join(outDir, 'llm-report.html')}, llm-segments.html, llm-tokens.html and two .svg pictures`)
  } finally {
    await model.dispose()
  }
}

await main()
