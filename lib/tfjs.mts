// ES module entry of local-response-norm/tfjs: the CommonJS module's single instance, so that
// `import` and `require` register and unregister the same kernels.
import api from './tfjs.js';

export const { registerTfjsKernels, unregisterTfjsKernels } = api;
export type * from './tfjs.js';
export default api;
