// Minimal .npy reader for the golden fixtures: little-endian <f4 / <f8, C-order.
import { readFileSync } from 'node:fs';

export function readNpy(path: string): Float32Array | Float64Array {
  const bytes = readFileSync(path);
  const version = bytes[6];
  const headerLength = version === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = version === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!header.includes("'fortran_order': False")) throw new Error(`${path}: only C-order arrays are supported`);
  const data = bytes.subarray(start + headerLength);
  const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  if (header.includes("'<f8'")) return new Float64Array(copy);
  if (header.includes("'<f4'")) return new Float32Array(copy);
  throw new Error(`${path}: unsupported dtype in header ${header}`);
}
