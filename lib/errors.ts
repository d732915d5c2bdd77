// Error messages follow one pattern: `<fn>: expected <what> for <name> but received <value>`,
// so a user can see which argument was wrong, what would be right, and what was passed.

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)!.get as (this: unknown) => string | undefined;

/** The TypedArray class name of `value` (from any realm), or undefined when it is none. */
export function typedArrayName(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? typedArrayTag.call(value) : undefined;
}

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const tag = typedArrayName(value);
  if (tag !== undefined) return `a ${tag} of length ${(value as ArrayLike<unknown>).length}`;
  if (Array.isArray(value)) {
    const shown = value.length <= 8 ? `[${value.map(shortValue).join(', ')}]` : `an Array of length ${value.length}`;
    return `${shown} of type Array`;
  }
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  return `${shortValue(value)} of type ${typeof value}`;
}

function shortValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'Array' : 'object';
  return String(value);
}

function message(fn: string, name: string, expected: string, value: unknown): string {
  return `${fn}: expected ${expected} for ${name} but received ${describe(value)}`;
}

/** A TypeError for a value of the wrong kind. */
export function typeError(fn: string, name: string, expected: string, value: unknown): TypeError {
  return new TypeError(message(fn, name, expected, value));
}

/** A RangeError for a value of the right kind but outside what is allowed. */
export function rangeError(fn: string, name: string, expected: string, value: unknown): RangeError {
  return new RangeError(message(fn, name, expected, value));
}
