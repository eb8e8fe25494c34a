import type { GradRule } from '../rule.js'

/**
 * OneHot: indices and depth are integers (stop edges). The float `values` input ([off, on]) is not
 * differentiated; when it depends on the differentiated tensor the builder reports the node.
 */
export const OneHot: GradRule = {
  opType: 'OneHot',
  domain: '',
  stopInputs: [0, 1],
  gradInputs: [],
  build: () => ({}),
}
