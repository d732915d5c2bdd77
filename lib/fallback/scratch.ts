// Reusable work space. Calls are synchronous on one thread, so one buffer per slot serves
// every call and small calls do not allocate.
import { typedArrayName } from '../errors.js';
import type { FloatArray } from '../types.js';

// Larger requests (within-channel LRN on big images) are not kept, so memory is given back.
const KEEP_LIMIT = 1 << 20;
const float64Pool: Float64Array[] = [];
const float32Pool: Float32Array[] = [];

function take<T extends FloatArray>(pool: T[], slot: number, length: number, make: (n: number) => T): T {
  const kept = pool[slot];
  if (kept !== undefined && kept.length >= length) return kept;
  const buffer = make(Math.max(length, 64));
  if (length <= KEEP_LIMIT) pool[slot] = buffer;
  return buffer;
}

/** A Float64Array of at least `length` elements for slot `slot`; contents are unspecified. */
export function scratch(slot: number, length: number): Float64Array {
  return take(float64Pool, slot, length, (n) => new Float64Array(n));
}

/** An array of x's element type with at least `length` elements; contents are unspecified. */
export function scratchLike(x: FloatArray, length: number): FloatArray {
  return typedArrayName(x) === 'Float32Array'
    ? take(float32Pool, 0, length, (n) => new Float32Array(n))
    : take(float64Pool, 8, length, (n) => new Float64Array(n));
}
