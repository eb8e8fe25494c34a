import { describe, expect, it } from 'vitest'
import { CliError, parseArgs } from '../../../src/cli/args.js'
import { progressSink, progressText } from '../../../src/cli/progress.js'

describe('argument parsing', () => {
  it('reads positionals, --flag value, --flag=value and switches', () => {
    const a = parseArgs(['m.onnx', '--input', 'x.json', '--target=3', '--quiet'], ['input', 'target'], ['quiet'])
    expect(a.positionals).toEqual(['m.onnx'])
    expect(a.flags).toEqual({ input: 'x.json', target: '3' })
    expect([...a.switches]).toEqual(['quiet'])
  })

  it('rejects unknown, repeated and value-less flags with a message', () => {
    expect(() => parseArgs(['--colour', 'red'], ['input'])).toThrow(/unknown option --colour; this command takes --input/)
    expect(() => parseArgs(['--input', 'a', '--input', 'b'], ['input'])).toThrow(/given twice/)
    expect(() => parseArgs(['--input'], ['input'])).toThrow(/--input needs a value/)
    expect(() => parseArgs(['--quiet=1'], [], ['quiet'])).toThrow(CliError)
  })
})

describe('progress', () => {
  it('draws a bar on a terminal, lines every 10% when asked on a pipe, nothing otherwise', () => {
    expect(progressText({ done: 50, total: 200 }, 10)).toBe('[###-------]  25% 50/200 model rows')
    let tty = ''
    const bar = progressSink({ isTTY: true, write: (s: string) => (tty += s) })
    bar.update({ done: 1, total: 4 })
    bar.done()
    expect(tty).toBe(`\r${progressText({ done: 1, total: 4 })}\r\u001b[2K`)
    let pipe = ''
    const lines = progressSink({ isTTY: false, write: (s: string) => (pipe += s) }, true)
    for (let d = 0; d <= 100; d += 5) lines.update({ done: d, total: 100 })
    expect(pipe.split('\n').filter(Boolean)).toHaveLength(11)
    let quiet = ''
    const silent = progressSink({ isTTY: false, write: (s: string) => (quiet += s) })
    silent.update({ done: 1, total: 2 })
    silent.done()
    expect(quiet).toBe('')
  })
})
