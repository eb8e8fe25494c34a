import { adaptiveIntegratedGradients } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

// a ReLU network: the iris MLP, two flowers, target 2 (virginica)
const model = fromTfjs(layersModel)
const r = await adaptiveIntegratedGradients(model, flowers, { target: 2 }, { tolerance: 1e-3, maxSteps: 512, rule: 'trapezoid' })()
if (r._tag === 'Left') throw new Error(r.left.message)
// r.right: attributions, delta (signed, per example), passes, converged, alphas (the points used), rounds
console.log(r.right.delta.data, r.right.passes, r.right.converged)   // |delta| ≤ 1e-3 within about 20 gradients per flower
