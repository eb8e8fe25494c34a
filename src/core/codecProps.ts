/**
 * The properties of an io-ts object codec, read off the codec at run time (io-ts types carry their
 * `_tag`, `props`, `type` and `types`): what `clarus methods` lists for a method's options and what
 * the explorer builds its options forms from.
 *
 * @internal
 */

/** The parts of an io-ts codec the walk reads. */
interface CodecShape {
  readonly _tag?: string
  readonly props?: Readonly<Record<string, unknown>>
  readonly type?: unknown
  readonly types?: readonly unknown[]
}

/** One property of an object codec: its name, its codec, and whether it must be given (`t.type`, not `t.partial`). */
export interface CodecProp {
  readonly name: string
  readonly codec: unknown
  readonly required: boolean
}

/**
 * The properties of an object codec, through readonly, exact, refinement and intersection wrappers
 * (a member of an intersection that is not an object codec adds none); `undefined` when `codec` is
 * not an object codec.
 */
export const codecProps = (codec: unknown): CodecProp[] | undefined => {
  const c = codec as CodecShape
  switch (c._tag) {
    case 'InterfaceType':
    case 'PartialType':
      return Object.entries(c.props ?? {}).map(([name, v]) => ({ name, codec: v, required: c._tag === 'InterfaceType' }))
    case 'ReadonlyType':
    case 'ExactType':
    case 'RefinementType':
      return c.type !== undefined ? codecProps(c.type) : undefined
    case 'IntersectionType':
      return (c.types ?? []).flatMap((m) => codecProps(m) ?? [])
    default:
      return undefined
  }
}
