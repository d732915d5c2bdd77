// The golden set's manifest (test/fixtures/golden/README.md): its cases, and the options each
// case passes to lrn or lrnBackward.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LrnOptions } from '../../lib/index.js';

export const GOLDEN_DIR = join(__dirname, '..', 'fixtures', 'golden');

export interface GoldenCase {
  name: string;
  op: 'forward' | 'backward';
  preset: string; layout: string; region: string; shape: number[];
  size?: number; alpha?: number; beta?: number; k?: number;
  omit?: string[];
  dtype: 'float32' | 'float64';
  files: Record<'input' | 'expected', string> & Partial<Record<'gradOutput' | 'ref64' | 'bound', string>>;
  resolved: { a: number; L: number; R: number; k: number; size: number; alpha: number; beta: number };
}

export const GOLDEN_CASES: readonly GoldenCase[] =
  (JSON.parse(readFileSync(join(GOLDEN_DIR, 'manifest.json'), 'utf8')) as { cases: GoldenCase[] }).cases;

/** The case's shape, preset, layout, region and given parameters, less the keys in `omit`. */
export function goldenOptions(c: GoldenCase): LrnOptions {
  const options: Record<string, unknown> = { shape: c.shape, preset: c.preset, layout: c.layout, region: c.region };
  for (const key of ['size', 'alpha', 'beta', 'k'] as const) if (c[key] !== undefined) options[key] = c[key];
  for (const key of c.omit ?? []) delete options[key];
  return options as unknown as LrnOptions;
}
