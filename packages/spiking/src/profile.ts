// Per-layer accounting of a forward: MACs, input firing rates, synaptic operations and the Spikformer energy estimate.
import { ArgumentError } from '@spikewasm/core-wasm';
import { walk, type LayerCost, type SpikingModule } from './module.js';

/**
 * Energy per operation of the Spikformer paper's estimate (Zhou et al., ICLR 2023, following Horowitz, "Computing's
 * energy problem", ISSCC 2014): 32-bit floating point in 45 nm CMOS, a multiply-accumulate costs 4.6 pJ (3.7 pJ
 * multiply + 0.9 pJ add) and an accumulate (one synaptic operation on a spike) 0.9 pJ.
 * @example profile(model, run, { energy: { ...ENERGY_45NM_FP32, acPJ: 0.77 } })
 */
export const ENERGY_45NM_FP32: Readonly<{ macPJ: number; acPJ: number }> = Object.freeze({ macPJ: 4.6, acPJ: 0.9 });

/** One weight layer's line of a {@link ProfileTable}. */
export interface ProfileRow {
  /** The module's name (e.g. `block.0.attn.q_linear`). */
  name: string;
  /** Whether the layer reported real-valued (analog) inputs, as its {@link LayerCost} says. */
  analog: boolean;
  /** How the row is charged: `'MAC'` (4.6 pJ per MAC) or `'SOP'` (0.9 pJ per synaptic operation). */
  charge: 'MAC' | 'SOP';
  /** Multiply-accumulates of the dense equivalent during the run, summed over time steps and forwards. */
  macs: number;
  /** Input elements seen, and how many were non-zero. */
  inputs: number;
  nonZero: number;
  /** nonZero / inputs for SOP rows (0 if no inputs); null for MAC rows. */
  firingRate: number | null;
  /** Synaptic operations = firingRate × macs (0 for MAC rows). */
  sops: number;
  /** Estimated energy in pJ: macPJ × macs (MAC rows) or acPJ × sops (SOP rows). */
  energyPJ: number;
}

/** Sums over the rows of a {@link ProfileTable}. */
export interface ProfileTotals {
  /** All MACs (dense equivalent), and those charged as MACs. */
  macs: number;
  analogMacs: number;
  /** All synaptic operations. */
  sops: number;
  /** MAC-weighted input firing rate of the SOP rows, Σ sops / Σ macs(SOP rows) (null if there is none). */
  firingRate: number | null;
  energyPJ: number;
  /** energyPJ / 10⁶ and / 10⁹ (the paper reports mJ). */
  energyUJ: number;
  energyMJ: number;
}

/** What {@link profile} returns: one row per weight layer (walk order), totals, and a printable table. */
export interface ProfileTable {
  rows: ProfileRow[];
  totals: ProfileTotals;
  /** The energy constants used. */
  energy: Readonly<{ macPJ: number; acPJ: number }>;
  /** An aligned plain-text table (one line per row plus a total line), identical in every JS engine. */
  format(): string;
}

/** Options of {@link profile}. */
export interface ProfileOptions {
  /** pJ per MAC and per accumulate (default {@link ENERGY_45NM_FP32}). */
  energy?: { macPJ?: number; acPJ?: number };
  /**
   * Which rows are charged per MAC (default: those with analog inputs). The paper charges only the first conv as
   * MACs; Spikformer's q/k/v and MLP layers read the residual stream of small integers, which our layers report as
   * analog — pass `(r) => r.name === 'patch_embed.proj_conv'` to reproduce the paper's accounting.
   */
  chargeAsMAC?: (row: { name: string; analog: boolean }) => boolean;
}

const copyCost = (c: LayerCost | null | undefined): LayerCost | null =>
  c ? { macs: c.macs, inputs: c.inputs, nonZero: c.nonZero, analog: c.analog } : null;

/**
 * Profiles one run of a model: sets `profiling = true` on every module of {@link walk}(model), snapshots each weight
 * layer's `cost()` (copied, so layers may reuse the object), calls `run()`, reads `cost()` again and charges the
 * difference, then restores every module's `profiling` flag as it was (also when `run` throws). Subtracting
 * snapshots makes it independent of whether a layer clears its totals when profiling is switched on; no reset
 * method is needed. A module shared at several places of the tree is counted once. Weight layers whose `cost()` is
 * still null after the run get no row; layers that clear their totals when switched on (the package's layers) report
 * zeros instead, so a zero row means the layer did not run.
 *
 * Per row (Spikformer paper's energy model, spikformer.md §4):
 *
 *     fr     = nonZero / inputs                      (input firing rate, spiking rows)
 *     SOPs   = fr × MACs                             (paper: fr × T × FLOPs; our MACs are already summed over T)
 *     E_row  = 4.6 pJ × MACs   for analog rows (the first, pixel-input layer)
 *            = 0.9 pJ × SOPs   for spiking rows
 *     E      = Σ E_row
 *
 * Caveats: it counts arithmetic only — no memory access or data movement (which dominate on real hardware), no
 * BN/LIF/softmax-free scaling updates; it assumes an accelerator that skips zeros, and SOP = fr × MACs is exact only
 * where every input has the same fan-out (linear layers; conv borders with padding deviate slightly); the constants
 * are for 32-bit floats at 45 nm. A first layer computed once for a static image (direct encoding,
 * `repeatSteps`) records one application, matching the paper's FLOPs of the first conv. Integer (non-binary)
 * inputs such as the residual stream are analog and charged as MACs unless {@link ProfileOptions.chargeAsMAC} says
 * otherwise.
 * @example
 * const table = profile(model, () => model.forward(x, out));
 * console.log(table.format());
 * table.totals.energyMJ;
 */
