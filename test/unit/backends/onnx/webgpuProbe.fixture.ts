// Child process of webgpu.test.ts: loads the mlp on device 'webgpu' and prints what fromOnnx gave as
// one JSON line. The parent starts it with a Vulkan set-up of its choosing (the loader reads it at
// process start, so a broken one cannot be simulated inside the test process).
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { modelPath } from './fixtures.js'

const m = await fromOnnx(modelPath('mlp'), { device: 'webgpu' })
if (E.isRight(m)) await m.right.dispose()
console.log(JSON.stringify(E.isLeft(m) ? { ok: false, tag: m.left._tag, path: m.left.path, message: m.left.message } : { ok: true }))
