/**
 * Shared types of LLM attribution: the tokenizer contract every LLM method talks to, and the
 * result value both `LLMAttribution` (perturbation methods) and `LLMGradientAttribution`
 * (gradient methods at the embedding) return, mirroring Captum's `LLMAttributionResult`.
 *
 * @category llm
 * @since 0.5.0
 */
import type { HostTensor } from '../core/tensor.js'

/** Character span `[start, end)` of a token in the text it was encoded from. */
export type Offset = readonly [number, number]

/**
 * What an LLM method needs from a tokenizer (Hugging Face semantics). `encode` with
 * `addSpecialTokens: true` (the default, as Captum uses it for prompts and targets) applies the
 * post-processor (e.g. prepends `<bos>`).
 */
export interface Tokenizer {
  encode(text: string, options?: { readonly addSpecialTokens?: boolean }): number[]
  /** Token strings joined as the tokenizer's decoder does (special tokens kept). */
  decode(ids: readonly number[]): string
  /** The token string of `id` (undefined when out of the vocabulary). */
  idToToken(id: number): string | undefined
  /** The id of a token string (undefined when unknown). */
  tokenToId(token: string): number | undefined
  /** Ids with their character spans in `text`, without special tokens. */
  encodeWithOffsets(text: string): { readonly ids: number[]; readonly offsets: Offset[] }
  /** Ids of the special tokens (`<bos>`, `<eos>`, `<pad>`, `<unk>`, …). */
  readonly specialIds: ReadonlySet<number>
  readonly vocabSize: number
}

/** The result of an LLM attribution (Captum's `LLMAttributionResult`, camelCased). */
export interface LLMAttributionResult {
  /** One score per interpretable feature of the prompt, for the whole target: float32 `[features]`. */
  readonly seqAttr: HostTensor<'float32'>
  /** One row per target token: float32 `[targetTokens, features]`, or null where the method gives none (Lime, KernelShap). */
  readonly tokenAttr: HostTensor<'float32'> | null
  /** The interpretable features' labels (token strings or segment strings). */
  readonly inputTokens: readonly string[]
  /** The target's tokens as text. */
  readonly outputTokens: readonly string[]
  /** The target tokens' ids. */
  readonly targetIds: readonly number[]
  /** Probability of each target token under the unperturbed prompt (teacher-forced), when computed. */
  readonly outputProbs: readonly number[] | null
}
