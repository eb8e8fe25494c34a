import { IntegratedGradients } from 'clarus'
import { model, x } from './ocr-model.js'

const [attr, delta] = await new IntegratedGradients(model).attribute(x, {
  target: 0, nSteps: 50, method: 'gausslegendre', returnConvergenceDelta: true,
})
console.log(attr.shape, delta.data)                      // [1, 3, 48, 192]: one score per input value; the quadrature error
// when done with the model: await model.dispose() releases its cached ONNX Runtime sessions
