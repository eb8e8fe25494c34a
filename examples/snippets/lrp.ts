import * as E from 'fp-ts/lib/Either.js'
import { ATTN_LRP, LRP, LRP_CAPTUM, LayerLRP, int64, loadTokenizerFile, toFloat64, type RuleSet } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { model, x } from './ocr-model.js'

// γ on the first convolution, Captum's defaults elsewhere; the hard-swish gates of this MobileNetV3
// have no LRP rule, so `unmatched: 'gradient'` keeps them on their ordinary gradient
const mine: RuleSet = { name: 'mine', entries: [{ match: { layer: 'conv2d_53.tmp_0' }, rule: { rule: 'gamma', gamma: 0.25 } }, ...LRP_CAPTUM.entries], unmatched: 'gradient' }
const [relevance, delta] = await new LRP(model, { ruleSet: mine }).attribute(x, { target: 0, returnConvergenceDelta: true })
console.log(relevance.shape, 'F(x) − Σ relevance', delta.data)   // biases, batch norms and the gates absorb relevance

// AttnLRP on a transformer: which words of "the sperm" make mobylm expect "whale". Its MLP's GELU is
// exported as x · ½(1 + erf(x/√2)); ATTN_LRP has no entry for Erf, so pass relevance through it
const attnLrp: RuleSet = { ...ATTN_LRP, entries: [...ATTN_LRP.entries, { match: { opType: 'Erf' }, rule: { rule: 'identity' } }] }
const lm = await fromOnnx('examples/assets/mobylm/mobylm.onnx')
const tokenizer = await loadTokenizerFile('examples/assets/mobylm/mobylm.tokenizer.json')
if (E.isLeft(lm) || E.isLeft(tokenizer)) throw new Error('cannot load mobylm')
const ids = tokenizer.right.encode('the sperm whale')                       // <bos> the sperm whale
const tokens = await new LayerLRP(lm.right, '/tok_emb/Gather_output_0', { ruleSet: attnLrp })
  .attribute(int64([1, ids.length], ids), { target: { index: [ids.length - 2, ids.at(-1)!] } })   // the logit of "whale" after "sperm"
const values = toFloat64(tokens)
const perToken = ids.slice(0, -1).map((_, i) => values.slice(i * 64, (i + 1) * 64).reduce((a, b) => a + b, 0))
console.log(perToken.map((r, i) => `${tokenizer.right.decode([ids[i]!])} ${r.toFixed(2)}`).join(', '))   // sperm gets most of the logit's 9.7
await lm.right.dispose()
