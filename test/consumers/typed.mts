// Type-checked (never run) by `npm run typecheck`: the ES module types as a user sees them.
import { PRESETS, backend, concurrency, lrn, lrnAsync, lrnBackward, setBackend, type BackendInfo, type LrnOptions } from 'local-response-norm';

const x32 = new Float32Array(24);
const x64 = new Float64Array(24);
const y32: Float32Array = lrn(x32, { shape: [1, 6, 2, 2], preset: 'onnx', layout: 'NHWC', size: 4 });
const y64: Float64Array = lrn(x64, { shape: [1, 6, 2, 2], out: x64 });
const dx: Float32Array = lrnBackward(x32, y32, { shape: [1, 6, 2, 2], region: 'within-channel' });
const later: Promise<Float64Array> = lrnAsync(x64, { shape: [4, 6], threads: 2 });
const threads: number = concurrency(2);
const info: BackendInfo = backend();
const kernel: 'avx512' | 'avx2' | 'neon' | 'scalar' | 'typescript' = info.kernel;
setBackend('fallback');
const n: number = PRESETS.tensorflow.size;
const options: LrnOptions<Float32Array> = { shape: [1, 6, 4], out: undefined };

// @ts-expect-error: unknown preset names are rejected by the types too
lrn(x32, { shape: [1, 24], preset: 'keras' });
// @ts-expect-error: out must have the input's type
lrn(x32, { shape: [1, 24], out: x64 });
// @ts-expect-error: threads is an lrnAsync option
lrn(x32, { shape: [1, 24], threads: 2 });
// @ts-expect-error: shape is required
lrn(x32, {});
// @ts-expect-error: only float arrays
lrn(new Uint8Array(4), { shape: [1, 4] });

export { y64, dx, later, kernel, n, options, threads };
