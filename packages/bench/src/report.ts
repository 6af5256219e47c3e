// BENCHMARKS.md, the SVG chart and the terminal table from the runtimes' results.
import type { CaseResult, ImplResult, RuntimeResult, Timing } from './suite.js';
import type { Machine, RuntimeFailure, WasmSize } from './driver.js';

const PEERS = ['tfjs', 'ort-1t', 'ort-2t', 'js', 'scalar'] as const;

const isTiming = (r: ImplResult | undefined): r is Timing => !!r && 'medianMs' in r;

export function fmtTime(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s3 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  if (ms >= 1000) return `${s3(ms / 1000)} s`;
  if (ms >= 1) return `${s3(ms)} ms`;
  if (ms >= 1e-3) return `${s3(ms * 1e3)} µs`;
  return `${s3(ms * 1e6)} ns`;
}

/** peer time / our time (> 1: we are faster), from the medians. */
export function ratio(c: CaseResult, peer: string): number | undefined {
  const o = c.impls.ours, p = c.impls[peer];
  return isTiming(o) && isTiming(p) ? p.medianMs / o.medianMs : undefined;
}

function cell(c: CaseResult, label: string): string {
  const r = c.impls[label];
  if (!r) return '';
  if (!isTiming(r)) return r.error === 'does not load' ? 'n/l' : `✗ ${r.error.slice(0, 40)}`;
  const per = r.medianMs / c.items;
  const t = `${fmtTime(per)} ±${r.iqrPct.toFixed(0)}%`;
  if (label === 'ours') return t;
  const q = ratio(c, label);
  return q === undefined ? t : `${t} (**${q >= 10 ? q.toFixed(0) : q.toFixed(2)}×**)`;
}

