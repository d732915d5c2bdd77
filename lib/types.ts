/** The element types LRN accepts; the output always has the input's type. */
export type FloatArray = Float32Array | Float64Array;

/** Where the channel axis sits: `[N, C, ...spatial]` or `[N, ...spatial, C]`. */
export type Layout = 'NCHW' | 'NHWC';

/** Whether the window runs over channels (AlexNet) or over the spatial axes of each channel. */
export type Region = 'across-channels' | 'within-channel';

/** The framework conventions this package reproduces exactly (see `PRESETS`). */
export type PresetName = 'alexnet' | 'pytorch' | 'onnx' | 'cudnn' | 'caffe' | 'tensorflow' | 'onednn';

/** Options shared by {@link lrn}, {@link lrnAsync} and {@link lrnBackward}. */
export interface LrnOptions<T extends FloatArray = FloatArray> {
  /**
   * Dimensions of the tensor: `[N, C, ...spatial]` for NCHW, `[N, ...spatial, C]` for NHWC.
   * Rank 2 or more; their product must equal the input's length.
   */
  shape: readonly number[];
  /** Channel position. Default: the preset's (`NHWC` for `tensorflow`, `NCHW` otherwise). */
  layout?: Layout | undefined;
  /** Framework convention for the alpha scaling and the window placement. Default `'alexnet'`. */
  preset?: PresetName | undefined;
  /** Window size n, a positive integer (odd only for `caffe` and `tensorflow`). */
  size?: number | undefined;
  /** Scale of the sum of squares (finite, >= 0). Some presets divide it by n (see `PRESETS`). */
  alpha?: number | undefined;
  /** Exponent (finite, >= 0). */
  beta?: number | undefined;
  /** Additive constant, the paper's k, also called bias (finite, >= 0). */
  k?: number | undefined;
  /** `'across-channels'` (default) or `'within-channel'`. */
  region?: Region | undefined;
  /**
   * Where to write the result: same type and length as the input. Passing the input itself
   * computes in place; any other overlap with the input is a RangeError.
   */
  out?: T | undefined;
}

/** Options of {@link lrnAsync}: those of {@link lrn}, plus how many threads may share the work. */
export interface LrnAsyncOptions<T extends FloatArray = FloatArray> extends LrnOptions<T> {
  /**
   * Most libuv pool threads to split a large tensor across (by batch, or by position for
   * NHWC across channels); tensors under 64K elements run on one. Default: `concurrency()`.
   */
  threads?: number | undefined;
}

/** What {@link backend} reports. */
export interface BackendInfo {
  /** `'native'` when the C++ addon computes, `'fallback'` for the TypeScript implementation. */
  backend: 'native' | 'fallback';
  /** The kernel in use. */
  kernel: 'avx512' | 'avx2' | 'neon' | 'scalar' | 'typescript';
  /** Native kernels this process can run (empty when the addon is not loaded). */
  available: string[];
  /** Why the native backend is not in use, when it is not (or why nothing computes, with `error`). */
  reason?: string;
  /**
   * Native only: how `lrnAsync` keeps its arrays' memory while a job runs, `'pin'` (no copy) or
   * `'copy'` (where the running V8 is not the one the addon was built for); see
   * docs/async-memory.md.
   */
  asyncMemory?: 'pin' | 'copy';
  /**
   * Set when a forced choice (`LRN_BACKEND`, `LRN_KERNEL`) cannot be honoured: an unknown or
   * unavailable name, or the two variables naming different backends. `lrn`, `lrnAsync` and
   * `lrnBackward` then throw an Error with this message (after their name) until `setBackend`
   * chooses a backend; `backend` and `kernel` say what `'auto'` would use.
   */
  error?: string;
}
