// Run by .ci/old-glibc with Debian 11's Node 12 (too old for the package's JavaScript): the
// binding itself, every kernel, float32 and float64, betas that take the power function, and an
// async job that waits at the test gate (a condition variable) before it computes.
'use strict';
const binding = require(require('path').resolve(process.argv[2]));

function check(kernel, Type, beta, y) {
  const want = [1, 2, 3].map((v) => v / Math.pow(2 + 1e-4 * 14, beta));
  const bad = Array.from(y).some((v, i) => !(Math.abs(v - want[i]) <= 1e-6 * want[i]));
  if (bad) throw new Error(`${kernel} ${Type.name} beta ${beta}: got ${Array.from(y)}, expected ${want}`);
}

// shape [1, 3, 1, 1], NCHW, across channels, window 2 + 1 + 2, k = 2, a = 1e-4
const geometry = (beta) => new Float64Array([0, 0, 1, 3, 2, 2, 2, 1e-4, beta, 1, 1]);

async function main() {
  const kernels = binding.kernels();
  for (const kernel of kernels) {
    for (const Type of [Float32Array, Float64Array]) {
      for (const beta of [0.75, 0.6, 1.3]) {
        const y = new Type(3);
        binding.forward(kernel, new Type([1, 2, 3]), y, geometry(beta));
        check(kernel, Type, beta, y);
      }
    }
  }
  binding.testGate(true);
  const y = new Float32Array(3);
  const job = binding.forwardAsync(binding.best, new Float32Array([1, 2, 3]), y, geometry(0.6));
  while (binding.testGate(true) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  binding.testGate(false);
  await job;
  check(`${binding.best} async`, Float32Array, 0.6, y);
  console.log(`old-glibc: ${process.argv[2]} on Node ${process.version}, glibc 2.31: kernels ${kernels.join(', ')} ` +
    `(best ${binding.best}, lrnAsync ${binding.asyncMemory}) all correct`);
}

main().catch((error) => {
  console.error(`old-glibc: ${error.stack}`);
  process.exit(1);
});
