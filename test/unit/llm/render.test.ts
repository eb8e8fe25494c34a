// The LLM result pictures: escaped labels, one cell per (target token, feature), Captum's colours.
import { describe, expect, it } from 'vitest'
import { float32 } from '../../../src/core/tensor.js'
import { divergingColour, llmAttributionHtml, llmSeqAttrSvg, llmTokenAttrSvg } from '../../../src/llm/render.js'
import type { LLMAttributionResult } from '../../../src/llm/types.js'

const result: LLMAttributionResult = {
  seqAttr: float32([3], [0.5, -1, 0.25]),
  tokenAttr: float32([2, 3], [0.2, -0.4, 0, 0.3, -0.6, 0.25]),
  inputTokens: ['the', '<script>alert("x")</script>', 'dog & cat'],
  outputTokens: ['sang', "it's"],
  targetIds: [31, 93],
  outputProbs: [0.5, 0.25],
}

describe('LLM renderers', () => {
  it('escape every token string', () => {
    for (const doc of [llmTokenAttrSvg(result), llmSeqAttrSvg(result), llmAttributionHtml('<b>t</b>', result)]) {
      expect(doc).not.toContain('<script>')
      expect(doc).not.toContain('dog & cat')
      expect(doc).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
    }
    expect(llmAttributionHtml('<b>t</b>', result)).toContain('&lt;b&gt;t&lt;/b&gt;')
  })

  it('heat map: one cell per target token and feature, labelled to 4 decimals; a null tokenAttr gives one row', () => {
    const svg = llmTokenAttrSvg(result)
    expect(svg.match(/<rect /g)).toHaveLength(6)
    expect(svg).toContain('>-0.6000<')
    expect(llmTokenAttrSvg({ ...result, tokenAttr: null }).match(/<rect /g)).toHaveLength(3)
  })

  it('colours: symmetric diverging scale, white at 0; bars blue for positive, red for negative', () => {
    expect(divergingColour(0, 1)).toBe('rgb(255,255,255)')
    expect(divergingColour(-1, 1)).toBe('rgb(147,0,58)')
    expect(divergingColour(2, 1)).toBe('rgb(0,66,157)')
    const bars = llmSeqAttrSvg(result)
    expect(bars.match(/fill="#4772b3"/g)).toHaveLength(2)
    expect(bars.match(/fill="#d0365b"/g)).toHaveLength(1)
  })
})
