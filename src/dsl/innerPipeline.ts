/**
 * What the stages that hold a whole pipeline as a parameter (`apply`, `weightBy`) share: the inner
 * pipeline's codec, and the stage fields that expose it to the checker (`inner`), pass its call data
 * on (`needs`) and report its structural problems at `pipeline.…` (`validate`).
 *
 * @internal
 */
import * as t from 'io-ts'
// spec.ts imports the stages, which import this file: its bindings are read only inside functions.
import { PipelineCodec, callDataOf, checkStructure, type Pipeline } from './spec.js'

/** The inner pipeline's codec, looked up when used (the pipeline codec is defined over the stages). */
export const InnerPipelineCodec = new t.Type<Pipeline, Pipeline, unknown>(
  'Pipeline',
  (u): u is Pipeline => PipelineCodec.is(u),
  (u, c) => PipelineCodec.validate(u, c),
  (p) => p,
)

/** `inner`, `needs` and `validate` for a stage whose parameters hold `pipeline`. */
export const innerPipelineFields = {
  inner: (p: { readonly pipeline: Pipeline }) => p.pipeline,
  needs: (p: { readonly pipeline: Pipeline }) => [...callDataOf(p.pipeline)],
  validate: (p: { readonly pipeline: Pipeline }) => checkStructure(p.pipeline).map((i) => ({ path: ['pipeline', ...i.path], message: i.message })),
} as const
