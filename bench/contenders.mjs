// The implementations the bench times. Each `prepare(input, case)` returns the function to time
// and, for the agreement check, a function giving its output in the case's layout.
import { createRequire } from 'node:module';
import { lrn, setBackend, backend } from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const versionOf = (name) => require(`${name}/package.json`).version;
const ownVersion = require('../package.json').version;

/** Our package on one backend, into a preallocated `out` and into a fresh array per call. */
export function packageContenders() {
  const list = [];
  for (const kernel of ['fallback', ...backend().available]) {
    const label = kernel === 'fallback' ? 'typescript' : kernel;
    for (const fresh of [false, true]) {
      list.push({
        name: `local-response-norm ${label}${fresh ? ' (new output)' : ''}`,
        version: ownVersion,
        kernel,
        fresh,
        layouts: ['NCHW', 'NHWC'],
        before() {
          setBackend(kernel);
          const { kernel: running } = backend();
          if (running !== label) throw new Error(`asked for ${label}, running ${running}`);
        },
        prepare(input, c) {
          const options = { shape: c.shape, layout: c.layout, preset: 'alexnet', size: c.size, alpha: c.alpha, beta: c.beta, k: c.k };
          const out = new Float32Array(input.length);
          const run = fresh ? () => lrn(input, options) : () => lrn(input, { ...options, out });
          return { run, result: () => lrn(input, options) };
        },
      });
    }
  }
  return list;
}

/** Float32Array.set of the same bytes into a preallocated array: the memory-traffic floor. */
export const memcpy = {
  name: 'memcpy (Float32Array.set)',
  version: `node ${process.versions.node}`,
  layouts: ['NCHW', 'NHWC'],
  baseline: true,
  prepare(input) {
    const out = new Float32Array(input.length);
    return { run: () => out.set(input) };
  },
};

/**
 * tf.localResponseNormalization (NHWC only; TensorFlow's convention, which is the `tensorflow`
 * preset: alpha not divided by size, window [c - r, c + r] with size = 2r + 1). Its time includes
 * allocating the output tensor, as every tfjs op does.
 */
export async function tfjsContenders() {
  let tf;
  try {
    tf = require('@tensorflow/tfjs-core');
    require('@tensorflow/tfjs-backend-cpu');
    require('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { list: [], skipped: `tfjs not installed (${error.message.split('\n')[0]}); run npm install` };
  }
  // tfjs-backend-cpu warns once, on the first tensor it stores, that tfjs-node would be faster (a
  // banner of several lines). Store that tensor now, with the banner dropped, so that it does not
  // land among the bench's output.
  await withoutWarning(/running TensorFlow\.js in Node\.js/, async () => {
    if (await tf.setBackend('cpu')) tf.tensor([0]).dispose();
  });
  // The plain tfjs rows run tfjs's own LRN kernel; the last row registers this package's on cpu.
  const { registerTfjsKernels, unregisterTfjsKernels } = await import('../dist/tfjs.mjs');
  const list = [];
  for (const name of ['cpu', 'wasm']) {
    list.push({
      name: `tfjs-backend-${name}`,
      version: versionOf(`@tensorflow/tfjs-backend-${name}`),
      layouts: ['NHWC'],
      async before() {
        unregisterTfjsKernels(tf);
        if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
        await tf.ready();
      },
      async note() {
        if (name !== 'wasm') return '';
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        return `simd=${simd} multithread=${threads}`;
      },
      prepare: (input, c) => tfjsLrn(tf, input, c),
    });
  }
  list.push({
    name: 'tfjs-cpu + local-response-norm',
    version: `${versionOf('@tensorflow/tfjs-backend-cpu')} + ${ownVersion}`,
    layouts: ['NHWC'],
    async before() {
      if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') failed");
      await tf.ready();
      // The package contenders leave their own kernel chosen; this row runs the best one.
      setBackend('auto');
      registerTfjsKernels(tf);
    },
    async note() {
      return `local-response-norm/tfjs registered on tfjs-backend-cpu, package kernel ${backend().kernel}`;
    },
    prepare: (input, c) => tfjsLrn(tf, input, c),
  });
  return { list, skipped: null };
}

/** tf.localResponseNormalization on the case's data, with tfjs's parameters for it. */
function tfjsLrn(tf, input, c) {
  const [N, ...rest] = c.shape;
  const x = tf.tensor(input, [N, ...rest], 'float32');
  const radius = (c.size - 1) / 2;
  return {
    run: () => tf.localResponseNormalization(x, radius, c.k, c.alpha, c.beta).dispose(),
    result: () => {
      const y = tf.localResponseNormalization(x, radius, c.k, c.alpha, c.beta);
      const data = y.dataSync().slice();
      y.dispose();
      return data;
    },
    dispose: () => x.dispose(),
  };
}

/** Runs `body` with console.warn dropping the messages that match `pattern`. */
async function withoutWarning(pattern, body) {
  const warn = console.warn;
  console.warn = (...args) => { if (!pattern.test(args.join(' '))) warn(...args); };
  try {
    await body();
  } finally {
    console.warn = warn;
  }
}

/**
 * onnxruntime-node's CPU provider running a one-node LRN model (NCHW only; ONNX divides alpha by
 * size, so the model gets alpha * size to compute the alexnet preset), one intra-op thread, into a
 * preallocated output tensor. session.run is asynchronous, so its time includes a promise.
 */
export async function onnxruntimeContenders() {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (error) {
    return { list: [], skipped: `onnxruntime-node not installed (${error.message.split('\n')[0]}); run npm install` };
  }
  const { lrnModel } = await import('./onnx-model.mjs');
  const contender = {
    name: 'onnxruntime-node',
    version: versionOf('onnxruntime-node'),
    layouts: ['NCHW'],
    async prepare(input, c) {
      const model = lrnModel(c.shape, { size: c.size, alpha: c.alpha * c.size, beta: c.beta, bias: c.k });
      const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', executionProviders: ['cpu'],
      });
      const feeds = { X: new ort.Tensor('float32', input, c.shape) };
      const fetches = { Y: new ort.Tensor('float32', new Float32Array(input.length), c.shape) };
      return {
        run: () => session.run(feeds, fetches),
        result: async () => (await session.run(feeds)).Y.data.slice(),
        dispose: () => session.release(),
      };
    },
  };
  return { list: [contender], skipped: null };
}
