// fromOnnx takes a model as bytes, an ArrayBuffer, a Blob/File (a browser drop), a path or a URL;
// anything else, or a source that cannot be read, is a BadModel error that names it.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/model.js'
import { modelBytes } from '../../../../src/backends/onnx/source.js'

const MLP = path.resolve(import.meta.dirname, '../../../../../shared/reference/models/mlp.onnx')
const bytes = new Uint8Array(readFileSync(MLP))

const inputsOf = async (source: Parameters<typeof fromOnnx>[0]): Promise<readonly string[]> => {
  const m = await fromOnnx(source)
  if (m._tag === 'Left') throw new Error(m.left.message)
  const names = m.right.signature.inputs.map((i) => i.name)
  await m.right.dispose()
  return names
}

describe('ONNX model sources', () => {
  it('loads the same model from bytes, an ArrayBuffer, a Blob, a File, a path, a file: URL and an http URL', async () => {
    const server = createServer((_req, res) => { res.writeHead(200).end(bytes) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/mlp.onnx`
    try {
      const sources = [bytes, bytes.slice().buffer, new Blob([bytes]), new File([bytes], 'mlp.onnx'), MLP, new URL(`file://${MLP}`), url]
      for (const s of sources) expect(await inputsOf(s)).toEqual(['input'])
    } finally {
      server.close()
    }
  })

  it('says what it could not read', async () => {
    const server = createServer((_req, res) => { res.writeHead(404, 'Not Found').end() })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/missing.onnx`
    try {
      const missing = await modelBytes(url)
      expect(missing._tag === 'Left' && missing.left._tag).toBe('BadModel')
      expect(missing._tag === 'Left' ? missing.left.message : '').toMatch(/404/)
    } finally {
      server.close()
    }
    const noFile = await modelBytes('/nonexistent/model.onnx')
    expect(noFile._tag === 'Left' ? noFile.left.message : '').toMatch(/cannot read the ONNX model file: .*nonexistent/)
    const wrongType = await modelBytes(42 as never)
    expect(wrongType._tag === 'Left' ? wrongType.left.message : '').toMatch(/bytes \(Uint8Array, ArrayBuffer\), a Blob\/File, a path or a URL; got \[object Number\]/)
    const notOnnx = await fromOnnx(new File([new TextEncoder().encode('hello')], 'notes.txt'))
    expect(notOnnx._tag === 'Left' && notOnnx.left._tag).toBe('BadModel')
  })
})
