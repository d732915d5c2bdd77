// Error messages follow one pattern: `<fn>: expected <what> for <name> but received <value>`,
// so a user can see which argument was wrong, what would be right, and what was passed.
import { types } from 'node:util';

// Typed array facts are read through the built-in getters: an own `length` or `buffer`
// property on an array (or a getter that runs user code) cannot make a check see other values.
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (target: object, key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(target, key)!.get as (this: unknown) => unknown;
const tagOf = getter(TypedArrayPrototype, Symbol.toStringTag);
const lengthGetter = getter(TypedArrayPrototype, 'length');
const byteOffsetGetter = getter(TypedArrayPrototype, 'byteOffset');
const byteLengthGetter = getter(TypedArrayPrototype, 'byteLength');
const bufferGetter = getter(TypedArrayPrototype, 'buffer');

/** The TypedArray class name of `value` (from any realm), or undefined when it is none. */
export function typedArrayName(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? tagOf.call(value) as string | undefined : undefined;
}

/** Element count of a typed array (0 once its buffer is detached or shrunk past it). */
export const lengthOf = (a: ArrayBufferView): number => lengthGetter.call(a) as number;
export const byteOffsetOf = (a: ArrayBufferView): number => byteOffsetGetter.call(a) as number;
export const byteLengthOf = (a: ArrayBufferView): number => byteLengthGetter.call(a) as number;
export const bufferOf = (a: ArrayBufferView): ArrayBufferLike => bufferGetter.call(a) as ArrayBufferLike;

const detachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get;

/** True when a typed array's buffer is detached (transferred). */
export function isDetached(a: ArrayBufferView): boolean {
  const buffer = bufferOf(a);
  if (types.isSharedArrayBuffer(buffer)) return false;
  if (detachedGetter !== undefined) return detachedGetter.call(buffer) === true;
  // Node 20 has no `detached`; a view over a detached buffer cannot be made.
  try {
    new Uint8Array(buffer as ArrayBuffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const tag = typedArrayName(value);
  if (tag !== undefined) {
    const view = value as ArrayBufferView;
    return isDetached(view) ? `a detached ${tag}` : `a ${tag} of length ${lengthOf(view)}`;
  }
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

/** lrnAsync's rejection, on every backend, when options.out was detached or resized before its
 *  work ended (`code` 'ERR_LRN_OUTPUT_DETACHED'). */
export function outputDetached(): Error {
  return Object.assign(
    new Error('lrnAsync: options.out was detached or resized while lrnAsync ran; its contents are unspecified'),
    { code: 'ERR_LRN_OUTPUT_DETACHED' },
  );
}
