// ES module entry: the same single instance as the CommonJS entry, so backend state is shared
// between `import` and `require` in one process.
import api from './index.js';

export const { lrn, lrnAsync, lrnBackward, backend, setBackend, concurrency, PRESETS } = api;
export type * from './index.js';
export default api;
