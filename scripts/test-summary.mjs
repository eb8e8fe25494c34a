// Prints vitest's totals as one plain closing line ("N passed, M failed, K skipped"), read from
// the JSON report that `npm test` asks vitest to write. Exits non-zero if the report shows failures
// or no tests at all.
import { readFileSync } from 'node:fs'

const r = JSON.parse(readFileSync('.vitest-report.json', 'utf8'))
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(r.numFailedTests > 0 || r.numTotalTests === 0 ? 1 : 0)
