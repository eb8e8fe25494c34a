// interpolateAttribution / LayerAttribution.interpolate / the core resize against PyTorch.
// The expected arrays were computed outside the tests with Debian python3-torch 1.13.1:
//   x = torch.tensor([round(sin(i + 1) * 1000) / 1000 for i in range(n)], dtype=float32).reshape(shape)
//   F.interpolate(x, size=size, mode=mode, align_corners=False for the linear modes), printed with '%.9g'
// (9 significant digits reproduce a float32 exactly). Nearest must match bit for bit; so must the
// linear modes on maps with several channels (torch's channels-first kernel). One-channel maps go
// through torch's channels-last kernel, which sums the corners in another order: 1–2 float32 ulps.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { resize } from '../../../src/core/resize.js'
import { ClarusError, float32, interpolateAttribution, LayerAttribution, type HostTensor } from '../../../src/index.js'

const xs = (shape: readonly number[]): HostTensor<'float32'> => {
  const n = shape.reduce((a, b) => a * b, 1)
  return float32(shape, Array.from({ length: n }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000))
}
const values = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
const exactly = (got: HostTensor, shape: readonly number[], want: readonly number[]): void => {
  expect(got.shape).toEqual(shape)
  expect(values(got)).toEqual(want.map(Math.fround))
}
const within = (got: HostTensor, shape: readonly number[], want: readonly number[], tol: number): void => {
  expect(got.shape).toEqual(shape)
  values(got).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol))
}

describe('nearest (torch "nearest": floor(o · in/out), not "nearest-exact")', () => {
  it('3×4 → 7×5, a ratio that is not an integer', () => {
    exactly(interpolateAttribution(xs([1, 1, 3, 4]), [7, 5]), [1, 1, 7, 5], [
      0.841000021, 0.841000021, 0.908999979, 0.141000003, -0.757000029, 0.841000021, 0.841000021, 0.908999979, 0.141000003, -0.757000029,
      0.841000021, 0.841000021, 0.908999979, 0.141000003, -0.757000029, -0.958999991, -0.958999991, -0.279000014, 0.657000005, 0.989000022,
      -0.958999991, -0.958999991, -0.279000014, 0.657000005, 0.989000022, 0.412, 0.412, -0.54400003, -1.0, -0.537, 0.412, 0.412, -0.54400003, -1.0, -0.537,
    ])
  })
  it('3×4 → 6×8 (each element twice, as torch\'s 2× shortcut), via LayerAttribution.interpolate', () => {
    const want = [0.841000021, 0.908999979, 0.141000003, -0.757000029, -0.958999991, -0.279000014, 0.657000005, 0.989000022, 0.412, -0.54400003, -1.0, -0.537]
    const rows = [0, 1, 2].flatMap((r) => {
      const row = want.slice(r * 4, r * 4 + 4).flatMap((v) => [v, v])
      return [...row, ...row]
    })
    exactly(LayerAttribution.interpolate(xs([1, 1, 3, 4]), [6, 8]), [1, 1, 6, 8], rows)
  })
  it('1-D 5 → 3 and 3-D 2×2×2 → 3×3×2', () => {
    exactly(interpolateAttribution(xs([1, 1, 5]), [3]), [1, 1, 3], [0.841000021, 0.908999979, -0.757000029])
    exactly(interpolateAttribution(xs([1, 1, 2, 2, 2]), [3, 3, 2]), [1, 1, 3, 3, 2], [
      0.841000021, 0.908999979, 0.841000021, 0.908999979, 0.141000003, -0.757000029, 0.841000021, 0.908999979, 0.841000021,
      0.908999979, 0.141000003, -0.757000029, -0.958999991, -0.279000014, -0.958999991, -0.279000014, 0.657000005, 0.989000022,
    ])
  })
  it('a single size is used for every spatial dim', () => {
    expect(interpolateAttribution(xs([2, 1, 3, 4]), 5).shape).toEqual([2, 1, 5, 5])
  })
})

