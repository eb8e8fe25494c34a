// The Captum reference fixtures sit beside the repository (<repo>/../shared/reference), as on CI,
// and small helpers to unwrap the Eithers the fixture reader returns.
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import type { AttributionError } from '../../src/core/errors.js'

export const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference', import.meta.url))

/** The value, or a thrown Error naming the typed error (test failures read well). */
export const right = <A>(r: E.Either<AttributionError, A>): A => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag} at ${r.left.path.join('.')}: ${r.left.message}`)
  return r.right
}

/** The typed error, or a thrown Error when there was a value. */
export const left = <A>(r: E.Either<AttributionError, A>): AttributionError => {
  if (E.isRight(r)) throw new Error('expected a typed error, got a value')
  return r.left
}
