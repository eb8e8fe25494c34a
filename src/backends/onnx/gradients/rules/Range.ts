import type { GradRule } from '../rule.js'

/**
 * Range: start + i·delta. Its inputs are not differentiated; when a float start, limit or delta
 * depends on the differentiated tensor the builder reports the node.
 */
export const Range: GradRule = {
  opType: 'Range',
  domain: '',
  gradInputs: [],
  build: () => ({}),
}