describe('linear modes, align_corners = False (source = max(0, (o + ½)·in/out − ½))', () => {
  it('bilinear 2 channels 3×4 → 5×7 (up) is torch bit for bit', () => {
    exactly(interpolateAttribution(xs([1, 2, 3, 4]), [5, 7], { mode: 'bilinear' }), [1, 2, 5, 7], [
      0.841000021, 0.865285695, 0.904142857, 0.524999917, 0.0768570453, -0.436285883, -0.757000029, 0.120999955, 0.232714266, 0.411457121,
      0.390599996, 0.318399996, 0.0863999575, -0.0585999414, -0.958999932, -0.716142714, -0.327571392, 0.189000055, 0.68071425, 0.870428503,
      0.988999903, -0.13639988, -0.24411422, -0.416457176, -0.387600094, -0.307871521, -0.0732429102, 0.0733998641, 0.412, 0.070571363,
      -0.475714356, -0.772000074, -0.966928542, -0.702357054, -0.537, 0.419999987, 0.623928547, 0.950214267, 0.820499957, 0.582999885,
      0.0469998345, -0.287999988, -0.132400066, 0.0199570972, 0.263728499, 0.372099996, 0.431599945, 0.284399986, 0.192400023, -0.960999906,
      -0.885999918, -0.765999973, -0.300499886, 0.204500034, 0.640500009, 0.912999868, 0.117800139, -0.0334856175, -0.275542825, -0.376700014,
      -0.428371519, -0.274542958, -0.178400159, 0.837000012, 0.534857094, 0.0514285453, -0.427500099, -0.850285769, -0.884571493, -0.906000018,
    ])
  })
  it('bilinear 2 channels 3×4 → 2×3 (down) and linear 2 channels 5 → 3 are torch bit for bit', () => {
    exactly(interpolateAttribution(xs([1, 2, 3, 4]), [2, 3], { mode: 'bilinear' }), [1, 2, 2, 3], [
      0.427833378, 0.440999955, -0.222083434, -0.0219166726, -0.531749964, -0.227208287, 0.154875025, 0.540250003, 0.0977082849, 0.290499955, -0.395750046, -0.475541711,
    ])
    exactly(interpolateAttribution(xs([1, 2, 5]), [3], { mode: 'linear' }), [1, 2, 3], [0.863666654, 0.141000047, -0.891666651, 0.0329999663, 0.989000022, -0.225333259])
  })
  it('one-channel maps (torch runs its channels-last kernel there): bilinear 4×3 → 3×5, trilinear 2×2×2 → 3×3×2', () => {
    within(interpolateAttribution(xs([1, 1, 4, 3]), [3, 5], { mode: 'bilinear' }), [1, 1, 3, 5], [
      0.574666619, 0.583866656, 0.597666562, 0.281666607, 0.0709999949, -0.0499999262, -0.0239998978, 0.0150001049, 0.0459000841, 0.0665000454,
      -0.343833476, -0.473700166, -0.668500185, -0.494700104, -0.378833413,
    ], 2.5e-7)
    within(interpolateAttribution(xs([1, 1, 2, 2, 2]), [3, 3, 2], { mode: 'trilinear' }), [1, 1, 3, 3, 2], [
      0.841000021, 0.908999979, 0.490999997, 0.0759999752, 0.141000003, -0.757000029, -0.0589999855, 0.314999998, 0.170000017,
      0.215499997, 0.398999989, 0.115999997, -0.958999991, -0.279000014, -0.150999993, 0.354999989, 0.656999946, 0.988999963,
    ], 2.5e-7)
  })
  it('NHWC equals NCHW with the channel moved last', () => {
    const nchw = xs([2, 3, 4, 5])
    const nhwc = float32([2, 4, 5, 3], Array.from({ length: 120 }, (_, j) => {
      const [n, h, w, c] = [Math.floor(j / 60), Math.floor(j / 15) % 4, Math.floor(j / 3) % 5, j % 3]
      return nchw.data[((n * 3 + c) * 4 + h) * 5 + w]!
    }))
    const a = interpolateAttribution(nchw, [7, 3], { mode: 'bilinear' })
    const b = interpolateAttribution(nhwc, [7, 3], { mode: 'bilinear', layout: 'NHWC' })
    expect(b.shape).toEqual([2, 7, 3, 3])
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let h = 0; h < 7; h++) for (let w = 0; w < 3; w++) {
      expect(b.data[((n * 7 + h) * 3 + w) * 3 + c]).toBe(a.data[((n * 3 + c) * 7 + h) * 3 + w])
    }
  })
  it('an unchanged size is the identity (and differs from the input when the size changes)', () => {
    const x = xs([1, 2, 3, 4])
    expect(values(interpolateAttribution(x, [3, 4], { mode: 'bilinear' }))).toEqual(values(x))
    expect(values(interpolateAttribution(x, [3, 5], { mode: 'bilinear' }))).not.toEqual(values(interpolateAttribution(x, [3, 5])))
  })
})

describe('bad inputs are typed errors', () => {
  const tagOf = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      expect(e).toBeInstanceOf(ClarusError)
      return `${(e as ClarusError).error._tag} ${(e as ClarusError).error.path.join('.')}`
    }
    throw new Error('expected a ClarusError')
  }
  it('rank mismatch, bad sizes, wrong mode for the rank, no spatial dims, non-float maps, unknown mode or layout', () => {
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3, 4]), [5]))).toBe('ShapeMismatch size')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3, 4]), [5, 0]))).toBe('ShapeMismatch size.1')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3, 4]), [5, 2.5]))).toBe('ShapeMismatch size.1')
    // a size that would allocate more than 1 GiB on the host is refused up front, not a RangeError
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3, 4]), [1e9, 1e9]))).toBe('ShapeMismatch size')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3, 4]), [5, 5], { mode: 'trilinear' }))).toBe('ShapeMismatch mode')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 5]), [5, 5], { mode: 'bilinear' }))).toBe('ShapeMismatch size')
    expect(tagOf(() => interpolateAttribution(xs([4, 3]), [5]))).toBe('ShapeMismatch attr')
    expect(tagOf(() => interpolateAttribution({ dtype: 'int32', shape: [1, 1, 2], data: Int32Array.from([1, 2]) }, [4]))).toBe('DTypeMismatch attr')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3]), [4], { mode: 'bicubic' as 'nearest' }))).toBe('Unsupported mode')
    expect(tagOf(() => interpolateAttribution(xs([1, 1, 3]), [4], { layout: 'NWC' as 'NHWC' }))).toBe('Unsupported layout')
    const e = resize(xs([1, 1, 3, 4]), [5, 5], { mode: 'linear' })
    expect(E.isLeft(e) && e.left.message).toMatch(/use 'bilinear' or 'nearest'/)
  })
})
