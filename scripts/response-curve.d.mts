// Types of response-curve.mjs, for test/response-curve.test.ts.
import type { lrn as Lrn, PRESETS as Presets } from '../lib/index.js';

export function responseCurveSvg(lrn: typeof Lrn, presets: typeof Presets): string;
