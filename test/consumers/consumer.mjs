// An ES module user of the package, resolved through package.json "exports".
import { createRequire } from 'node:module';
import { PRESETS, backend, concurrency, lrn, lrnAsync, lrnBackward, setBackend } from 'local-response-norm';
import whole from 'local-response-norm';

const require = createRequire(import.meta.url);
const cjs = require('local-response-norm');

const x = Float32Array.from({ length: 2 * 6 * 3 }, (_, i) => Math.sin(i) * 4);
const options = { shape: [2, 6, 3], preset: 'pytorch' };
const y = lrn(x, options);
const dx = lrnBackward(x, x, options);
const viaAsync = await lrnAsync(x, options);

setBackend('fallback');
concurrency(3);
const sharedState = cjs.backend().reason === backend().reason && cjs.lrn === lrn && whole.lrn === lrn && cjs.concurrency() === 3;
setBackend('auto');

console.log(JSON.stringify({
  format: 'esm',
  y: Array.from(y),
  dx: Array.from(dx),
  asyncEqual: viaAsync.every((v, i) => v === y[i]),
  presets: Object.keys(PRESETS),
  backend: backend().backend,
  sharedState,
}));
