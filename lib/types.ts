/**
 * The array types LRN computes on: float32 or float64 elements, at any `byteOffset` (a view into
 * a larger buffer, a Node `Buffer`'s memory or a `SharedArrayBuffer` included). The output always
 * has the input's type.
 *
 * @group Options
 */
export type FloatArray = Float32Array | Float64Array;

/**
 * Where the channel axis sits in `shape`: `'NCHW'` for `[N, C, ...spatial]` (PyTorch, ONNX,
 * Caffe), `'NHWC'` for `[N, ...spatial, C]` (TensorFlow). The names stand for any number of
 * spatial axes, none included.
 *
 * @group Options
 */
export type Layout = 'NCHW' | 'NHWC';

/**
 * What the window covers: `'across-channels'` (AlexNet's LRN), `size` neighbouring channels at
 * one position; `'within-channel'` (Caffe's WITHIN_CHANNEL, oneDNN's `lrn_within_channel`), a box
 * of `size` positions along every spatial axis of one channel.
 *
 * @group Options
 */
export type Region = 'across-channels' | 'within-channel';

/**
 * The framework conventions this package reproduces exactly: how each scales `alpha`, places an
 * even window and what its defaults are (see {@link PRESETS}).
 *
 * @group Presets
 */
export type PresetName = 'alexnet' | 'pytorch' | 'onnx' | 'cudnn' | 'caffe' | 'tensorflow' | 'onednn';

/**
 * Options of {@link lrn} and {@link lrnBackward} ({@link lrnAsync} adds `threads`). Each is read
 * once (a getter runs once; `shape` is copied) and only that copy is used. Unknown names are a
 * TypeError. The full rules: [docs/contract.md](https://github.com/local-response-norm/local-response-norm/blob/main/docs/contract.md).
 *
 * @typeParam T - The input's array type, which `out` and the result share.
 *
 * @group Options
 */
export interface LrnOptions<T extends FloatArray = FloatArray> {
  /**
   * Dimensions of the tensor: `[N, C, ...spatial]` for NCHW, `[N, ...spatial, C]` for NHWC, with
   * any number of spatial axes (`[N, C]`, `[N, C, L]`, images, volumes). Rank 2 or more; each a
   * non-negative safe integer; their product must equal the input's length (0 gives an empty
   * result). Required.
   */
  shape: readonly number[];
  /**
   * Where the channel axis is.
   * @defaultValue the preset's: `'NHWC'` for `tensorflow`, `'NCHW'` otherwise
   */
  layout?: Layout | undefined;
  /**
   * The framework convention: how `alpha` becomes the scale `a`, where the window sits, and the
   * defaults of `size`, `alpha`, `beta`, `k` and `layout` (see {@link PRESETS}). Given values
   * replace its defaults, never its mapping.
   * @defaultValue `'alexnet'` (the AlexNet paper's)
   */
  preset?: PresetName | undefined;
  /**
   * Window size n: a positive safe integer, odd only under `caffe` and `tensorflow`
   * (TensorFlow's `depth_radius` r is n = 2r + 1). It may exceed the channel count.
   * @defaultValue the preset's: 11 for `tensorflow`, 5 otherwise
   */
  size?: number | undefined;
  /**
   * Scale of the sum of squares: a finite number >= 0. The preset turns it into `a`: across
   * channels `alpha` itself under `alexnet` and `tensorflow`, `alpha / n` under the others;
   * within a channel `alpha` (`alexnet`), `alpha / n^2` (`caffe`) or `alpha / n^d` (`onednn`, d
   * spatial axes).
   * @defaultValue the preset's: 1 for `caffe` and `tensorflow`, 1e-4 otherwise
   */
  alpha?: number | undefined;
  /**
   * Exponent of the normalizing term: a finite number >= 0 (0 gives y = x).
   * @defaultValue the preset's: 0.5 for `tensorflow`, 0.75 otherwise
   */
  beta?: number | undefined;
  /**
   * Additive constant of the normalizing term, the paper's k (ONNX's and TensorFlow's `bias`): a
   * finite number >= 0. With k = 0, a window of zeros gives NaN (0 times Infinity).
   * Within-channel LRN under `caffe` always uses 1.
   * @defaultValue the preset's: 2 for `alexnet` and `cudnn`, 1 otherwise
   */
  k?: number | undefined;
  /**
   * What the window covers (see {@link Region}). `'within-channel'` needs a preset that has it
   * (`alexnet`, `caffe`, `onednn`) and at least one spatial axis; otherwise it is a RangeError.
   * @defaultValue `'across-channels'`
   */
  region?: Region | undefined;
  /**
   * Where to write the result, and the array returned: same type and length as the input. The
   * input itself computes in place (for {@link lrnBackward}, `gradOutput` too); any other overlap
   * with an input is a RangeError, also through a second `SharedArrayBuffer` object over the same
   * memory. Nothing is written to it when the call throws.
   * @defaultValue a new array of the input's type
   */
  out?: T | undefined;
}

