// Products with B^(-e) where that power leaves float64's normal range while the product does not
// (docs/float64-ranges.md): each factor kept as a mantissa in [1/2, 1) and a power of two, the
// float64 result rounded once at the end. The same method as the native core's power.cpp.

const bits = new DataView(new ArrayBuffer(8));
const NORMAL_MIN = 2 ** -1022;
const SUBNORMAL_SCALE = 2 ** 64;

/** 2^n for an integer n within float64's range (subnormal powers included), built exactly. */
function pow2(n: number): number {
  if (n > 1023) return Infinity;
  if (n < -1074) return 0;
  if (n >= -1022) {
    bits.setUint32(0, (n + 1023) << 20);
    bits.setUint32(4, 0);
  } else {
    const bit = n + 1074; // the mantissa bit of a subnormal
    bits.setUint32(0, bit >= 32 ? 2 ** (bit - 32) : 0);
    bits.setUint32(4, bit < 32 ? 2 ** bit : 0);
  }
  return bits.getFloat64(0);
}

/** A finite nonzero value as m * 2^n, |m| in [1/2, 1). */
class Scaled {
  m: number;
  n: number;

  constructor(v: number) {
    let w = v;
    let n = 0;
    if (Math.abs(w) < NORMAL_MIN) {
      w *= SUBNORMAL_SCALE;
      n = -64;
    }
    bits.setFloat64(0, w);
    const e = ((bits.getUint32(0) >>> 20) & 0x7ff) - 1022;
    this.m = w * pow2(-e);
    this.n = n + e;
  }

  /** f within [1/4, 4]: another mantissa, or 2^f for |f| <= 1/2. */
  times(f: number): void {
    const s = new Scaled(this.m * f);
    this.m = s.m;
    this.n += s.n;
  }

  timesScaled(s: Scaled): void {
    this.times(s.m);
    this.n += s.n;
  }

  square(): void {
    const before = this.n;
    this.times(this.m);
    this.n += before;
  }

  /** m * 2^n rounded once: through steps that are exact but the last. */
  value(): number {
    const n = Math.max(-4000, Math.min(4000, this.n));
    if (n > 1000) return this.m * 2 ** 1000 * pow2(n - 1000);
    if (n < -1000) return this.m * 2 ** -1000 * pow2(n + 1000);
    return this.m * pow2(n);
  }
}

/** e * be as an exact sum hi + lo, for an integer |be| < 2^11 and |e| < 2^20 (Veltkamp's split
 *  of e into halves of 26 and 27 bits, each product with be exact). */
function exactProduct(e: number, be: number): [number, number] {
  const c = 134217729 * e; // 2^27 + 1
  const high = c - (c - e);
  return [high * be, (e - high) * be];
}

/** B^(-e) for finite B > 0 as a Scaled (power.cpp's scaled_inv_pow): null where |log2 B^(-e)|
 *  is past about 8000, where every product with float64 values is 0 or infinite. */
function scaledInvPow(b: number, e: number): Scaled | null {
  const sb = new Scaled(b);
  let mb = sb.m;
  let be = sb.n;
  if (mb < Math.SQRT1_2) {
    mb *= 2;
    be -= 1;
  }
  let halvings = 0;
  let part = Math.pow(mb, -e);
  while (!(part >= NORMAL_MIN && part <= Number.MAX_VALUE)) {
    if (++halvings > 4) return null;
    part = Math.pow(mb, -e / 2 ** halvings);
  }
  const s = new Scaled(part);
  for (let i = 0; i < halvings; i++) s.square();
  if (be !== 0) {
    if (!(e < 2 ** 20)) return null;
    const [high, low] = exactProduct(-e, be);
    const whole = Math.round(high + low);
    if (!(Math.abs(whole) < 1e6)) return null;
    s.times(Math.pow(2, high - whole + low));
    s.n += whole;
  }
  return s;
}

/** v * B^(-e) for v finite and nonzero and B positive and finite; r is the power in float64 (0
 *  or infinite where B^(-e) is past the Scaled range). */
function scaledProduct(v: Scaled, b: number, e: number, r: number): number {
  const p = scaledInvPow(b, e);
  if (p === null) return v.m < 0 ? -r : r;
  v.timesScaled(p);
  return v.value();
}

/** v * B^(-beta) where r = invPow(b, beta) is not a normal float64, B positive and finite, v
 *  finite; 0 for v == 0. */
export function timesInvPowScaled(v: number, b: number, beta: number, r: number): number {
  if (v === 0) return v;
  return scaledProduct(new Scaled(v), b, beta, r);
}

/** dy * x * B^(-e) for dy and x finite, B positive and finite, q the power in float64. */
export function productInvPowScaled(dy: number, x: number, b: number, e: number, q: number): number {
  if (dy === 0 || x === 0) return dy * x;
  const product = new Scaled(dy);
  product.timesScaled(new Scaled(x));
  return scaledProduct(product, b, e, q);
}
