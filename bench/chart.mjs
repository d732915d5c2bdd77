// A horizontal bar chart (SVG, log scale) of elements per second for each contender and case.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** bars: [{ group, label, value }] (value in Melem/s), drawn in the order given. */
export function barChart(title, bars) {
  const rowHeight = 18, left = 330, width = 900, right = 90, top = 40;
  const max = Math.max(...bars.map((b) => b.value));
  const min = Math.min(...bars.map((b) => b.value));
  const lo = 10 ** Math.floor(Math.log10(min)), hi = 10 ** Math.ceil(Math.log10(max));
  const x = (v) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (width - left - right);
  const parts = [];
  let y = top;
  let group = null;
  for (const b of bars) {
    if (b.group !== group) {
      group = b.group;
      y += 8;
      parts.push(`<text x="8" y="${y + 12}" font-weight="bold">${esc(group)}</text>`);
      y += rowHeight;
    }
    const native = /avx|neon|scalar/.test(b.label) && !/tfjs/.test(b.label);
    const colour = /memcpy/.test(b.label) ? '#999' : /onednn|tfjs|onnx/i.test(b.label) ? '#d98b3a' : native ? '#3a78d9' : '#5aa05a';
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${rowHeight - 5}" fill="${colour}"/>`);
    parts.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 13}">${b.value >= 100 ? b.value.toFixed(0) : b.value.toPrecision(3)}</text>`);
    y += rowHeight;
  }
  const ticks = [];
  for (let v = lo; v <= hi; v *= 10) {
    ticks.push(`<line x1="${x(v).toFixed(1)}" y1="${top}" x2="${x(v).toFixed(1)}" y2="${y}" stroke="#ddd"/>`);
    ticks.push(`<text x="${x(v).toFixed(1)}" y="${y + 14}" text-anchor="middle" fill="#666">${v >= 1 ? v : v.toPrecision(1)}</text>`);
  }
  const height = y + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${ticks.join('\n')}
${parts.join('\n')}
<text x="${width - right}" y="${height - 6}" text-anchor="end" fill="#666">million elements per second, log scale; longer is faster</text>
</svg>
`;
}
