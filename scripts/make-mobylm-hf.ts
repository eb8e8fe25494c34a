/**
 * Writes mobylm (examples/assets/mobylm) as a folder transformers.js loads with
 * `AutoModelForCausalLM.from_pretrained` / `AutoTokenizer.from_pretrained`:
 *
 *   <dir>/config.json            model_type "gpt2": transformers.js maps it to GPT2LMHeadModel, a
 *                                decoder-only class whose forward feeds the session only the inputs
 *                                it declares (mobylm takes input_ids alone: no mask, no KV cache)
 *   <dir>/tokenizer_config.json  special tokens and the longest sequence (64 learned positions)
 *   <dir>/tokenizer.json         mobylm.tokenizer.json, unchanged
 *   <dir>/onnx/model.onnx        mobylm.onnx, unchanged (the fp32 file name transformers.js looks for)
 *
 * Only the two small JSON files are new; the model and the tokenizer are copied, so nothing is
 * duplicated in git.
 *
 *   npx tsx scripts/make-mobylm-hf.ts [dir]      (default dir: out/mobylm-hf)
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'assets', 'mobylm')

/** config.json: GPT-2's field names, with mobylm's sizes (read by transformers.js for the cache layout only). */
export const MOBYLM_HF_CONFIG = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 2004,
  n_positions: 64,
  n_embd: 64,
  n_layer: 2,
  n_head: 4,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 3,
}

export const MOBYLM_HF_TOKENIZER_CONFIG = {
  tokenizer_class: 'PreTrainedTokenizerFast',
  bos_token: '<bos>',
  eos_token: '<eos>',
  unk_token: '<unk>',
  pad_token: '<pad>',
  model_max_length: 64,
}

/** Writes the folder at `dir` (created if needed) and returns `dir`. */
export const makeMobylmHf = (dir: string): string => {
  mkdirSync(path.join(dir, 'onnx'), { recursive: true })
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(MOBYLM_HF_CONFIG, null, 2) + '\n')
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(MOBYLM_HF_TOKENIZER_CONFIG, null, 2) + '\n')
  copyFileSync(path.join(ASSETS, 'mobylm.tokenizer.json'), path.join(dir, 'tokenizer.json'))
  copyFileSync(path.join(ASSETS, 'mobylm.onnx'), path.join(dir, 'onnx', 'model.onnx'))
  return dir
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = makeMobylmHf(process.argv[2] ?? path.join('out', 'mobylm-hf'))
  console.log(`wrote ${dir}: config.json, tokenizer_config.json, tokenizer.json, onnx/model.onnx`)
}
