// Where the time of IG's backward graph goes (issue 20): ONNX Runtime's profiler on resnet18, one
// 224×224 input, IG with 50 Gauss–Legendre steps (one chunked vjp session), kernel time summed per op
// type, forward nodes and clarus's backward nodes (`clarus_grad/…`) apart.
//   npm run bench -- profile   (or npx tsx bench/ortProfile.ts)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { attribute, float32, integratedGradients } from '../src/index.js'
import { row, unwrap } from './util.js'

interface TraceEvent {
  readonly cat?: string
  readonly name?: string
  readonly dur?: number
  readonly args?: { readonly op_name?: string }
}

export const benchOrtProfile = async (): Promise<string[]> => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clarus-ort-profile-'))
  const prefix = path.join(dir, 'ig')
  const model = unwrap(await fromOnnx(path.resolve('../shared/reference/models/resnet18.onnx'), { session: { intraOpNumThreads: 2, enableProfiling: true, profileFilePrefix: prefix } }))
  const x = float32([1, 3, 224, 224], Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => ((i * 2654435761) % 1000) / 1000))
  const ig = integratedGradients({ nSteps: 50 })
  for (let k = 0; k < 3; k++) unwrap(await attribute(ig, model, x, { target: 3 })())
  await model.dispose() // the sessions write their traces when released
  const byOp = new Map<string, { forward: number; backward: number; nodes: Set<string> }>()
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const events = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as TraceEvent[]
    for (const e of events) {
      if (e.cat !== 'Node' || e.name === undefined || !e.name.endsWith('_kernel_time') || e.args?.op_name === undefined) continue
      const node = e.name.slice(0, -'_kernel_time'.length)
      const op = e.args.op_name
      const s = byOp.get(op) ?? { forward: 0, backward: 0, nodes: new Set<string>() }
      if (node.startsWith('clarus_grad/')) s.backward += e.dur ?? 0
      else s.forward += e.dur ?? 0
      s.nodes.add(node)
      byOp.set(op, s)
    }
  }
  rmSync(dir, { recursive: true, force: true })
  const total = [...byOp.values()].reduce((a, s) => a + s.forward + s.backward, 0)
  const sorted = [...byOp.entries()].sort((a, b) => b[1].forward + b[1].backward - (a[1].forward + a[1].backward))
  return [
    '### Where IG\'s time goes in ONNX Runtime (resnet18, 50 steps × 3 calls, kernel time per op type)',
    '',
    row(['op type', 'forward nodes ms', 'backward nodes ms', 'share of all kernel time', 'nodes']),
    row(['---', '---', '---', '---', '---']),
    ...sorted.slice(0, 15).map(([op, s]) => row([op, (s.forward / 1000).toFixed(0), (s.backward / 1000).toFixed(0), `${((100 * (s.forward + s.backward)) / total).toFixed(1)} %`, String(s.nodes.size)])),
    '',
    `All kernels: ${(total / 1000).toFixed(0)} ms.`,
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchOrtProfile()).join('\n'))
