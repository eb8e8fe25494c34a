/**
 * The engines are optional peer dependencies: a tfjs user installs `@tensorflow/tfjs`, an ONNX user
 * `onnxruntime-node`, and nobody gets both. The entry points that need one load it through
 * {@link importPeer}, so a missing engine is reported as "install this package" rather than as a bare
 * `ERR_MODULE_NOT_FOUND` from deep inside `dist/`.
 *
 * @internal
 * @category core
 * @since 0.1.0
 */
import { backendFailure, ClarusError } from './errors.js'

/** The package name a module-not-found error complains about (Node's ESM and CommonJS wordings), if any. */
export const missingPackageOf = (e: unknown): string | undefined => {
  if (typeof e !== 'object' || e === null) return undefined
  const code = (e as { readonly code?: unknown }).code
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined
  const message = (e as { readonly message?: unknown }).message
  if (typeof message !== 'string') return undefined
  const m = /Cannot find (?:package|module) '([^']+)'/.exec(message)
  if (m?.[1] === undefined) return undefined
  const spec = m[1]
  // A bare specifier names a package ('@scope/name/sub' -> '@scope/name'); a path is a broken install, not a missing peer.
  if (spec.startsWith('.') || spec.startsWith('/') || /^[A-Za-z]:[\\/]/.test(spec) || spec.startsWith('file:')) return undefined
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The message for an entry point whose engine is not installed. */
export const missingPeerMessage = (entry: string, packages: readonly string[], missing: string): string =>
  `${entry} needs ${packages.join(' and ')} (optional peer ${packages.length === 1 ? 'dependency' : 'dependencies'} of clarus), ` +
  `but '${missing}' cannot be found. Install ${packages.length === 1 ? 'it' : 'them'} next to clarus: npm install ${packages.join(' ')}`

/** True when `missing` is one of `packages` or shares an npm scope with one (`@tensorflow/tfjs-core` for `@tensorflow/tfjs`). */
const belongsTo = (missing: string, packages: readonly string[]): boolean =>
  packages.includes(missing) || (missing.startsWith('@') && packages.some((p) => p.split('/')[0] === missing.split('/')[0]))

/**
 * Runs `load` (a dynamic import of code that needs `packages`). When it fails because one of those
 * packages (or one of their scope) cannot be found, throws a {@link ClarusError} (`BackendFailure`,
 * the original error as `cause`) that names `entry` and the packages to install; any other failure
 * is rethrown unchanged.
 */
export const importPeer = async <M>(entry: string, packages: readonly string[], load: () => Promise<M>): Promise<M> => {
  try {
    return await load()
  } catch (e) {
    const missing = missingPackageOf(e)
    if (missing === undefined || !belongsTo(missing, packages)) throw e
    throw new ClarusError(backendFailure(missingPeerMessage(entry, packages, missing), e, ['peerDependencies', missing]))
  }
}
