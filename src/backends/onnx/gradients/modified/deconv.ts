/**
 * Deconvolution (Zeiler & Fergus 2014) on Relu, as Captum applies it (captum-semantics §4.4): the
 * positive part of the incoming gradient, relu(dy), whatever the forward input was.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'

export const deconv: ModifiedRule = {
  rule: 'deconv',
  opTypes: ['Relu'],
  build: (g) => ({ 0: g.node('Relu', [g.gradOfOutput(0)]) }),
}
