// Reusable float64 work space. Calls are synchronous on one thread, so one set of buffers per
// slot serves every call and small calls do not allocate.
const pool: Float64Array[] = [];
// Larger requests (within-channel LRN on big images) are not kept, so memory is given back.
const KEEP_LIMIT = 1 << 20;

/** A Float64Array of at least `length` elements for slot `slot`; contents are unspecified. */
export function scratch(slot: number, length: number): Float64Array {
  const kept = pool[slot];
  if (kept !== undefined && kept.length >= length) return kept;
  const buffer = new Float64Array(Math.max(length, 64));
  if (length <= KEEP_LIMIT) pool[slot] = buffer;
  return buffer;
}
