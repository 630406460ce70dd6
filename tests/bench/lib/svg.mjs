// A hand-written SVG of throughput and lag over time: series on a shared time axis, a left and a
// right value axis, optional vertical markers (e.g. where each rate step starts).
export function plot({ title, series, markers = [], width = 900, height = 440, leftLabel = '', rightLabel = '' }) {
  // series: [{ name, color, axis: 'left'|'right', points: [[tSeconds, value] | null], style?: 'line'|'dots' }]
  // markers: [{ t, label }]
  const pad = { l: 70, r: 70, t: 40, b: 50 + 16 * Math.ceil(series.length / 2) };
  const all = series.flatMap((s) => s.points.filter(Boolean));
  const tMax = Math.max(1, ...all.map((p) => p[0]), ...markers.map((m) => m.t));
  const maxOf = (axis) =>
    Math.max(1e-9, ...series.filter((s) => s.axis === axis).flatMap((s) => s.points.filter(Boolean).map((p) => p[1])));
  const yl = maxOf('left') * 1.1;
  const yr = maxOf('right') * 1.1;
  const x = (t) => pad.l + (t / tMax) * (width - pad.l - pad.r);
  const y = (v, axis) => height - pad.b - (v / (axis === 'left' ? yl : yr)) * (height - pad.t - pad.b);
  const esc = (s) => String(s).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  out.push(
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="black"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="black"/>`,
    `<line x1="${width - pad.r}" y1="${pad.t}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="black"/>`,
  );
  if (leftLabel) out.push(`<text x="${pad.l - 6}" y="${pad.t - 8}" text-anchor="end">${esc(leftLabel)}</text>`);
  if (rightLabel) out.push(`<text x="${width - pad.r + 6}" y="${pad.t - 8}">${esc(rightLabel)}</text>`);
  const fmtR = (v) => (yr < 5 ? v.toFixed(2) : v.toFixed(1));
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    out.push(`<text x="${x(t)}" y="${height - pad.b + 18}" text-anchor="middle">${Math.round(t)} s</text>`);
    out.push(
      `<text x="${pad.l - 6}" y="${y((yl * i) / 5, 'left') + 4}" text-anchor="end">${Math.round((yl * i) / 5).toLocaleString('en')}</text>`,
    );
    out.push(`<text x="${width - pad.r + 6}" y="${y((yr * i) / 5, 'right') + 4}">${fmtR((yr * i) / 5)}</text>`);
  }
  for (const m of markers) {
    out.push(
      `<line x1="${x(m.t).toFixed(1)}" y1="${pad.t}" x2="${x(m.t).toFixed(1)}" y2="${height - pad.b}" stroke="#999" stroke-dasharray="4 3"/>`,
    );
    out.push(`<text x="${(x(m.t) + 4).toFixed(1)}" y="${pad.t + 12}" fill="#555">${esc(m.label)}</text>`);
  }
  series.forEach((s, i) => {
    if (s.style === 'dots')
      for (const [t, v] of s.points)
        out.push(`<circle cx="${x(t).toFixed(1)}" cy="${y(v, s.axis).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    else {
      // a null point breaks the line (e.g. between load steps)
      const runs = [[]];
      for (const p of s.points) p === null ? runs.push([]) : runs.at(-1).push(p);
      for (const run of runs.filter((r) => r.length > 0))
        out.push(
          `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${run.map(([t, v]) => `${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`).join(' ')}"/>`,
        );
    }
    const lx = pad.l + 10 + (i % 2) * 400;
    const ly = height - pad.b + 40 + 16 * Math.floor(i / 2);
    out.push(
      `<text x="${lx}" y="${ly}" fill="${s.color}">${s.style === 'dots' ? '●' : '■'} ${esc(s.name)} (${s.axis} axis)</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
