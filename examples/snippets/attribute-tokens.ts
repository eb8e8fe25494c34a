import { readFileSync } from 'node:fs'
import { attributeTokens, int32 } from 'clarus'
import { fromOnnx } from 'clarus/onnx'

// A real text classifier with an embedding: the spam filter of examples/explain-spam.ts (trained on the
// SpamAssassin corpus): token ids [N, 64] → Embedding(5002, 32) → mean → MLP → logits [ham, spam].
const loaded = await fromOnnx('examples/assets/spam/spam.onnx')
if (loaded._tag === 'Left') throw new Error(loaded.left.message)
const model = loaded.right
const vocab: string[] = JSON.parse(readFileSync('examples/assets/spam/vocab.json', 'utf8'))   // id → token
const words = 'Click here to claim your FREE gift card now!'.toLowerCase().match(/[a-z0-9]+|[$!]/g) ?? []
const encoded = [...words.map((w) => Math.max(vocab.indexOf(w), 1)), ...Array<number>(64 - words.length).fill(0)]   // <unk> 1, <pad> 0

const ids = int32([1, 64], encoded)                         // int32 ids are converted to what the model takes (int64)
const [ex] = await attributeTokens(model, ids, {
  layer: '/embedding/Gather_output_0',                      // the embedding output (ONNX tensor, tfjs layer or tap)
  target: 1, baselineToken: 0, nSteps: 32, vocabulary: vocab,  // BERT-style models also pass keepTokens: [101, 102]
})
ex?.tokens.slice(0, words.length).forEach((tok, i) => console.log(tok, ex.scores[i]?.toFixed(3)))   // your 0.501, free 0.239, …
console.log(ex?.delta)                                      // Σ scores − (F(ids) − F(reference)): the quadrature error
await model.dispose()
