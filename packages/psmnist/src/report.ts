// Text and SVG renderings of the accuracy after every number of pixels seen (engine-neutral).

/** Accuracy (%) after t + 1 pixels, from per-step correct counts. */
export function accuracyCurve(correctAt: Int32Array, count: number): Float64Array {
  return Float64Array.from(correctAt, (c) => (100 * c) / count);
}

/**
 * A compact text chart: one row per `every` pixels (and the last), a bar of the accuracy.
 * @example console.log(textChart(curve, 98))
 */
export function textChart(curve: Float64Array, every = 98, width = 40, marker?: number): string {
  const rows: string[] = [];
  const L = curve.length;
  const at: number[] = [];
  for (let t = every; t < L; t += every) at.push(t);
  at.push(L);
  if (marker !== undefined && !at.includes(marker)) at.push(marker);
  at.sort((a, b) => a - b);
  for (const t of at) {
    const v = curve[t - 1], n = Math.round((v / 100) * width);
    rows.push(`${String(t).padStart(4)} px ${'█'.repeat(n)}${'·'.repeat(width - n)} ${v.toFixed(2).padStart(6)}%${t === marker ? '  ← early stop' : ''}`);
  }
  return rows.join('\n');
}

/**
 * An SVG line plot of accuracy vs pixels seen, with the early-stopping point and the final accuracy marked.
 */
export function svgChart(curve: Float64Array, opts: { title: string; stop?: { pixels: number; accuracy: number }; final: number }): string {
  const W = 720, H = 420, l = 64, r = 24, t = 48, b = 56, pw = W - l - r, ph = H - t - b, L = curve.length;
  const x = (px: number) => l + (px / L) * pw, y = (acc: number) => t + (1 - acc / 100) * ph;
  const pts: string[] = [];
  for (let i = 0; i < L; i++) pts.push(`${x(i + 1).toFixed(1)},${y(curve[i]).toFixed(1)}`);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const grid: string[] = [];
  for (let a = 0; a <= 100; a += 20) grid.push(`<line x1="${l}" x2="${l + pw}" y1="${y(a)}" y2="${y(a)}" stroke="#ddd"/><text x="${l - 8}" y="${y(a) + 4}" text-anchor="end">${a}%</text>`);
  for (let p = 0; p <= L; p += 98) grid.push(`<line x1="${x(p)}" x2="${x(p)}" y1="${t}" y2="${t + ph}" stroke="#eee"/><text x="${x(p)}" y="${t + ph + 18}" text-anchor="middle">${p}</text>`);
  const stop = opts.stop
    ? `<line x1="${x(opts.stop.pixels)}" x2="${x(opts.stop.pixels)}" y1="${t}" y2="${t + ph}" stroke="#c33" stroke-dasharray="5 4"/>` +
      `<circle cx="${x(opts.stop.pixels)}" cy="${y(opts.stop.accuracy)}" r="4" fill="#c33"/>` +
      `<text x="${x(opts.stop.pixels) - 6}" y="${y(opts.stop.accuracy) + 20}" text-anchor="end" fill="#c33">${opts.stop.pixels} px: ${opts.stop.accuracy.toFixed(2)}% (99% of final)</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>
${grid.join('\n')}
<polyline points="${pts.join(' ')}" fill="none" stroke="#1f5fbf" stroke-width="2"/>
<line x1="${l}" x2="${l + pw}" y1="${y(opts.final)}" y2="${y(opts.final)}" stroke="#1f5fbf" stroke-dasharray="2 3" opacity="0.6"/>
${stop}
<text x="${l + pw / 2}" y="${H - 14}" text-anchor="middle">pixels seen (one per step, permuted order)</text>
<text x="16" y="${t + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${t + ph / 2})">held-out accuracy of the prefix prediction</text>
</svg>
`;
}
