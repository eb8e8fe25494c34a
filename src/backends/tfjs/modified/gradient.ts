/**
 * `gradient`: the ordinary gradient, stated explicitly (any kernel that has one).
 *
 * @internal
 */
import type { TfjsModifiedRule } from './types.js'

export const gradient: TfjsModifiedRule = {
  rule: 'gradient',
  kernels: [],
  grad: (c, dy) => c.ordinary(dy),
}
