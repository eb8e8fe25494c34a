import type { GradRule } from '../rule.js'

/** Dropout (inference): identity on output 0; the mask output and the ratio/training_mode inputs carry no gradient. Training mode is not differentiated. */
export const Dropout: GradRule = {
  opType: 'Dropout',
  domain: '',
  opsets: [6, 7, 10, 12, 13, 22],
  stopInputs: [1, 2],
  gradOutputs: [0],
  build: (g) => {
    const mode = g.fwd.inputs[2]
    const t = mode !== undefined && mode !== '' ? g.constValue(mode) : [0]
    if (t === undefined || t[0] !== 0 || g.attrInt('is_test', 1) === 0) g.fail('only inference-mode Dropout (training_mode constant false) is differentiable')
    return { 0: g.gradOfOutput(0) }
  },
}
