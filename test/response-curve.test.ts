// docs/response-curve.svg is what scripts/response-curve.mjs draws from the current formula and
// presets: a change that moves a curve fails here until `npm run curve` redraws it. Every
// backend must draw the same bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { lrn, PRESETS } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';

const committed = readFileSync(join(__dirname, '..', 'docs', 'response-curve.svg'), 'utf8');

forEachBackend(() => {
  it('docs/response-curve.svg is up to date', async () => {
    const { responseCurveSvg } = await import('../scripts/response-curve.mjs');
    expect(responseCurveSvg(lrn, PRESETS), 'docs/response-curve.svg is stale: run npm run curve').toBe(committed);
  });
});
