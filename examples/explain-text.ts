/**
 * Explain a text classifier token by token.
 *
 * The model is the reference transformer of the conformance fixtures (`textcls`: token ids [N, 16]
 * → Embedding(500, 32) → two encoder layers → mean over tokens → Linear(32, 2)), an ONNX file in
 * ../shared/reference/models. Its weights are seeded, not trained, and it has no vocabulary, so the
 * tokens are shown by id; with a real model pass `vocabulary` (the tokenizer's id → text table).
 *
 * Token ids cannot be differentiated, so `attributeTokens` runs Layer Integrated Gradients at the
 * embedding output against a reference sequence of padding (id 0) that keeps the special tokens,
 * and sums each token's embedding dimensions. The scores add up to F(ids) − F(reference) up to the
 * printed delta. Writes out/text-tokens.html.
 *
 *   npm run example:text
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { attributeTokens, int64 } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { htmlReport, scaleFor } from '../src/viz/index.js'

const modelFile = fileURLToPath(new URL('../../shared/reference/models/textcls.onnx', import.meta.url))
const outDir = path.resolve('out')
const EMBEDDING = '/embedding/Gather_output_0'
const [PAD, BOS, EOS] = [0, 1, 2]
const vocabulary = ['<pad>', '<bos>', '<eos>']

/** Two "sentences" of token ids, wrapped in BOS … EOS and padded to the model's 16 positions. */
const sentences = [
  [147, 212, 50, 366, 166, 192, 131, 483, 171],
  [224, 68, 499, 282, 127, 165],
]
const row = (s: readonly number[]): number[] => [BOS, ...s, EOS, ...new Array<number>(16 - s.length - 2).fill(PAD)]

const main = async (): Promise<void> => {
  const loaded = await fromOnnx(modelFile)
  if (E.isLeft(loaded)) throw new Error(`${loaded.left._tag}: ${loaded.left.message}`)
  const model = loaded.right
  try {
    const ids = int64([sentences.length, 16], sentences.flatMap(row))
    const out = await model.forward([model.backend.fromHost(ids)])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const logits = out.right.output.data as Float32Array
    const predicted = sentences.map((_, i) => (logits[i * 2]! >= logits[i * 2 + 1]! ? 0 : 1))

    const t0 = performance.now()
    const explained = await attributeTokens(model, ids, {
      layer: EMBEDDING,
      target: predicted,
      baselineToken: PAD,
      keepTokens: [BOS, EOS],
      nSteps: 64,
      vocabulary,
    })
    const seconds = (performance.now() - t0) / 1000

    const sections = explained.map((ex, i) => {
      const shown = ex.tokens.map((tok, j) => ({ tok, score: ex.scores[j]! })).filter(({ tok }) => tok !== '<pad>')
      const top = [...shown].sort((a, b) => Math.abs(b.score) - Math.abs(a.score)).slice(0, 3)
      const total = ex.scores.reduce((a, b) => a + b, 0)
      console.log(`sentence ${i + 1}: class ${predicted[i]} (logit ${logits[i * 2 + predicted[i]!]!.toFixed(3)}); strongest tokens ${top.map((t) => `${t.tok} ${t.score >= 0 ? '+' : ''}${t.score.toFixed(4)}`).join(', ')}; Σ scores ${total.toFixed(4)}, delta ${ex.delta.toExponential(2)}`)
      return {
        heading: `Sentence ${i + 1}: predicted class ${predicted[i]}`,
        facts: [
          ['logits', Array.from(logits.slice(i * 2, i * 2 + 2)).map((v) => v.toFixed(4)).join(', ')],
          ['Σ token scores', total.toFixed(5)],
          ['completeness delta', ex.delta.toExponential(3)],
        ] as const,
        tokens: { words: shown.map((s) => s.tok), scores: shown.map((s) => s.score), scale: scaleFor(shown.map((s) => s.score), 'signed', 1) },
      }
    })
    mkdirSync(outDir, { recursive: true })
    writeFileSync(
      path.join(outDir, 'text-tokens.html'),
      htmlReport('Which tokens drove the text classifier?', [
        {
          heading: 'Model and method',
          facts: [
            ['model', 'textcls reference transformer (seeded weights, token ids shown as #id)'],
            ['method', 'attributeTokens: LayerIntegratedGradients at the embedding output, 64 Gauss–Legendre steps, summed over the embedding'],
            ['reference', 'padding (id 0), keeping <bos> and <eos>'],
            ['time', `${seconds.toFixed(2)} s on ${model.backend.name}`],
          ],
        },
        ...sections,
      ]),
    )
    console.log(`attributeTokens took ${seconds.toFixed(2)} s; wrote ${path.join(outDir, 'text-tokens.html')}`)
  } finally {
    await model.dispose()
  }
}

await main()
