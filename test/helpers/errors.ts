// The typed error a Captum-style class call rejects with (fails the test if it resolves or throws
// anything else).
import { expect } from 'vitest'
import { ClarusError, type AttributionError } from '../../src/index.js'

export const errorOf = async (p: Promise<unknown>): Promise<AttributionError> => {
  const e = await p.then(() => undefined, (u: unknown) => u)
  expect(e).toBeInstanceOf(ClarusError)
  return (e as ClarusError).error
}
