// The golden fixtures are read with the package's own .npy reader (lib/npy.ts, which the CLI
// uses), so the repository has one reader and its checks apply to the fixtures too.
import { readNpyFile } from '../../lib/npy.js';

export function readNpy(path: string): Float32Array | Float64Array {
  return readNpyFile(path).data;
}
