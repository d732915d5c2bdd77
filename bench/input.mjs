// The bench's input data, shared by every script that times the package.

/** uniform(-2, 2) from a fixed xorshift seed, so every run times the same data. */
export function fill(length) {
  const x = new Float32Array(length);
  let s = 12345;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    x[i] = (s / 4294967296) * 4 - 2;
  }
  return x;
}
