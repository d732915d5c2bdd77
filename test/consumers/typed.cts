// Type-checked (never run) by `npm run typecheck`: the CommonJS types as a user sees them.
import lrnPackage = require('local-response-norm');

const y: Float32Array = lrnPackage.lrn(new Float32Array(10), { shape: [2, 5], preset: 'caffe' });
const options: lrnPackage.LrnOptions = { shape: [2, 5], layout: 'NCHW' };
// @ts-expect-error: layout is 'NCHW' or 'NHWC'
const wrong: lrnPackage.LrnOptions = { shape: [2, 5], layout: 'CHW' };

export = { y, options, wrong };