/**
 * Options of {@link lrnAsync}: those of {@link lrn}, plus how many threads may share the work.
 *
 * @typeParam T - The input's array type, which `out` and the result share.
 *
 * @group Options
 */
export interface LrnAsyncOptions<T extends FloatArray = FloatArray> extends LrnOptions<T> {
  /**
   * Most libuv pool threads to split the work across: an integer from 1 to 1024. The tensor is
   * split by batch item (by position for NHWC across channels) into parts of at least 64K
   * elements, so a smaller one runs on one thread. More threads than libuv's pool
   * (`UV_THREADPOOL_SIZE`) only queue. The TypeScript backend checks it but has no threads.
   * @defaultValue {@link concurrency}()
   */
  threads?: number | undefined;
}

/**
 * What {@link backend} reports: which implementation computes, and why.
 *
 * @group Backend and threads
 */
export interface BackendInfo {
  /**
   * `'native'` when the C++ addon computes, `'fallback'` for the TypeScript implementation (same
   * results, within the same bounds).
   */
  backend: 'native' | 'fallback';
  /**
   * The kernel in use: `'avx512'` (x86-64 with AVX-512F), `'avx2'` (x86-64 with AVX2 and FMA),
   * `'neon'` (aarch64) or `'scalar'` (portable C++) on native, `'typescript'` on fallback.
   */
  kernel: 'avx512' | 'avx2' | 'neon' | 'scalar' | 'typescript';
  /**
   * Native kernels this process can run, best first (e.g. `['avx2', 'scalar']`); empty when the
   * addon is not loaded. Each is a name {@link setBackend} accepts.
   */
  available: string[];
  /**
   * Why the native backend is not in use, when it is not: the addon could not be built or loaded
   * (and how to get it), or a fallback was forced; with `error`, why nothing computes.
   */
  reason?: string;
  /**
   * Native only: how `lrnAsync` keeps the memory of arrays over an ordinary `ArrayBuffer` while a
   * job runs, `'pin'` (no copy: Node 20, 22, 24 and 26 with this package's prebuilt binaries) or
   * `'copy'` (Bun, Deno, a Node major this release has no pin shim for, `LRN_ASYNC_COPY=1`); see
   * docs/async-memory.md. Arrays over a `SharedArrayBuffer` are never copied.
   */
  asyncMemory?: 'pin' | 'copy';
  /** Native only, where `asyncMemory` is `'copy'`: why, and how to avoid the copies. */
  asyncMemoryReason?: string;
  /**
   * Set when a forced choice (`LRN_BACKEND`, `LRN_KERNEL`) cannot be honoured: an unknown or
   * unavailable name, or the two variables naming different backends. `lrn`, `lrnAsync` and
   * `lrnBackward` then throw an Error with this message (after their name) until `setBackend`
   * chooses a backend; `backend` and `kernel` say what `'auto'` would use.
   */
  error?: string;
}
