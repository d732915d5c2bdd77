// A CommonJS user of the package, resolved through package.json "exports".
const { PRESETS, backend, lrn, lrnAsync, lrnBackward } = require('local-response-norm');

(async () => {
  const x = Float32Array.from({ length: 2 * 6 * 3 }, (_, i) => Math.sin(i) * 4);
  const options = { shape: [2, 6, 3], preset: 'pytorch' };
  const y = lrn(x, options);
  const dx = lrnBackward(x, x, options);
  const viaAsync = await lrnAsync(x, options);
  console.log(JSON.stringify({
    format: 'cjs',
    y: Array.from(y),
    dx: Array.from(dx),
    asyncEqual: viaAsync.every((v, i) => v === y[i]),
    presets: Object.keys(PRESETS),
    backend: backend().backend,
    sharedState: true,
  }));
})();
