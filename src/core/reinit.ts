/**
 * Seeded re-initialisation of model parameters, shared by the backends' weight-randomised model
 * copies (the model-parameter randomisation sanity check). A parameter tensor is replaced by draws
 * from N(0, σ²), where σ is the (population) standard deviation of its original values, so the
 * randomised layer keeps the scale of the trained one; a tensor whose values are all equal (e.g. a
 * zero bias) becomes zeros. The draws depend only on the seed, the layer's position in the model's
 * list of parameterised layers and the tensor's position in that layer, so a layer gets the same
 * random values at every step of a cascade.
 *
 * @category core
 * @since 0.4.0
 */
import { foldIn, keyOf, normals } from './random.js'

/** New values for one parameter tensor of `layerIndex`'s `paramIndex`-th tensor. */
export const reinitValues = (values: ArrayLike<number>, seed: number, layerIndex: number, paramIndex: number): Float32Array => {
  const n = values.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += values[i]!
  mean = n > 0 ? mean / n : 0
  let ss = 0
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2
  const std = n > 0 ? Math.sqrt(ss / n) : 0
  const z = normals(foldIn(foldIn(keyOf(seed), layerIndex), paramIndex), n)
  return Float32Array.from(z, (v) => v * std)
}
