// NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding little-endian float32 ('<f4') or
// float64 ('<f8') arrays in C order: what the CLI reads and writes, and what the golden fixtures
// are. Anything else is refused with a message that says what was found, never guessed at.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

/** An array read from a .npy file. */
export interface Npy {
  readonly data: Float32Array | Float64Array;
  /** The dimensions from the header; their product is `data.length`. */
  readonly shape: readonly number[];
}

/** A file that is not a .npy file this package can read; the message starts with its name. */
export class NpyFormatError extends Error {
  override readonly name = 'NpyFormatError';
}

const MAGIC = '\x93NUMPY';
const DTYPES = { '<f4': Float32Array, '<f8': Float64Array } as const;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Reads and checks a .npy file; throws NpyFormatError for a bad one, the fs error when unreadable. */
export function readNpyFile(path: string): Npy {
  return parseNpy(readFileSync(path), path);
}

/** Decodes the bytes of a .npy file; `source` names it in error messages. */
export function parseNpy(bytes: Uint8Array, source: string): Npy {
  function fail(what: string): never {
    throw new NpyFormatError(`${source}: ${what}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) {
    fail('not a .npy file (it does not start with \\x93NUMPY)');
  }
  const [major, minor] = [bytes[6]!, bytes[7]!];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    fail(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  const end = start + headerLength;
  if (end > bytes.length) fail(`truncated .npy header (${headerLength} bytes announced, ${bytes.length - start} present)`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLength).toString(major === 3 ? 'utf8' : 'latin1');

  let dict: Map<string, HeaderValue>;
  try {
    dict = parseHeader(header);
  } catch (e) {
    return fail(`bad .npy header (${(e as Error).message}): ${JSON.stringify(header.trimEnd())}`);
  }
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    fail(`bad .npy header: expected the keys descr, fortran_order and shape but found ${keys || 'none'}`);
  }
  const descr = dict.get('descr');
  if (typeof descr !== 'string' || !(descr in DTYPES)) {
    const big = descr === '>f4' || descr === '>f8' ? ' (big-endian arrays are not supported)' : '';
    fail(`unsupported dtype ${shown(descr)}${big}: expected '<f4' (float32) or '<f8' (float64)`);
  }
  const fortran = dict.get('fortran_order');
  if (fortran !== false) {
    fail(fortran === true
      ? 'Fortran-order arrays are not supported: expected fortran_order False (C order)'
      : `bad .npy header: expected True or False for fortran_order but found ${shown(fortran)}`);
  }
  const shape = dict.get('shape');
  if (!Array.isArray(shape)) fail(`bad .npy header: expected a tuple of integers for shape but found ${shown(shape)}`);
  const dims = shape as number[];
  const Type = DTYPES[descr as keyof typeof DTYPES];
  const count = dims.reduce((p, d) => p * d, 1);
  const dataBytes = bytes.length - end;
  if (!Number.isSafeInteger(count * Type.BYTES_PER_ELEMENT) || count * Type.BYTES_PER_ELEMENT !== dataBytes) {
    fail(`shape (${dims.join(', ')}) of ${descr} needs ${count * Type.BYTES_PER_ELEMENT} bytes of data but the file has ${dataBytes}`);
  }
  return { data: decode(Type, bytes, end, count), shape: dims };
}

type HeaderValue = string | boolean | number[];

const shown = (value: HeaderValue | undefined): string =>
  Array.isArray(value) ? `(${value.join(', ')})` : typeof value === 'string' ? `'${value}'` : String(value);

// The header is a Python dict literal written by repr(); only the values a .npy header may hold
// are accepted (strings, True/False, tuples of non-negative integers), and nothing but spaces
// and the final newline may follow it.
function parseHeader(text: string): Map<string, HeaderValue> {
  let i = 0;
  const space = () => {
    while (text[i] === ' ') i++;
  };
  const expect = (c: string) => {
    space();
    if (text[i] !== c) throw new Error(`expected '${c}' at offset ${i}`);
    i++;
  };
  const string = (): string => {
    space();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') throw new Error(`expected a string at offset ${i}`);
    const close = text.indexOf(quote, i + 1);
    if (close < 0) throw new Error('unterminated string');
    const s = text.slice(i + 1, close);
    i = close + 1;
    return s;
  };
  const value = (): HeaderValue => {
    space();
    for (const [word, v] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    if (text[i] !== '(') return string();
    i++;
    const dims: number[] = [];
    for (;;) {
      space();
      if (text[i] === ')') break;
      const m = /^(\d+)L?/.exec(text.slice(i));
      const d = m === null ? NaN : Number(m[1]);
      if (!Number.isSafeInteger(d)) throw new Error(`expected a non-negative integer in shape at offset ${i}`);
      dims.push(d);
      i += m![0].length;
      space();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') throw new Error(`expected ',' or ')' in shape at offset ${i}`);
    }
    i++;
    return dims;
  };

  const dict = new Map<string, HeaderValue>();
  expect('{');
  for (;;) {
    space();
    if (text[i] === '}') break;
    const key = string();
    if (dict.has(key)) throw new Error(`key '${key}' repeated`);
    expect(':');
    dict.set(key, value());
    space();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`expected ',' or '}' at offset ${i}`);
  }
  i++;
  if (!/^ *\n?$/.test(text.slice(i))) throw new Error(`unexpected text after the dict at offset ${i}`);
  return dict;
}

function decode(Type: Float32ArrayConstructor | Float64ArrayConstructor, bytes: Uint8Array, offset: number, count: number) {
  const size = Type.BYTES_PER_ELEMENT;
  const at = bytes.byteOffset + offset;
  // The data is used in place where it is aligned (NumPy pads headers to 64 bytes), else copied.
  if (LITTLE_ENDIAN && at % size === 0) return new Type(bytes.buffer as ArrayBuffer, at, count);
  const copy = Buffer.from(bytes.subarray(offset, offset + count * size));
  if (!LITTLE_ENDIAN && size === 4) copy.swap32();
  if (!LITTLE_ENDIAN && size === 8) copy.swap64();
  return new Type(copy.buffer, copy.byteOffset, count);
}

/**
 * A .npy file for `data` with `shape` (C order), as its header and its data: the data part is a
 * view of `data`'s memory on little-endian machines, so a large array is written without a copy.
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): [Uint8Array, Uint8Array] {
  const count = shape.reduce((p, d) => p * d, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== data.length) {
    throw new RangeError(`encodeNpy: expected a shape of ${data.length} elements but received [${shape.join(', ')}]`);
  }
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Version 1.0 holds headers up to 65535 bytes, 2.0 beyond; the data starts 64-byte aligned.
  const major = dict.length + 11 <= 0xffff ? 1 : 2;
  const prefix = major === 1 ? 10 : 12;
  const padded = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  const header = Buffer.alloc(prefix + padded, ' ');
  header.write(MAGIC, 0, 'latin1');
  header[6] = major;
  header[7] = 0;
  if (major === 1) header.writeUInt16LE(padded, 8);
  else header.writeUInt32LE(padded, 8);
  header.write(dict, prefix, 'latin1');
  header[header.length - 1] = 0x0a;
  let body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!LITTLE_ENDIAN) {
    const copy = Buffer.from(body);
    body = data instanceof Float64Array ? copy.swap64() : copy.swap32();
  }
  return [header, body];
}
