// Runtime-neutral statistics, throughput and table formatting for the bench suite (no Node/Deno/DOM APIs), shared
// by bench/run.mjs and the other runtimes' runners. Times are milliseconds per call of a case's closure.

/** Linear-interpolated quantile of an ascending array. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Per-call statistics from per-sample latencies (ms) where each sample ran the closure `reps` times.
 * Returns median, p25, p75, IQR (p75 − p25), mean, min and the relative margin of error (95%, in %) if given.
 */
export function summarize(sampleMs, reps, rme = NaN) {
  const s = Float64Array.from(sampleMs, (x) => x / reps).sort();
  const median = quantile(s, 0.5);
  const p25 = quantile(s, 0.25);
  const p75 = quantile(s, 0.75);
  let sum = 0;
  for (const x of s) sum += x;
  return { median, p25, p75, iqr: p75 - p25, mean: sum / s.length, min: s[0], max: s[s.length - 1], samples: s.length, reps, rme };
}

/** Rates per second at the median: gflops, gbps, itemsPerSec (each only if that work is declared). */
export function rates(work, medianMs) {
  const perSec = 1000 / medianMs;
  const r = {};
  if (work.flop) r.gflops = (work.flop * perSec) / 1e9;
  if (work.bytes) r.gbps = (work.bytes * perSec) / 1e9;
  if (work.items) r.itemsPerSec = work.items * perSec;
  return r;
}

const PREFIX = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, '']];

/** 3 significant digits with an SI prefix: fmtSI(2.5e7, 'steps/s') → "25.0 Msteps/s". */
export function fmtSI(v, unit) {
  if (!Number.isFinite(v)) return '—';
  const [f, p] = PREFIX.find(([f]) => Math.abs(v) >= f) ?? [1, ''];
  return `${sig3(v / f)} ${p}${unit}`;
}

function sig3(x) {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** A time in ms as ns/µs/ms/s with 3 significant digits. */
export function fmtTime(ms) {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${sig3(ms / 1000)} s`;
  if (ms >= 1) return `${sig3(ms)} ms`;
  if (ms >= 1e-3) return `${sig3(ms * 1e3)} µs`;
  return `${sig3(ms * 1e6)} ns`;
}

/** The three throughput views of a result: [primary, secondary] as strings ('' if none). */
export function throughputStrings(c, r) {
  const views = {
    flop: r.gflops !== undefined ? `${r.gflops.toFixed(r.gflops >= 100 ? 0 : r.gflops >= 10 ? 1 : 2)} GFLOP/s${c.denseEquivalent ? '*' : ''}` : '',
    bytes: r.gbps !== undefined ? `${r.gbps.toFixed(r.gbps >= 100 ? 0 : r.gbps >= 10 ? 1 : 2)} GB/s` : '',
    items: r.itemsPerSec !== undefined ? fmtSI(r.itemsPerSec, `${c.work.itemUnit ?? 'items'}/s`) : '',
  };
  const primary = views[c.primary];
  const order = c.primary === 'items' ? ['flop', 'bytes'] : c.primary === 'bytes' ? ['items', 'flop'] : [];
  const secondary = order.map((k) => views[k]).find((v) => v) ?? '';
  return [primary, secondary];
}

/**
 * Builds the result records (one per case × backend) with % of peak and SIMD/scalar speed-up.
 * `measured`: [{ case, backend, stats }] (stats from summarize); `peakGflops`: the measured f32x4 peak.
 */
export function buildResults(measured, peakGflops) {
  const out = [];
  for (const m of measured) {
    const c = m.case;
    const rec = {
      id: c.id, group: c.group, name: c.name, params: c.params, backend: m.backend, primary: c.primary,
      denseEquivalent: !!c.denseEquivalent, work: c.work,
    };
    if (m.skipped) { out.push({ ...rec, skipped: m.skipped }); continue; }
    const s = m.stats;
    const r = rates(c.work, s.median);
    rec.time = {
      medianMs: s.median, p25Ms: s.p25, p75Ms: s.p75, iqrMs: s.iqr, iqrPct: (100 * s.iqr) / s.median,
      meanMs: s.mean, minMs: s.min, maxMs: s.max, rmePct: s.rme, samples: s.samples, repsPerSample: s.reps,
    };
    if (s.cpuShare !== undefined) rec.time.cpuSharePct = 100 * s.cpuShare;
    rec.rates = r;
    if (r.gflops !== undefined && peakGflops) rec.pctOfPeak = (100 * r.gflops) / peakGflops;
    out.push(rec);
  }
  for (const rec of out) {
    if (rec.backend !== 'simd' || !rec.time) continue;
    const sc = out.find((o) => o.id === rec.id && o.backend === 'scalar' && o.time);
    if (sc) {
      rec.simdOverScalar = sc.time.medianMs / rec.time.medianMs;
      rec.simdOverScalarMin = sc.time.minMs / rec.time.minMs; // robust to preemption on a shared machine
    }
  }
  return out;
}

/** Aligned plain-text table of the results (one row per case × backend). */
export function formatTable(results) {
  const head = ['case', 'backend', 'median', '±IQR', 'min', 'throughput', 'secondary', '% peak', 'SIMD/scalar', 'cpu'];
  const rows = [];
  let group = null;
  for (const r of results) {
    if (r.group !== group) {
      if (group !== null) rows.push(null);
      group = r.group;
    }
    if (r.skipped) {
      rows.push([r.name, r.backend, 'skipped', '', '', r.skipped, '', '', '', '']);
      continue;
    }
    const [primary, secondary] = throughputStrings(r, r.rates);
    rows.push([
      r.name,
      r.backend,
      fmtTime(r.time.medianMs),
      `±${r.time.iqrPct.toFixed(1)}%`,
      fmtTime(r.time.minMs),
      primary,
      secondary,
      r.pctOfPeak !== undefined ? `${r.pctOfPeak.toFixed(1)}%` : '',
      r.simdOverScalar !== undefined ? `${r.simdOverScalar.toFixed(2)}×` : '',
      r.time.cpuSharePct !== undefined ? `${Math.min(100, r.time.cpuSharePct).toFixed(0)}%` : '',
    ]);
  }
  const width = head.map((h, i) => Math.max(h.length, ...rows.filter(Boolean).map((r) => r[i].length)));
  const right = [false, false, true, true, true, true, true, true, true, true];
  const line = (cells) => cells.map((c, i) => (right[i] ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ').trimEnd();
  const sep = width.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), sep, ...rows.map((r) => (r ? line(r) : ''))].join('\n');
}