/** One markdown table for one runtime. */
export function runtimeTable(r: RuntimeResult): string {
  const labels = PEERS.filter((p) => r.cases.some((c) => c.impls[p]));
  const head = ['case', 'ours (median ±IQR)', 'GFLOP/s', '% peak', ...labels.map((l) => `${l} (peer ÷ ours)`), 'check'];
  const rows = r.cases.map((c) => {
    const o = c.impls.ours;
    const gf = isTiming(o) && c.flop ? c.flop / o.medianMs / 1e6 : undefined;
    const per = c.items > 1 ? ` (per ${c.itemUnit})` : '';
    const tol = (t: 'exact' | number) => (t === 'exact' ? 'exact' : `≤ ${t}`);
    const others = Object.entries(c.check.tolerances ?? {}).map(([l, t]) => `; ${l} ${tol(t)}`).join('');
    const check = c.check.ok
      ? `ok vs ${c.check.reference} (${tol(c.tolerance)}${others})`
      : `**MISMATCH**: ${c.check.detail}`;
    return [`${c.name}${per}`, cell(c, 'ours'), gf ? gf.toFixed(gf >= 10 ? 1 : 2) : '', gf && r.peakGflops ? `${((100 * gf) / r.peakGflops).toFixed(0)}%` : '',
      ...labels.map((l) => cell(c, l)), check];
  });
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

/** What the cross-check of the cases with their own peer tolerance or notes found (measured errors, spike agreement). */
export function checkNotes(r: RuntimeResult): string[] {
  const out: string[] = [];
  for (const c of r.cases) {
    const labels = new Set([...Object.keys(c.check.tolerances ?? {}), ...Object.keys(c.check.notes ?? {})]);
    for (const l of labels) {
      const err = c.check.errors[l];
      const parts = [err === undefined ? 'not compared' : `max|Δ| / max(1, max|ref|) = ${err.toExponential(1)}`];
      if (c.check.notes?.[l]) parts.push(c.check.notes[l]);
      out.push(`- ${c.name}, ${l} vs ${c.check.reference}: ${parts.join('; ')}`);
    }
  }
  return out;
}

function peerLine(r: RuntimeResult): string {
  const p = r.peers as Record<string, { loaded: boolean; reason?: string; version?: string } | undefined>;
  return Object.entries(p).filter(([, s]) => s && s.reason !== 'not requested').map(([k, s]) => {
    const name = k === 'ort' ? 'onnxruntime-web (1 thread)' : k === 'ort2' ? 'onnxruntime-web (2 threads)' : 'tfjs-backend-wasm';
    return s!.loaded ? `${name} ${s!.version ?? ''} loaded` : `${name} **does not load: ${s!.reason}**`;
  }).join('; ');
}

/** The summary: one row per case, our median and ours-vs-tfjs per runtime. */
export function summaryTable(results: RuntimeResult[]): string {
  const ids = results[0]?.cases.map((c) => c.id) ?? [];
  const head = ['case', ...results.map((r) => `${r.runtime}: ours / tfjs ÷ ours / ort-1t ÷ ours`)];
  const rows = ids.map((id) => {
    const name = results[0].cases.find((c) => c.id === id)!.name;
    return [name, ...results.map((r) => {
      const c = r.cases.find((x) => x.id === id);
      if (!c) return '';
      const o = c.impls.ours;
      const f = (q?: number) => (q === undefined ? '—' : `${q.toFixed(2)}×`);
      return isTiming(o) ? `${fmtTime(o.medianMs / c.items)} / ${f(ratio(c, 'tfjs'))} / ${f(ratio(c, 'ort-1t'))}` : '—';
    })];
  });
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

export interface ReportInput {
  results: RuntimeResult[];
  failures: RuntimeFailure[];
  machine: Machine;
  wasm: WasmSize[];
  command: string;
  quick?: boolean;
  svgPath?: string;
}

/** BENCHMARKS.md */
export function markdown(inp: ReportInput): string {
  const { results, machine: m } = inp;
  const L: string[] = [];
  L.push('# Benchmarks', '');
  L.push(`Generated by \`${inp.command}\` on ${m.date.slice(0, 10)}${inp.quick ? ' (**--quick**: short time budgets, rough numbers)' : ''}.`, '');
  L.push(`**Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; load average at the end ${m.loadavg.join(' ')}.`, '');
  L.push('**Runtimes:** ' + results.map((r) => `${r.runtime} ${r.version}${r.detail ? ` (${r.detail})` : ''}`).join(', ') + '.', '');
  if (inp.failures.length) L.push('**Runtimes that failed:** ' + inp.failures.map((f) => `${f.runtime}: ${f.error}`).join('; '), '');
  L.push('**Method.** Every implementation of a case runs in the same process (one fresh process, or page, per runtime),',
    'single thread except `ort-2t`. Before timing, each output is compared with the plain-JS oracle (or ours where there is none):',
    'max|a − b| / max(1, max|ref|) within the stated tolerance, exactly for spike and count outputs; a mismatch aborts that case',
    '(no timings) and is shown. Timing: tinybench 6 after tier-up warm-up calls; calls batched to ~2 ms samples; median per call',
    'and the inter-quartile range as % of the median. Ratios are **peer time ÷ our time** (> 1: we are faster). GFLOP/s count',
    'the direct dense computation (2 FLOP per multiply-add; the parallel LMU: the FIR form\'s multiply-adds, which our FFT',
    'form avoids); % peak is against the f32x4 mul+add probe of core-wasm measured in the same runtime. Peers: tfjs-core +',
    'tfjs-backend-wasm (XNNPACK, SIMD build, op by op as a tfjs user writes it, with dataSync), onnxruntime-web (wasm EP,',
    'graphs encoded in code, opset 13; its thread count is global per process, so `ort-2t` is a second ort-only run in a fresh',
    'process/page), `js` = core-wasm\'s oracle (float64 loops), `scalar` = our kernels on the non-SIMD Wasm backend.',
    '**Models use random weights** (seeded, plausible batch-norm statistics): the cost is that of the real models. Their tfjs',
    'peer (`src/tfjs-models.ts`) is the same model written op by op in tfjs from the same state dict (BNs folded where ours',
    'folds them; LIF as a loop over time; the clip\'s LMU memory as a Toeplitz GEMM, the stream\'s as the recurrence); the',
    'spiking models are compared on their logits with a looser bound, and the fraction of equal spikes over every LIF layer',
    'is listed under each runtime\'s table. `n/l` = the peer does not load.',
    'workerd\'s clock advances in whole milliseconds (Spectre mitigation), so its samples are ≥ 25 ms batches and its slow',
    'single calls are quantised to 1 ms.', '');
  if (inp.svgPath) L.push(`![ours vs tfjs-backend-wasm](${inp.svgPath})`, '');
  L.push('## Summary: our time, and tfjs ÷ ours, ort-1t ÷ ours', '', summaryTable(results), '');
  L.push('## Cold start', '', 'Fresh process per runtime: ours = load + compile + instantiate spikewasm.wasm (workerd compiles imported',
    'modules at startup, so there: instantiate only), weights = the SCv2 LMUFormer built from a state dict of the official',
    'layout, which stores the LMU buffers A, B, H (packing, BN folding); LMU buffers = computing Ā, B̄, H in float64, what a',
    'state dict without them adds; tfjs = import + backend init (compile + instantiate), weights = the same state dict',
    'uploaded as tensors; ort = import + first session (compile + instantiate its 14 MB Wasm).', '');
  L.push('| runtime | ours init | ours weights | (LMU buffers) | tfjs init | tfjs weights | ort init |', '|---|---|---|---|---|---|---|');
  for (const r of results) {
    const c = r.coldStart;
    const f = (x?: number) => (x === undefined ? 'n/l' : fmtTime(x));
    if (c) L.push(`| ${r.runtime} | ${f(c.oursInitMs)} | ${f(c.oursWeightsMs)} | ${f(c.oursLmuBuffersMs)} | ${f(c.tfjsInitMs)} | ${f(c.tfjsWeightsMs)} | ${f(c.ortInitMs)} |`);
  }
  L.push('', '## Wasm sizes', '', '| module | bytes | gzip -9 |', '|---|---|---|');
  for (const w of inp.wasm) L.push(`| ${w.what} (\`${w.file.split('/').pop()}\`) | ${w.bytes.toLocaleString('en-US')} | ${w.gzipBytes.toLocaleString('en-US')} |`);
  for (const r of results) {
    L.push('', `## ${r.runtime} ${r.version}`, '');
    L.push(`f32x4 peak: ${r.peakGflops?.toFixed(1) ?? '—'} GFLOP/s (single thread). Peers: ${peerLine(r) || 'none requested'}. Wall time ${(r.wallMs / 1000).toFixed(0)} s.`, '');
    L.push(runtimeTable(r));
    const notes = checkNotes(r);
    if (notes.length) L.push('', 'Cross-check of the whole models against their tfjs port:', '', ...notes);
  }
  L.push('');
  return L.join('\n');
}

/** A horizontal bar chart of tfjs ÷ ours (log scale) per case and runtime, hand-written SVG. */
export function svgChart(results: RuntimeResult[]): string {
  const colors: Record<string, string> = { node: '#3c873a', deno: '#222222', chromium: '#4285f4', workerd: '#f38020' };
  const ids = (results[0]?.cases ?? []).filter((c) => results.some((r) => ratio(r.cases.find((x) => x.id === c.id) ?? c, 'tfjs') !== undefined)).map((c) => c.id);
  const barH = 9, gap = 8, left = 330, width = 900, plotW = width - left - 30, top = 50;
  const groupH = results.length * barH + gap;
  const height = top + ids.length * groupH + 40;
  const lo = Math.log10(0.1), hi = Math.log10(100);
  const x = (q: number) => left + ((Math.log10(Math.min(100, Math.max(0.1, q))) - lo) / (hi - lo)) * plotW;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${left}" y="18" font-size="14" font-weight="bold">tfjs-backend-wasm time ÷ spikewasm time (log scale; right of 1× = spikewasm faster)</text>`);
  for (const t of [0.1, 0.3, 1, 3, 10, 30, 100]) {
    out.push(`<line x1="${x(t)}" y1="${top - 8}" x2="${x(t)}" y2="${height - 30}" stroke="${t === 1 ? '#000' : '#ddd'}"/>`);
    out.push(`<text x="${x(t)}" y="${height - 15}" text-anchor="middle">${t}×</text>`);
  }
  results.forEach((r, i) => {
    out.push(`<rect x="${left + i * 110}" y="28" width="10" height="10" fill="${colors[r.runtime] ?? '#888'}"/><text x="${left + i * 110 + 14}" y="37">${esc(r.runtime)}</text>`);
  });
  ids.forEach((id, k) => {
    const y0 = top + k * groupH;
    const name = results[0].cases.find((c) => c.id === id)!.name;
    out.push(`<text x="${left - 6}" y="${y0 + (results.length * barH) / 2 + 4}" text-anchor="end">${esc(name.length > 52 ? `${name.slice(0, 50)}…` : name)}</text>`);
    results.forEach((r, i) => {
      const c = r.cases.find((x2) => x2.id === id);
      const q = c && ratio(c, 'tfjs');
      if (q === undefined || !c) return;
      const a = x(1), b = x(q);
      out.push(`<rect x="${Math.min(a, b)}" y="${y0 + i * barH}" width="${Math.max(1, Math.abs(b - a))}" height="${barH - 1}" fill="${colors[r.runtime] ?? '#888'}"><title>${esc(`${r.runtime}: ${name}: ${q.toFixed(2)}×`)}</title></rect>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A plain-text table for the terminal (one runtime). */
export function textTable(r: RuntimeResult): string {
  const labels = ['ours', ...PEERS.filter((p) => r.cases.some((c) => c.impls[p]))];
  const rows = [['case', ...labels, 'check'], ...r.cases.map((c) => [c.id, ...labels.map((l) => {
    const t = c.impls[l];
    if (!t) return '';
    if (!isTiming(t)) return t.error === 'does not load' ? 'n/l' : t.error.startsWith('not timed') ? '—' : 'error';
    const q = ratio(c, l);
    return l === 'ours' || q === undefined ? fmtTime(t.medianMs / c.items) : `${fmtTime(t.medianMs / c.items)} ${q.toFixed(2)}×`;
  }), c.check.ok ? 'ok' : 'MISMATCH'])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  return rows.map((x) => x.map((v, i) => (i === 0 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ')).join('\n');
}
