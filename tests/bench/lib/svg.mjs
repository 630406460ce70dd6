// A hand-written SVG of throughput and lag over time: two polylines on a shared time axis.
export function plot({ title, series, width = 900, height = 420 }) {
  // series: [{ name, color, axis: 'left'|'right', points: [[tSeconds, value]] }]
  const pad = { l: 70, r: 70, t: 40, b: 50 };
  const all = series.flatMap((s) => s.points);
  const tMax = Math.max(1, ...all.map((p) => p[0]));
  const maxOf = (axis) => Math.max(1, ...series.filter((s) => s.axis === axis).flatMap((s) => s.points.map((p) => p[1])));
  const yl = maxOf('left') * 1.1;
  const yr = maxOf('right') * 1.1;
  const x = (t) => pad.l + (t / tMax) * (width - pad.l - pad.r);
  const y = (v, axis) => height - pad.b - (v / (axis === 'left' ? yl : yr)) * (height - pad.t - pad.b);
  const esc = (s) => String(s).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`, `<rect width="100%" height="100%" fill="white"/>`, `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`];
  out.push(`<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="black"/>`, `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="black"/>`, `<line x1="${width - pad.r}" y1="${pad.t}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    out.push(`<text x="${x(t)}" y="${height - pad.b + 18}" text-anchor="middle">${Math.round(t)} s</text>`);
    out.push(`<text x="${pad.l - 6}" y="${y((yl * i) / 5, 'left') + 4}" text-anchor="end">${Math.round((yl * i) / 5).toLocaleString('en')}</text>`);
    out.push(`<text x="${width - pad.r + 6}" y="${y((yr * i) / 5, 'right') + 4}">${((yr * i) / 5).toFixed(1)}</text>`);
  }
  series.forEach((s, i) => {
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<text x="${pad.l + 10 + i * 260}" y="${height - 12}" fill="${s.color}">■ ${esc(s.name)} (${s.axis} axis)</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