export function profile(model: SpikingModule, run: () => void, options: ProfileOptions = {}): ProfileTable {
  const energy = Object.freeze({ macPJ: options.energy?.macPJ ?? ENERGY_45NM_FP32.macPJ, acPJ: options.energy?.acPJ ?? ENERGY_45NM_FP32.acPJ });
  for (const [k, v] of Object.entries(energy)) {
    if (!Number.isFinite(v) || v < 0) throw new ArgumentError(`profile: energy.${k} must be a non-negative finite number, got ${v}`);
  }
  const asMAC = options.chargeAsMAC ?? ((r: { analog: boolean }) => r.analog);
  const modules: SpikingModule[] = [];
  const seen = new Set<SpikingModule>();
  for (const m of walk(model)) {
    if (!seen.has(m)) {
      seen.add(m);
      modules.push(m);
    }
  }
  const flags = modules.map((m) => ({ m, has: 'profiling' in m, prev: m.profiling }));
  const before = new Map<SpikingModule, LayerCost | null>();
  const after = new Map<SpikingModule, LayerCost | null>();
  try {
    for (const m of modules) (m as { profiling?: boolean }).profiling = true;
    for (const m of modules) if (m.cost) before.set(m, copyCost(m.cost()));
    run();
    for (const m of modules) if (m.cost) after.set(m, copyCost(m.cost()));
  } finally {
    for (const { m, has, prev } of flags) {
      if (has) (m as { profiling?: boolean }).profiling = prev;
      else delete (m as { profiling?: boolean }).profiling;
    }
  }

  const rows: ProfileRow[] = [];
  for (const m of modules) {
    const a = after.get(m);
    if (!a) continue;
    const b = before.get(m);
    const macs = a.macs - (b?.macs ?? 0);
    const inputs = a.inputs - (b?.inputs ?? 0);
    const nonZero = a.nonZero - (b?.nonZero ?? 0);
    const charge = asMAC({ name: m.name, analog: a.analog }) ? 'MAC' : 'SOP';
    const firingRate = charge === 'MAC' ? null : inputs > 0 ? nonZero / inputs : 0;
    const sops = firingRate === null ? 0 : firingRate * macs;
    const energyPJ = charge === 'MAC' ? energy.macPJ * macs : energy.acPJ * sops;
    rows.push({ name: m.name, analog: a.analog, charge, macs, inputs, nonZero, firingRate, sops, energyPJ });
  }

  let macs = 0, analogMacs = 0, sops = 0, sopMacs = 0, energyPJ = 0;
  for (const r of rows) {
    macs += r.macs;
    sops += r.sops;
    energyPJ += r.energyPJ;
    if (r.charge === 'MAC') analogMacs += r.macs;
    else sopMacs += r.macs;
  }
  const totals: ProfileTotals = {
    macs, analogMacs, sops, energyPJ,
    firingRate: sopMacs > 0 ? sops / sopMacs : null,
    energyUJ: energyPJ / 1e6,
    energyMJ: energyPJ / 1e9,
  };
  return { rows, totals, energy, format: () => formatTable(rows, totals) };
}

/** Integer with thousands separators (fixed ',' — toLocaleString depends on the engine's ICU data). */
function group(n: number): string {
  const s = Math.round(n).toString();
  const neg = s.startsWith('-');
  const d = neg ? s.slice(1) : s;
  let out = '';
  for (let i = 0; i < d.length; i++) {
    if (i > 0 && (d.length - i) % 3 === 0) out += ',';
    out += d[i];
  }
  return (neg ? '-' : '') + out;
}

function uj(pj: number): string {
  const [i, f] = (pj / 1e6).toFixed(6).split('.');
  return `${group(Number(i))}.${f}`;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

function formatTable(rows: ProfileRow[], t: ProfileTotals): string {
  const head = ['layer', 'input', 'MACs', 'firing rate', 'SOPs', 'energy (µJ)'];
  const body = rows.map((r) => [r.name, r.charge === 'MAC' ? 'analog' : 'spikes', group(r.macs), pct(r.firingRate), r.charge === 'MAC' ? '—' : group(r.sops), uj(r.energyPJ)]);
  const total = ['total', '', group(t.macs), pct(t.firingRate), group(t.sops), uj(t.energyPJ)];
  const all = [head, ...body, total];
  const width = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((s, c) => (c < 2 ? s.padEnd(width[c]) : s.padStart(width[c]))).join('  ').trimEnd();
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...body.map(line), rule, line(total), `energy: ${(t.energyPJ / 1e9).toFixed(6)} mJ (${t.energyPJ.toFixed(1)} pJ)`].join('\n');
}
