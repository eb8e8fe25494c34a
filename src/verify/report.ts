/**
 * A {@link VerifyReport} as text (`formatVerifyReport`) and as a section of `htmlReport`
 * (`verifyReportSection`; `htmlReport` escapes every piece of it).
 *
 * @category verify
 * @since 0.3.0
 */
import type { ReportSection } from '../viz/html.js'
import { fmt } from './host.js'
import type { AxiomCheck, VerifyReport } from './verify.js'

const MARK: Readonly<Record<AxiomCheck['status'], string>> = { holds: 'holds', fails: 'FAILS', notApplicable: 'n/a', error: 'ERROR' }

/** One line per axiom: status, worst error against tolerance, and the detail that matters. */
const lineOf = (c: AxiomCheck): string => {
  const head = `${MARK[c.status].padEnd(6)} ${c.axiom}${c.claimed ? '' : ' (not claimed)'}`
  if (c.status === 'notApplicable' || c.status === 'error') return `${head}: ${c.reason ?? ''}`
  const measured = `worst error ${fmt(c.worstError)} (tolerance ${fmt(c.tolerance)}, ${c.runs} runs)`
  if (c.status === 'holds') return `${head}: ${measured}`
  const x = c.counterexample!
  return `${head}: ${measured}\n         counterexample (after ${x.shrinks} shrinks): ${x.setting}; inputs moved by scale ${fmt(x.scale)} (noise seed ${x.noiseSeed})\n         ${x.where} (error ${fmt(x.error)})`
}

/** The report as plain text, one axiom per line (a failure adds its counterexample). */
export const formatVerifyReport = (r: VerifyReport): string =>
  [
    `verify ${r.method} on ${r.backend}: ${r.ok ? 'every checked axiom holds or does not apply' : 'some axioms FAIL'} (claims: ${r.claims.length > 0 ? r.claims.join(', ') : 'none'}; radius ${fmt(r.radius)}, seed ${r.seed})`,
    ...r.checks.map((c) => `  ${lineOf(c).replace(/\n/g, '\n  ')}`),
  ].join('\n')

/** The report as a section of `htmlReport`: a facts table (axiom → result) and the text form. */
export const verifyReportSection = (r: VerifyReport): ReportSection => ({
  heading: `Axioms of ${r.method} (${r.backend})`,
  facts: r.checks.map((c) => [
    c.claimed ? c.axiom : `${c.axiom} (not claimed)`,
    c.status === 'holds' || c.status === 'fails'
      ? `${MARK[c.status]}: worst error ${fmt(c.worstError)} ≤? ${fmt(c.tolerance)}${c.counterexample ? ` — ${c.counterexample.setting}; ${c.counterexample.where}` : ''}`
      : `${MARK[c.status]}: ${c.reason ?? ''}`,
  ] as const),
  pre: formatVerifyReport(r),
})
