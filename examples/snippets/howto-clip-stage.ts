import * as E from 'fp-ts/lib/Either.js'
import { attribute, checkPipeline, decodePipeline, describe, pipeline, stage } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

// builder, JSON codec, checks and interpreter all know `clip` from its one line in ALL_STAGES
const positive = pipeline('PositiveGradient', stage.grad(), stage.clip({ min: 0 }))
console.log(describe(positive))                      // PositiveGradient, grad(wrt inputs), clip([0, ∞])
console.log(JSON.stringify(positive))                // {"_tag":"Pipeline",…,{"_tag":"clip","min":0}]}
const bad = decodePipeline({ _tag: 'Pipeline', name: 'p', stages: [{ _tag: 'grad' }, { _tag: 'clip', min: 2, max: 1 }] })
if (E.isLeft(bad)) console.log(bad.left._tag, bad.left.message)                      // InvalidSpec … stages.1.max …
const early = checkPipeline({ _tag: 'Pipeline', name: 'p', stages: [stage.clip({ min: 0 }), stage.grad()] })
if (E.isLeft(early)) console.log(early.left.path.join('.'), early.left.message)      // stages.0: … clip clamps computed values …
const r = await attribute(positive, fromTfjs(layersModel), flowers, { target: [0, 2] })()
if (E.isRight(r)) console.log('positive evidence only:', r.right.attributions[0]!.data)
