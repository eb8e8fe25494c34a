/**
 * Suggestions for a misspelt tensor, layer or output name: the known names closest to it, so an
 * error that says a name is unknown can also say which names were probably meant. Names containing
 * the given one (or contained in it, case-insensitively) come first, then the rest by edit distance.
 *
 * @category core
 * @since 0.3.0
 */

/** Levenshtein distance between two strings. */
const distance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    prev = cur
  }
  return prev[b.length]!
}

/** Up to `n` of `names` closest to `name`: names containing it (or contained in it) first, then by edit distance. */
export const nearbyNames = (name: string, names: readonly string[], n = 5): string[] => {
  const lower = name.toLowerCase()
  const score = (c: string): number => {
    const l = c.toLowerCase()
    return (lower !== '' && (l.includes(lower) || lower.includes(l)) ? 0 : 1e6) + distance(lower, l)
  }
  return [...new Set(names)].map((c) => ({ c, s: score(c) })).sort((a, b) => a.s - b.s).slice(0, n).map((x) => x.c)
}

/**
 * The sentence an unknown-name error ends with: the closest known names and how many there are,
 * e.g. `closest: "p2o.Add.87", "p2o.Add.86" (471 in all)`; `none` when nothing is known.
 */
export const closestNames = (name: string, names: readonly string[], none = 'there are none'): string => {
  if (names.length === 0) return none
  const near = nearbyNames(name, names)
  return `closest: ${near.map((x) => JSON.stringify(x)).join(', ')}${names.length > near.length ? ` (${names.length} in all)` : ''}`
}
