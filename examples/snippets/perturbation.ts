import { readFileSync } from 'node:fs'
import * as ort from 'onnxruntime-node'
import { Occlusion, FeatureAblation, KernelShap, float32, int32, int64, type HostTensor } from 'clarus'
import { fromFunction } from 'clarus/host'

// Your own inference code, which clarus never looks into: here ONNX Runtime called directly on the
// spam filter of examples/explain-spam.ts (token ids int64 [N, 64] → logits [N, 2] = [ham, spam]).
const session = await ort.InferenceSession.create('examples/assets/spam/spam.onnx')
const callMyService = async (ids: HostTensor): Promise<HostTensor> => {
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('int64', ids.data as BigInt64Array, ids.shape) })
  const logits = out[session.outputNames[0]!]!
  return float32([...logits.dims], logits.data as Float32Array)
}
const vocab: string[] = JSON.parse(readFileSync('examples/assets/spam/vocab.json', 'utf8'))
const words = 'congratulations you have won a free cruise click here to claim it'.split(' ')
const ids = int64([1, 64], [...words.map((w) => Math.max(vocab.indexOf(w), 1)), ...Array<number>(64 - words.length).fill(0)])
const perWord = int32([1, 64], Array.from({ length: 64 }, (_, i) => Math.min(i, words.length)))   // a feature per word, the padding one more

const model = fromFunction(async ([x]) => callMyService(x!))   // (inputs: HostTensor[]) => HostTensor | number
// a removed word is a <pad> (id 0, the default baseline); target 1 = the spam logit
const occ = await new Occlusion(model).attribute(ids, { target: 1, slidingWindowShapes: [3], strides: [1] })
const abl = await new FeatureAblation(model).attribute(ids, {
  target: 1, featureMask: perWord, onProgress: ({ done, total }) => console.log(`FeatureAblation: ${done} of ${total} rows`),
})
const shap = await new KernelShap(model).attribute(ids, { target: 1, featureMask: perWord, nSamples: 100, seed: 0 })
words.forEach((w, i) => console.log(w.padEnd(16), [occ, abl, shap].map((a) => Number(a.data[i]).toFixed(2)).join('  ')))
await session.release()
