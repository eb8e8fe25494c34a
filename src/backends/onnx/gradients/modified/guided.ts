/**
 * Guided backpropagation (Springenberg et al. 2014) on Relu, as Captum applies it (captum-semantics
 * §4.4): the ordinary Relu gradient (zero where the input is not positive) with its negative values
 * removed, relu(dy · [x > 0]).
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'

export const guided: ModifiedRule = {
  rule: 'guided',
  opTypes: ['Relu'],
  build: (g) => ({ 0: g.node('Relu', [g.ordinary()[0] ?? g.fail('its ordinary gradient rule gave no gradient for input 0')]) }),
}
