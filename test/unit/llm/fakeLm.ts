// A small deterministic "causal LM" over tinylm's vocabulary as a plain function, and an
// independent float64 oracle of its log-probabilities, for the LLM tests.
import { fromFunction } from '../../../src/backends/host/fromFunction.js'
import type { Model } from '../../../src/core/backend.js'
import { float32, type HostTensor } from '../../../src/core/tensor.js'

export const VOCAB = 102

const w = (a: number, v: number): number => 3 * Math.sin(a * 12.9898 + v * 78.233 + 0.5)

/** logits at position p from tokens 0..p (causal), or from the whole row (a non-causal control). */
const logitsRow = (ids: readonly number[], p: number, causal: boolean): Float64Array => {
  const out = new Float64Array(VOCAB)
  const last = causal ? p : ids.length - 1
  for (let j = 0; j <= last; j++) for (let v = 0; v < VOCAB; v++) out[v]! += w(ids[j]! * 7 + (p - j), v) / (Math.abs(p - j) + 1)
  return out
}

/** The fake LM; `declareVocab` puts the logits' shape (vocabulary size) in its signature. */
export const fakeLm = (causal = true, declareVocab = true): Model<HostTensor> =>
  fromFunction(([x]) => {
    const [n, len] = x!.shape as [number, number]
    const out = new Float32Array(n * len * VOCAB)
    for (let r = 0; r < n; r++) {
      const ids = Array.from({ length: len }, (_, j) => Number(x!.data[r * len + j]))
      for (let p = 0; p < len; p++) out.set(logitsRow(ids, p, causal), (r * len + p) * VOCAB)
    }
    return float32([n, len, VOCAB], out)
  }, declareVocab ? { outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 'seq', VOCAB] }] } : {})

/** log p(target_t | prompt, target_<t) for each t, in float64 (Captum's token-by-token definition). */
export const oracleLogProbs = (prompt: readonly number[], target: readonly number[]): number[] =>
  target.map((id, t) => {
    const seq = [...prompt, ...target.slice(0, t)]
    const l = logitsRow(seq, seq.length - 1, true)
    const f32 = Float64Array.from(l, (v) => Math.fround(v))
    const max = Math.max(...f32)
    const lse = max + Math.log(f32.reduce((s, v) => s + Math.exp(v - max), 0))
    return f32[id]! - lse
  })

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
