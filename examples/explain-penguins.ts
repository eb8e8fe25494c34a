/**
 * Which measurements make a penguin an Adélie, a Chinstrap or a Gentoo? KernelShap and Integrated
 * Gradients on a small classifier trained on the Palmer penguins (real field data, CC0).
 *
 * The model (scripts/train-penguins.py, committed in examples/assets/penguins) is an ONNX MLP
 * 9-16-3 over bill length, bill depth, flipper length, body mass, island (one-hot) and sex
 * (one-hot), each column standardised with the training mean and standard deviation; it outputs
 * the three species' logits. Every held-out row is explained for its predicted class, against the
 * average training penguin (all zeros after standardisation):
 *
 * - KernelShap (seeded, 6 features: the island and sex one-hot blocks are one feature each via the
 *   feature mask); its attributions add up to f(x) − f(baseline) exactly, as the full and empty
 *   coalitions carry weight 10⁶.
 * - IntegratedGradients per column, summed over each one-hot block afterwards (IG is additive);
 *   Σ IG = f(x) − f(baseline) up to the printed quadrature delta.
 *
 * Writes out/penguins/: a bar chart and a waterfall per method for one typical test penguin
 * of each species, a beeswarm over all test rows per method, attributions.json and report.html; and copies
 * the KernelShap beeswarm and the Chinstrap waterfall to docs/img/.
 *
 *   npm run example:penguins
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { IntegratedGradients, KernelShap, float32, type HostTensor } from '../src/index.js'
import { barChartSvg, beeswarmSvg, htmlReport, waterfallSvg, type ReportSection } from '../src/viz/index.js'
import { argmaxRows, groupMask, groupSums, loadMeta, loadModel, testSet } from './penguins.js'

const outDir = path.resolve('out/penguins')
const docsDir = path.resolve('docs/img')

const KERNEL_SHAP = { nSamples: 1000, seed: 0 } as const
const IG = { nSteps: 64, method: 'gausslegendre' } as const

const rowsOf = (t: HostTensor): number[][] => {
  const [n, m] = t.shape as [number, number]
  const d = t.data as Float32Array
  return Array.from({ length: n }, (_, i) => Array.from(d.subarray(i * m, (i + 1) * m)))
}

const fmt = (v: number): string => (v >= 0 ? ' ' : '') + v.toFixed(3)

const main = async (): Promise<void> => {
  const t0 = performance.now()
  const meta = loadMeta()
  const test = testSet(meta)
  const n = test.labels.length
  const model = await loadModel()
  try {
    const out = await model.forward([test.x])()
    const base = await model.forward([float32([1, meta.columns.length], new Array<number>(meta.columns.length).fill(0))])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    if (E.isLeft(base)) throw new Error(base.left.message)
    const logits = rowsOf(out.right.output)
    const baseLogits = rowsOf(base.right.output)[0]!
    const predicted = argmaxRows(out.right.output)
    const correct = predicted.filter((p, i) => p === test.labels[i]).length
    console.log(`${n} held-out penguins, ${correct} classified correctly (the training script reported ${meta.testCorrect}/${n})`)
    console.log(`baseline (average training penguin) logits: ${meta.classes.map((c, k) => `${c} ${baseLogits[k]!.toFixed(3)}`).join(', ')}`)

    // KernelShap over 6 features (one-hot blocks grouped); returnInputShape: false gives [N, 6]
    const ksStart = performance.now()
    const ks = rowsOf(await new KernelShap(model).attribute(test.x, { target: predicted, baselines: 0, featureMask: groupMask(meta), returnInputShape: false, ...KERNEL_SHAP }))
    const ksSeconds = (performance.now() - ksStart) / 1000
    // the exact Shapley values (all 2^6 coalitions), to show how close the sampled fit is
    const exact = rowsOf(await new KernelShap(model).attribute(test.x, { target: predicted, baselines: 0, featureMask: groupMask(meta), returnInputShape: false, exact: true }))
    const ksErr = Math.max(...ks.flatMap((r, i) => r.map((v, j) => Math.abs(v - exact[i]![j]!))))

    const igStart = performance.now()
    const [igAttr, igDelta] = await new IntegratedGradients(model).attribute(test.x, { target: predicted, baselines: 0, returnConvergenceDelta: true, ...IG })
    const igSeconds = (performance.now() - igStart) / 1000
    const igColumns = rowsOf(igAttr)
    const ig = igColumns.map((r) => groupSums(r, meta))
    const deltas = Array.from(igDelta.data as Float32Array)

    const gap = (i: number): number => logits[i]![predicted[i]!]! - baseLogits[predicted[i]!]!
    const sum = (r: readonly number[]): number => r.reduce((a, v) => a + v, 0)
    console.log(`KernelShap (${KERNEL_SHAP.nSamples} coalitions, seed ${KERNEL_SHAP.seed}): ${ksSeconds.toFixed(2)} s; largest |sampled − exact Shapley value| ${ksErr.toExponential(2)}`)
    console.log(`IntegratedGradients (${IG.nSteps} steps, ${IG.method}): ${igSeconds.toFixed(2)} s`)

    // one typical penguin of each species: the test row nearest (in standardised measurements) to its species' test mean
    const xs = rowsOf(test.x)
    const shown = meta.classes.flatMap((_, c) => {
      const members = test.labels.flatMap((l, i) => (l === c ? [i] : []))
      if (members.length === 0) return []
      const centre = [0, 1, 2, 3].map((j) => members.reduce((a, i) => a + xs[i]![j]!, 0) / members.length)
      const dist = (i: number): number => centre.reduce((a, m, j) => a + (xs[i]![j]! - m) ** 2, 0)
      return [members.reduce((best, i) => (dist(i) < dist(best) ? i : best))]
    })
    console.log('\ncompleteness, Σ attributions = f(x) − f(baseline) for the explained logit:')
    console.log('  row  species     f(x) − f(x′)   Σ KernelShap   Σ IG      IG delta')
    for (const i of shown) {
      console.log(`  ${String(meta.testRows[i]).padStart(3)}  ${meta.classes[predicted[i]!]!.padEnd(10)} ${fmt(gap(i)).padStart(9)}    ${fmt(sum(ks[i]!)).padStart(9)}    ${fmt(sum(ig[i]!)).padStart(8)}  ${deltas[i]!.toExponential(2)}`)
    }
    const worstKs = Math.max(...ks.map((r, i) => Math.abs(sum(r) - gap(i))))
    const worstDelta = Math.max(...deltas.map(Math.abs))
    console.log(`  all ${n} rows: max |Σ KernelShap − gap| ${worstKs.toExponential(2)}, max |IG delta| ${worstDelta.toExponential(2)}`)

    const names = meta.groupNames
    const describeRow = (i: number): string => {
      const r = test.rows[i]!
      return `${r.Species} (row ${meta.testRows[i]}): bill ${r['Beak Length (mm)']}×${r['Beak Depth (mm)']} mm, flipper ${r['Flipper Length (mm)']} mm, ${r['Body Mass (g)']} g, ${r.Island}, ${r.Sex?.toLowerCase()}`
    }
    const methods = [
      { key: 'kernelshap', label: 'KernelShap', values: ks },
      { key: 'ig', label: 'Integrated Gradients', values: ig },
    ] as const

    // feature values for the beeswarm colours: the measurements as measured; island as its index in
    // meta.islands (Biscoe, Dream, Torgersen), sex 0 = female, 1 = male
    const featureValues = test.raw.map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, meta.groups[4]!.findIndex((j) => r[j] === 1), meta.groups[5]!.findIndex((j) => r[j] === 1)])

    mkdirSync(outDir, { recursive: true })
    const files: string[] = []
    const write = (name: string, svg: string): string => {
      writeFileSync(path.join(outDir, name), svg)
      files.push(name)
      return svg
    }
    const perRow = shown.map((i) => {
      const species = meta.classes[predicted[i]!]!
      const b = baseLogits[predicted[i]!]!
      const svgs = methods.flatMap((m) => [
        {
          caption: `${m.label}: attributions to the ${species} logit`,
          svg: write(`bar-${m.key}-${species.toLowerCase()}.svg`, barChartSvg(names, m.values[i]!, { title: `${m.label}: why ${species}? (row ${meta.testRows[i]})` })),
        },
        {
          caption: `${m.label}: from f(baseline) = ${b.toFixed(3)} to f(x) = ${logits[i]![predicted[i]!]!.toFixed(3)}`,
          svg: write(
            `waterfall-${m.key}-${species.toLowerCase()}.svg`,
            waterfallSvg(names, m.values[i]!, b, { title: `${m.label}: ${species} logit, average penguin → row ${meta.testRows[i]}`, baseLabel: 'average penguin' }),
          ),
        },
      ])
      return { i, species, svgs }
    })
    const swarms = methods.map((m) => ({
      caption: `${m.label}, all ${n} test penguins, each explained for its predicted species (colour: measurement; island Biscoe → Dream → Torgersen; sex female → male)`,
      svg: write(`beeswarm-${m.key}.svg`, beeswarmSvg(names, m.values, { title: `${m.label} over ${n} test penguins (predicted species' logit)`, featureValues })),
    }))

    const json = {
      model: 'examples/assets/penguins/penguins.onnx (MLP 9-16-3, logits)',
      features: names,
      columns: meta.columns,
      classes: meta.classes,
      baseline: 'training mean (zeros after standardisation)',
      baselineLogits: baseLogits,
      kernelShap: KERNEL_SHAP,
      integratedGradients: IG,
      rows: test.rows.map((r, i) => ({
        row: meta.testRows[i],
        species: r.Species,
        predicted: meta.classes[predicted[i]!],
        logits: logits[i],
        kernelShap: ks[i],
        kernelShapExact: exact[i],
        integratedGradients: ig[i],
        integratedGradientsPerColumn: igColumns[i],
        igDelta: deltas[i],
      })),
    }
    writeFileSync(path.join(outDir, 'attributions.json'), `${JSON.stringify(json, null, 1)}\n`)

    const meanAbs = (vs: readonly (readonly number[])[]): string =>
      names.map((f, j) => [f, vs.reduce((a, r) => a + Math.abs(r[j]!), 0) / vs.length] as const).sort((a, b) => b[1] - a[1]).map(([f, v]) => `${f} ${v.toFixed(2)}`).join(', ')
    const sections: ReportSection[] = [
      {
        heading: 'Model, data and methods',
        facts: [
          ['data', 'Palmer penguins (Gorman et al., palmerpenguins; CC0) from vega-datasets@3.2.1; rows with missing values dropped'],
          ['model', 'MLP 9-16-3 (ReLU) on standardised columns, logits out (scripts/train-penguins.py)'],
          ['test accuracy', `${correct}/${n}`],
          ['baseline', `the average training penguin (zeros after standardisation); logits ${baseLogits.map((v) => v.toFixed(3)).join(', ')}`],
          ['KernelShap', `${KERNEL_SHAP.nSamples} coalitions, seed ${KERNEL_SHAP.seed}, island and sex one feature each; max |sampled − exact| ${ksErr.toExponential(2)}; ${ksSeconds.toFixed(2)} s`],
          ['Integrated Gradients', `${IG.nSteps} steps (${IG.method}), summed over one-hot blocks; max |delta| ${worstDelta.toExponential(2)}; ${igSeconds.toFixed(2)} s`],
          ['mean |KernelShap|', meanAbs(ks)],
          ['mean |IG|', meanAbs(ig)],
        ],
      },
      { heading: 'All test penguins', svgs: swarms },
      ...perRow.map(({ i, svgs }) => ({
        heading: describeRow(i),
        facts: [
          ['logits', meta.classes.map((c, k) => `${c} ${logits[i]![k]!.toFixed(3)}`).join(', ')] as const,
          ['f(x) − f(baseline)', gap(i).toFixed(4)] as const,
          ['Σ KernelShap', sum(ks[i]!).toFixed(4)] as const,
          ['Σ IG (delta)', `${sum(ig[i]!).toFixed(4)} (${deltas[i]!.toExponential(2)})`] as const,
        ],
        svgs,
      })),
    ]
    writeFileSync(path.join(outDir, 'report.html'), htmlReport('Why this species? KernelShap and Integrated Gradients on the Palmer penguins', sections))

    mkdirSync(docsDir, { recursive: true })
    copyFileSync(path.join(outDir, 'beeswarm-kernelshap.svg'), path.join(docsDir, 'penguins-beeswarm.svg'))
    copyFileSync(path.join(outDir, 'waterfall-kernelshap-chinstrap.svg'), path.join(docsDir, 'penguins-waterfall.svg'))
    console.log(`\nmean |attribution| — KernelShap: ${meanAbs(ks)}`)
    console.log(`                    IG:         ${meanAbs(ig)}`)
    console.log(`\nwrote ${files.length} SVGs, attributions.json and report.html to ${outDir}; docs/img/penguins-{beeswarm,waterfall}.svg (${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  } finally {
    await model.dispose()
  }
}

await main()
