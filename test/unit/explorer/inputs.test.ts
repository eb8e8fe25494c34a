import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { areProbabilities, csvTensor, inputKindFor, parseCsvRow, parseNumberList, preprocessingFor, textTensor, tokenize, topK } from '../../../examples/explorer/src/inputs.js'
import type { PortInfo } from '../../../examples/explorer/src/protocol.js'

const port = (dtype: string, shape: PortInfo['shape']): PortInfo => ({ name: 'x', dtype, shape })

describe('explorer inputs', () => {
  it('guesses the input kind and the image layout from the declared input', () => {
    expect(inputKindFor(port('float32', ['batch', 3, 32, 32]))).toBe('image')
    expect(inputKindFor(port('int64', ['batch', 64]))).toBe('text')
    expect(inputKindFor(port('float32', [null, 12]))).toBe('csv')
    expect(preprocessingFor(port('float32', ['batch', 3, 32, 32]))).toEqual({ layout: 'NCHW', channelOrder: 'RGB', size: [32, 32] })
    expect(preprocessingFor(port('float32', [null, 64, 64, 1]))).toEqual({ layout: 'NHWC', channelOrder: 'grey', size: [64, 64] })
  })

  it('reads a CSV row under an optional header and standardises it', () => {
    const r = parseCsvRow('# note\na,b,c\n1, 2.5, -3\n9,9,9')
    expect(r).toEqual(E.right({ names: ['a', 'b', 'c'], values: [1, 2.5, -3] }))
    expect(parseCsvRow('4;5;6')).toEqual(E.right({ names: ['f0', 'f1', 'f2'], values: [4, 5, 6] }))
    if (E.isLeft(r)) throw new Error(r.left)
    const x = csvTensor(r.right, port('float32', [null, 3]), [1, 0.5, 0], [2, 1, 3])
    expect(E.isRight(x) && [x.right.shape, Array.from(x.right.data as Float32Array)]).toEqual([[1, 3], [0, 2, -1]])
  })

  it('says what is wrong with a CSV row', () => {
    expect(parseCsvRow('')).toEqual(E.left(expect.stringContaining('empty')))
    expect(parseCsvRow('a,b\n1,x')).toEqual(E.left('column 2 ("x") of the row is not a number'))
    expect(parseCsvRow('a,b')).toEqual(E.left(expect.stringContaining('no row of numbers')))
    const row = { names: ['a', 'b'], values: [1, 2] }
    expect(csvTensor(row, port('float32', [null, 3]), [], [])).toEqual(E.left(expect.stringContaining('takes 3 features')))
    expect(csvTensor(row, port('float32', [null, 2]), [1, 2, 3], [0])).toEqual(E.left('mean has 3 entries; give 1 or 2; every std must be > 0'))
    expect(parseNumberList('1, x 2', 'mean')).toEqual(E.left('mean: "x" is not a number'))
  })

  it('tokenizes like the spam training script and pads to the model length', () => {
    expect(tokenize('FREE $$ Offer!! now-2day')).toEqual(['free', '$', '$', 'offer', '!', '!', 'now', '2day'])
    const vocab = ['<pad>', '<unk>', 'free', '!']
    const r = textTensor('Free offer!', vocab, port('int64', ['batch', 6]))
    expect(E.isRight(r) && [r.right.tokens, r.right.tensor.dtype, Array.from(r.right.tensor.data as BigInt64Array, Number)]).toEqual([['free', 'offer', '!'], 'int64', [2, 1, 3, 0, 0, 0]])
    expect(E.isLeft(textTensor('...', vocab, port('int64', ['batch', 6])))).toBe(true)
  })

  it('ranks classes by softmax, or by the outputs when they already are probabilities', () => {
    const top = topK([0, Math.log(3), -1], 2)
    expect(top.map((c) => c.index)).toEqual([1, 0])
    expect(top[0]!.p).toBeCloseTo(3 / (4 + Math.exp(-1)), 6)
    expect(areProbabilities([0.2, 0.7, 0.1])).toBe(true)
    expect(areProbabilities([0.2, 0.7])).toBe(false)
    expect(topK([0.2, 0.7, 0.1], 1)).toEqual([{ index: 1, logit: 0.7, p: 0.7 }])
  })
})
