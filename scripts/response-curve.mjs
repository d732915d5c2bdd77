// Draws docs/response-curve.svg: one channel's output against its input under LRN, with its
// neighbours at a few activity levels, for three presets at their defaults. Computed by the
// package's own lrn, so the picture follows the formula and the presets; hand-written SVG with
// fixed rounding, so the same code and presets give the same bytes.
//   node scripts/response-curve.mjs [out.svg]   (after npm run compile; npm run curve does both)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CURVE_PRESETS = ['alexnet', 'pytorch', 'tensorflow'];
const NEIGHBOURS = [0, 10, 30, 100];
const X_MAX = 300;
const X_STEP = 2;
// Okabe-Ito colours, told apart with colour blindness; dashes tell them apart in grey too.
const STYLES = [
  { colour: '#000000', dash: '' },
  { colour: '#0072b2', dash: '9 4' },
  { colour: '#e69f00', dash: '3 3' },
  { colour: '#d55e00', dash: '10 3 2 3' },
];

const WIDTH = 900;
const PANEL = { top: 150, width: 226, height: 220, gap: 64, left: 62 };
const HEIGHT = PANEL.top + PANEL.height + 58;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) => (Math.round(v * 10) / 10).toFixed(1);
const stroke = ({ colour, dash }) => `stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}`;

/** The output of the active channel for each input in `xs`, every other channel of its window at `v`. */
function curve(lrn, preset, xs, v) {
  const { before, after } = preset.window(preset.size);
  const channels = before + 1 + after;
  // One batch item per sample; [N, C] means the same in NCHW and NHWC.
  const input = new Float64Array(xs.length * channels).fill(v);
  xs.forEach((x, i) => { input[i * channels + before] = x; });
  const y = lrn(input, { shape: [xs.length, channels], preset: preset.name });
  return xs.map((_, i) => y[i * channels + before]);
}

/** Round axis steps (1, 2 or 5 times a power of ten) giving about `count` ticks up to at least `max`. */
function ticks(max, count) {
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const top = Math.ceil(max / step - 1e-9) * step;
  const values = [];
  for (let i = 0; i * step <= top + step / 1e6; i++) values.push(Number((i * step).toPrecision(12)));
  return values;
}

const number = (v) => {
  const r = Number(v.toPrecision(6));
  return r !== 0 && Math.abs(r) < 1e-3 ? r.toExponential() : String(r);
};
// The scale a that the formula uses, which is what sets the curves apart.
function parameters(p) {
  const a = p.across === 'alpha' ? `alpha = ${number(p.alpha)}` : `alpha / n = ${number(p.alpha / p.size)}`;
  return `n = ${p.size}, a = ${a}, beta = ${p.beta}, k = ${p.k}`;
}

function panel(lrn, preset, left) {
  const { top, width, height } = PANEL;
  const xs = [];
  for (let x = 0; x <= X_MAX; x += X_STEP) xs.push(x);
  const curves = NEIGHBOURS.map((v) => curve(lrn, preset, xs, v));
  const yTicks = ticks(Math.max(...curves.flat()), 5);
  const yTop = yTicks[yTicks.length - 1];
  const px = (x) => left + (x / X_MAX) * width;
  const py = (y) => top + height - (y / yTop) * height;
  const out = [];
  out.push(`<text x="${left}" y="${top - 26}" font-size="15" font-weight="bold">${esc(preset.name)}</text>`);
  out.push(`<text x="${left}" y="${top - 10}" fill="#444">${esc(parameters(preset))}</text>`);
  for (const t of yTicks) {
    const y = fmt(py(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="${t === 0 ? '#888' : '#e4e4e4'}"/>`);
    out.push(`<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" fill="#444">${t}</text>`);
  }
  for (const t of ticks(X_MAX, 6)) {
    const x = fmt(px(t));
    out.push(`<line x1="${x}" y1="${top + height}" x2="${x}" y2="${top + height + 5}" stroke="#888"/>`);
    out.push(`<text x="${x}" y="${top + height + 18}" text-anchor="middle" fill="#444">${t}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#888"/>`);
  out.push(`<text x="${left + width / 2}" y="${top + height + 36}" text-anchor="middle">input x</text>`);
  out.push(`<text transform="translate(${left - 44} ${top + height / 2}) rotate(-90)" text-anchor="middle">output y</text>`);
  curves.forEach((ys, i) => {
    const points = ys.map((y, j) => `${fmt(px(xs[j]))},${fmt(py(y))}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" ${stroke(STYLES[i])}/>`);
  });
  return out.join('\n');
}

function legend(top) {
  const out = [`<text x="${PANEL.left}" y="${top + 4}">neighbours (the other channels in the window), all at v =</text>`];
  let x = PANEL.left + 345;
  NEIGHBOURS.forEach((v, i) => {
    out.push(`<line x1="${x}" y1="${top}" x2="${x + 34}" y2="${top}" ${stroke(STYLES[i])}/>`);
    out.push(`<text x="${x + 40}" y="${top + 4}">${v}</text>`);
    x += 80;
  });
  return out.join('\n');
}

/**
 * The SVG text of the chart, computed with `lrn` and `presets` (the package's `lrn` and `PRESETS`).
 */
export function responseCurveSvg(lrn, presets) {
  const panels = CURVE_PRESETS.map((name, i) => panel(lrn, presets[name], PANEL.left + i * (PANEL.width + PANEL.gap)));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${PANEL.left}" y="28" font-size="17" font-weight="bold">Local response normalization of one channel, by how active its neighbours are</text>
<text x="${PANEL.left}" y="50" fill="#444">y = x (k + a (x² + the neighbours' squares))^(-beta), each preset at its default parameters; mind the vertical scales</text>
${legend(80)}
${panels.join('\n')}
</svg>
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { lrn, PRESETS } = await import('../dist/index.mjs');
  const out = process.argv[2] ?? fileURLToPath(new URL('../docs/response-curve.svg', import.meta.url));
  writeFileSync(out, responseCurveSvg(lrn, PRESETS));
  console.log(`wrote ${out}`);
}
