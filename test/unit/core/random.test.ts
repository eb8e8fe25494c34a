import { describe, expect, it } from 'vitest'
import { foldIn, keyOf, normals, permutation, uniforms } from '../../../src/core/random.js'

describe('random: explicit, splittable, reproducible', () => {
  it('the same key gives the same numbers; other keys give other numbers', () => {
    const k = keyOf(42)
    expect(Array.from(uniforms(k, 5))).toEqual(Array.from(uniforms(keyOf(42), 5)))
    expect(Array.from(uniforms(k, 5))).not.toEqual(Array.from(uniforms(keyOf(43), 5)))
    expect(Array.from(uniforms(foldIn(k, 1), 5))).not.toEqual(Array.from(uniforms(foldIn(k, 2), 5)))
  })
  it('uniforms lie in (0, 1) with mean ½; normals have mean 0 and variance 1', () => {
    const u = uniforms(keyOf(1), 20000)
    expect(u.every((v) => v > 0 && v < 1)).toBe(true)
    expect(u.reduce((a, b) => a + b, 0) / u.length).toBeCloseTo(0.5, 2)
    const z = normals(keyOf(2), 20000)
    const m = z.reduce((a, b) => a + b, 0) / z.length
    const v = z.reduce((a, b) => a + (b - m) ** 2, 0) / z.length
    expect(Math.abs(m)).toBeLessThan(0.03)
    expect(Math.abs(v - 1)).toBeLessThan(0.05)
  })
  it('permutations are permutations', () => {
    const p = permutation(keyOf(3), 100)
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(Array.from(p)).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
  })
})
