// An independent float64 reference, written from docs/contract.md ("Operation", "Presets",
// "Backward") and sharing no code with lib/: it walks every window element by element, with its own
// preset table.

export type RefPreset = 'alexnet' | 'pytorch' | 'onnx' | 'cudnn' | 'caffe' | 'tensorflow' | 'onednn';

export interface RefParams {
  shape: number[];
  layout: 'NCHW' | 'NHWC';
  region: 'across-channels' | 'within-channel';
  a: number;
  L: number;
  R: number;
  k: number;
  beta: number;
}

const DEFAULTS: Record<RefPreset, { n: number; alpha: number; beta: number; k: number; layout: 'NCHW' | 'NHWC' }> = {
  alexnet: { n: 5, alpha: 1e-4, beta: 0.75, k: 2, layout: 'NCHW' },
  pytorch: { n: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW' },
  onnx: { n: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW' },
  cudnn: { n: 5, alpha: 1e-4, beta: 0.75, k: 2, layout: 'NCHW' },
  caffe: { n: 5, alpha: 1, beta: 0.75, k: 1, layout: 'NCHW' },
  tensorflow: { n: 11, alpha: 1, beta: 0.5, k: 1, layout: 'NHWC' },
  onednn: { n: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW' },
};

/** Resolves user options the way the table of docs/contract.md, "Presets", says. */
export function refParams(o: {
  shape: number[]; preset?: RefPreset | undefined; layout?: 'NCHW' | 'NHWC' | undefined;
  region?: 'across-channels' | 'within-channel' | undefined;
  size?: number | undefined; alpha?: number | undefined; beta?: number | undefined; k?: number | undefined;
}): RefParams {
  const preset = o.preset ?? 'alexnet';
  const d = DEFAULTS[preset];
  const n = o.size ?? d.n;
  const alpha = o.alpha ?? d.alpha;
  let k = o.k ?? d.k;
  const layout = o.layout ?? d.layout;
  const region = o.region ?? 'across-channels';
  const spatialAxes = o.shape.length - 2;
  let a: number;
  if (region === 'across-channels') {
    a = preset === 'alexnet' || preset === 'tensorflow' ? alpha : alpha / n;
  } else if (preset === 'alexnet') {
    a = alpha;
  } else if (preset === 'caffe') {
    a = alpha / (n * n);
    k = 1;
  } else if (preset === 'onednn') {
    a = alpha / Math.pow(n, spatialAxes);
  } else {
    throw new Error(`no within-channel LRN for ${preset}`);
  }
  let L: number;
  let R: number;
  if (n % 2 === 1) {
    L = R = (n - 1) / 2;
  } else if (preset === 'alexnet') {
    L = R = n / 2;
  } else if (preset === 'pytorch') {
    L = n / 2; R = n / 2 - 1;
  } else if (preset === 'onnx' || preset === 'cudnn') {
    L = n / 2 - 1; R = n / 2;
  } else if (preset === 'onednn') {
    L = R = n / 2 - 1;
  } else {
    throw new Error(`even size under ${preset}`);
  }
  return { shape: o.shape, layout, region, a, L, R, k, beta: o.beta ?? d.beta };
}

/** Row-major strides of `shape`. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function coordinates(index: number, shape: number[]): number[] {
  const st = strides(shape);
  return shape.map((_, axis) => Math.floor(index / st[axis]!) % shape[axis]!);
}

/** The axes the window runs over: the channel axis, or every spatial axis. */
function windowAxes(p: RefParams): number[] {
  const rank = p.shape.length;
  const channelAxis = p.layout === 'NCHW' ? 1 : rank - 1;
  if (p.region === 'across-channels') return [channelAxis];
  const axes: number[] = [];
  for (let axis = 1; axis < rank; axis++) if (axis !== channelAxis) axes.push(axis);
  return axes;
}

/** Every flat index in the window of element `index`, offsets [from, to] on each windowed axis. */
function windowOf(index: number, p: RefParams, from: number, to: number): number[] {
  const st = strides(p.shape);
  const here = coordinates(index, p.shape);
  let found = [index - windowAxes(p).reduce((s, axis) => s + here[axis]! * st[axis]!, 0)];
  for (const axis of windowAxes(p)) {
    const next: number[] = [];
    for (const base of found) {
      for (let off = from; off <= to; off++) {
        const pos = here[axis]! + off;
        if (pos >= 0 && pos < p.shape[axis]!) next.push(base + pos * st[axis]!);
      }
    }
    found = next;
  }
  return found;
}

/** B[i] = k + a * (sum of x^2 over i's window). */
export function refBase(x: ArrayLike<number>, p: RefParams): Float64Array {
  const b = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    for (const j of windowOf(i, p, -p.L, p.R)) s += x[j]! * x[j]!;
    b[i] = p.k + p.a * s;
  }
  return b;
}

/**
 * u * v * B^(-e). Where B is positive and finite, u and v finite, and B^(-e) or u * v not a
 * normal float64, it is (u * P) * (v * P) * P with P = B^(-e/3), which keeps the partial products
 * in range where the result is (v = 1: ((u * P) * P) * P, each between u and the result); 0 for
 * u or v = 0.
 */
function timesPower(u: number, v: number, b: number, e: number): number {
  const whole = Math.pow(b, -e);
  const uv = u * v;
  const normal = (w: number) => w >= 2 ** -1022 && w <= Number.MAX_VALUE;
  const inRange = normal(whole) && (normal(Math.abs(uv)) || u === 0 || v === 0);
  if (inRange || !(b > 0 && b <= Number.MAX_VALUE) || !Number.isFinite(u) || !Number.isFinite(v)) return uv * whole;
  if (u === 0 || v === 0) return uv;
  const third = Math.pow(b, -e / 3);
  return u * third * (v * third) * third;
}

export function refForward(x: ArrayLike<number>, p: RefParams): Float64Array {
  const b = refBase(x, p);
  return Float64Array.from(b, (bi, i) => timesPower(x[i]!, 1, bi, p.beta));
}

/** dx and the two terms of docs/contract.md, "Backward" (term2 already times 2*a*beta*x). */
export function refBackward(x: ArrayLike<number>, dy: ArrayLike<number>, p: RefParams) {
  const b = refBase(x, p);
  const sum = new Float64Array(x.length);
  // Scatter: every c adds its term to each i of its own window W(c).
  for (let c = 0; c < x.length; c++) {
    const t = timesPower(dy[c]!, x[c]!, b[c]!, p.beta + 1);
    for (const i of windowOf(c, p, -p.L, p.R)) sum[i] = sum[i]! + t;
  }
  const term1 = Float64Array.from(b, (bi, i) => timesPower(dy[i]!, 1, bi, p.beta));
  const term2 = Float64Array.from(sum, (s, i) => 2 * p.a * p.beta * x[i]! * s);
  const dx = Float64Array.from(term1, (t1, i) => t1 - term2[i]!);
  return { dx, term1, term2 };
}
