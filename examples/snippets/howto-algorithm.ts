import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { METHODS, attribute, describe, pipeline, stage, type Pipeline } from 'clarus'
import { fromTfjs } from 'clarus/tfjs'
import { flowers, layersModel } from './iris-model.js'

export const SaliencyOptions = t.readonly(t.partial({ abs: t.boolean }))
export type SaliencyOptions = t.TypeOf<typeof SaliencyOptions>

export const saliency = (o: SaliencyOptions = {}): Pipeline =>
  pipeline('Saliency', stage.grad(), ...((o.abs ?? true) ? [stage.abs()] : []))

// options arrive as JSON; the builder's pipeline is a value, equal to what METHODS builds
const options = SaliencyOptions.decode(JSON.parse('{ "abs": false }'))
if (E.isLeft(options)) throw new Error('bad options')
const signed = saliency(options.right)
console.log(describe(signed), JSON.stringify(signed) === JSON.stringify(METHODS.saliency?.build({ abs: false })))
const r = await attribute(signed, fromTfjs(layersModel), flowers, { target: [0, 2] })()
if (E.isRight(r)) console.log('signed gradients:', r.right.attributions[0]!.data)
