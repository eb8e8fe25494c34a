import * as E from 'fp-ts/lib/Either.js'
import { attribute, integratedGradients } from 'clarus'
import { model, x } from './ocr-model.js'

// the model has two outputs, so target 3 is a typed error, found before anything runs
const r = await attribute(integratedGradients({ nSteps: 64 }), model, x, { target: 3, timeoutMs: 5_000 })()
if (E.isLeft(r)) console.error(r.left._tag, r.left.path.join('.'), r.left.message)   // BadTarget target …out of range…
// a run that cannot finish in time stops between chunks
const slow = await attribute(integratedGradients({ nSteps: 512 }), model, x, { target: 0, timeoutMs: 50, internalBatchSize: 8 })()
if (E.isLeft(slow)) console.error(slow.left._tag, slow.left.path.join('.'), slow.left.message)   // Cancelled timeoutMs …
