/**
 * The flat, reviewed list of ONNX gradient rules. Adding an op = one file in this folder, one line
 * here, one row in test/grad-rules/onnx.rules.test.ts. The registry is built per call from an array
 * (never a global): `makeGradRegistry(rules)`.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidSpec, type AttributionError } from '../../../../core/errors.js'
import { ruleKey, type GradRule } from '../rule.js'
import { Abs } from './Abs.js'
import { Add } from './Add.js'
import { And } from './And.js'
import { ArgMax } from './ArgMax.js'
import { ArgMin } from './ArgMin.js'
import { AveragePool } from './AveragePool.js'
import { BatchNormalization } from './BatchNormalization.js'
import { Cast } from './Cast.js'
import { Clip } from './Clip.js'
import { Concat } from './Concat.js'
import { Constant } from './Constant.js'
import { ConstantOfShape } from './ConstantOfShape.js'
import { Conv } from './Conv.js'
import { Div } from './Div.js'
import { Dropout } from './Dropout.js'
import { Elu } from './Elu.js'
import { Equal } from './Equal.js'
import { Erf } from './Erf.js'
import { Exp } from './Exp.js'
import { Expand } from './Expand.js'
import { Flatten } from './Flatten.js'
import { Gather } from './Gather.js'
import { Gelu } from './Gelu.js'
import { Gemm } from './Gemm.js'
import { GlobalAveragePool } from './GlobalAveragePool.js'
import { Greater } from './Greater.js'
import { HardSigmoid } from './HardSigmoid.js'
import { GreaterOrEqual } from './GreaterOrEqual.js'
import { Identity } from './Identity.js'
import { LayerNormalization } from './LayerNormalization.js'
import { LeakyRelu } from './LeakyRelu.js'
import { Less } from './Less.js'
import { LessOrEqual } from './LessOrEqual.js'
import { Log } from './Log.js'
import { LogSoftmax } from './LogSoftmax.js'
import { MatMul } from './MatMul.js'
import { MaxPool } from './MaxPool.js'
import { Mul } from './Mul.js'
import { Neg } from './Neg.js'
import { NonZero } from './NonZero.js'
import { Not } from './Not.js'
import { OneHot } from './OneHot.js'
import { Or } from './Or.js'
import { Pow } from './Pow.js'
import { Range } from './Range.js'
import { ReduceMean } from './ReduceMean.js'
import { ReduceSum } from './ReduceSum.js'
import { Relu } from './Relu.js'
import { Reshape } from './Reshape.js'
import { Shape } from './Shape.js'
import { Sigmoid } from './Sigmoid.js'
import { Size } from './Size.js'
import { Slice } from './Slice.js'
import { Softmax } from './Softmax.js'
import { Softplus } from './Softplus.js'
import { Split } from './Split.js'
import { Sqrt } from './Sqrt.js'
import { Squeeze } from './Squeeze.js'
import { Sub } from './Sub.js'
import { Tanh } from './Tanh.js'
import { Transpose } from './Transpose.js'
import { Unsqueeze } from './Unsqueeze.js'
import { Where } from './Where.js'

export const ALL_GRAD_RULES: readonly GradRule[] = [
  Abs,
  Add,
  And,
  ArgMax,
  ArgMin,
  AveragePool,
  BatchNormalization,
  Cast,
  Clip,
  Concat,
  Constant,
  ConstantOfShape,
  Conv,
  Div,
  Dropout,
  Elu,
  Equal,
  Erf,
  Exp,
  Expand,
  Flatten,
  Gather,
  Gelu,
  Gemm,
  GlobalAveragePool,
  Greater,
  HardSigmoid,
  GreaterOrEqual,
  Identity,
  LayerNormalization,
  LeakyRelu,
  Less,
  LessOrEqual,
  Log,
  LogSoftmax,
  MatMul,
  MaxPool,
  Mul,
  Neg,
  NonZero,
  Not,
  OneHot,
  Or,
  Pow,
  Range,
  ReduceMean,
  ReduceSum,
  Relu,
  Reshape,
  Shape,
  Sigmoid,
  Size,
  Slice,
  Softmax,
  Softplus,
  Split,
  Sqrt,
  Squeeze,
  Sub,
  Tanh,
  Transpose,
  Unsqueeze,
  Where,
]

/** A lookup table from (domain, opType) to rule. */
export type GradRegistry = ReadonlyMap<string, GradRule>

/** Builds a registry from a list of rules; two rules for the same (domain, opType) are an error. */
export const makeGradRegistry = (rules: readonly GradRule[]): E.Either<AttributionError, GradRegistry> => {
  const m = new Map<string, GradRule>()
  const dups: string[] = []
  for (const r of rules) {
    const k = ruleKey(r.domain, r.opType)
    if (m.has(k)) dups.push(`${r.domain === '' || r.domain === 'ai.onnx' ? '' : r.domain + '.'}${r.opType}`)
    else m.set(k, r)
  }
  return dups.length > 0
    ? E.left(invalidSpec(dups.map((d) => ({ path: ['extraGradRules', d], message: `duplicate gradient rule for ${d}; register one rule per op type` }))))
    : E.right(m)
}

/** The rule for a node's op type, if any. */
export const lookupRule = (reg: GradRegistry, domain: string, opType: string): GradRule | undefined => reg.get(ruleKey(domain, opType))
