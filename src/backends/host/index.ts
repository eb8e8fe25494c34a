/**
 * `clarus/host`: models that run in plain JavaScript. {@link fromFunction} turns any (async)
 * function over host tensors into a forward-only model for the perturbation methods;
 * {@link hostBackend} is the dependency-free tensor-op backend it runs on.
 *
 * (Not re-exported from the core entry point: the lint rule of STYLE.md §3.2 keeps every backend,
 * even this dependency-free one, behind its own subpath.)
 *
 * @category backends
 * @since 0.1.0
 */
export { fromFunction } from './fromFunction.js'
export type { FromFunctionOptions, FunctionOutput } from './fromFunction.js'
export { hostBackend } from './hostBackend.js'
