import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Core } from '@spikewasm/core-wasm';
import { SpikeTensor, profile, ENERGY_45NM_FP32, type LayerCost, type SpikingModule } from '../src/index.js';
import { Linear } from '../src/layers.js';
import { randomF32, randomSpikes } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

/** A weight layer that clears its totals when profiling is switched on (like the real layers). */
class ResettingLayer implements SpikingModule {
  private on = false;
  private total: LayerCost | null = null;
  constructor(readonly name: string, readonly analog = false) {}
  get profiling(): boolean {
    return this.on;
  }
  set profiling(v: boolean) {
    if (v && !this.on) this.total = { macs: 0, inputs: 0, nonZero: 0, analog: this.analog };
    this.on = v;
  }
  cost(): LayerCost | null {
    return this.total;
  }
  /** One forward: `inputs` elements of which `nonZero` are non-zero, `fanOut` outputs per input. */
  forward(inputs: number, nonZero: number, fanOut: number): void {
    if (!this.on || !this.total) return;
    this.total.macs += inputs * fanOut;
    this.total.inputs += inputs;
    this.total.nonZero += nonZero;
  }
}

/** A weight layer that never clears its totals and mutates the object cost() returns (profile must subtract). */
class AccumulatingLayer implements SpikingModule {
  profiling = false;
  readonly total: LayerCost = { macs: 0, inputs: 0, nonZero: 0, analog: false };
  constructor(readonly name: string) {}
  cost(): LayerCost {
    return this.total;
  }
  forward(inputs: number, nonZero: number, fanOut: number): void {
    if (!this.profiling) return;
    this.total.macs += inputs * fanOut;
    this.total.inputs += inputs;
    this.total.nonZero += nonZero;
  }
}

/** A tiny model: an analog first layer, a LIF-like stateful part (no cost), two spiking layers in a block. */
function model() {
  const conv = new ResettingLayer('patch_embed.proj_conv', true);
  const lif: SpikingModule = { name: 'patch_embed.proj_lif', reset() {} };
  const fc1 = new ResettingLayer('block.0.fc1');
  const fc2 = new AccumulatingLayer('block.0.fc2');
  const block: SpikingModule = { name: 'block.0', children: () => [fc1, fc2] };
  const root: SpikingModule = { name: 'model', children: () => [conv, lif, block] };
  const forward = () => {
    conv.forward(300, 300, 16); // 4,800 MACs, analog
    fc1.forward(400, 100, 20); // 8,000 MACs, fr 1/4 → 2,000 SOPs
    fc2.forward(1000, 50, 8); // 8,000 MACs, fr 1/20 → 400 SOPs
  };
  return { root, conv, lif, fc1, fc2, block, forward };
}

describe('profile', () => {
  it('computes MACs, firing rates, SOPs and the paper energy per row and in total', () => {
    const m = model();
    const t = profile(m.root, m.forward);
    expect(t.energy).toEqual(ENERGY_45NM_FP32);
    expect(t.rows.map((r) => r.name)).toEqual(['patch_embed.proj_conv', 'block.0.fc1', 'block.0.fc2']);
    const [conv, fc1, fc2] = t.rows;
    expect(conv).toMatchObject({ analog: true, charge: 'MAC', macs: 4800, inputs: 300, nonZero: 300, firingRate: null, sops: 0 });
    expect(conv.energyPJ).toBeCloseTo(4.6 * 4800, 9);
    expect(fc1).toMatchObject({ analog: false, charge: 'SOP', macs: 8000, firingRate: 0.25, sops: 2000 });
    expect(fc1.energyPJ).toBeCloseTo(0.9 * 2000, 9);
    expect(fc2).toMatchObject({ charge: 'SOP', macs: 8000, inputs: 1000, nonZero: 50, firingRate: 0.05 });
    expect(fc2.sops).toBeCloseTo(400, 9);
    const E = 4.6 * 4800 + 0.9 * 2400;
    expect(t.totals.macs).toBe(20800);
    expect(t.totals.analogMacs).toBe(4800);
    expect(t.totals.sops).toBeCloseTo(2400, 9);
    expect(t.totals.firingRate).toBeCloseTo(2400 / 16000, 12);
    expect(t.totals.energyPJ).toBeCloseTo(E, 6);
    expect(t.totals.energyUJ).toBeCloseTo(E / 1e6, 12);
    expect(t.totals.energyMJ).toBeCloseTo(E / 1e9, 15);
  });

  it('charges only the run: totals from before are subtracted, repeated profiles agree, forwards sum', () => {
    const m = model();
    m.fc2.profiling = true;
    m.fc2.forward(10_000, 10_000, 100); // before profiling: must not show up
    m.fc2.profiling = false;
    const once = profile(m.root, m.forward);
    const again = profile(m.root, m.forward);
    expect(again.rows).toEqual(once.rows);
    expect(once.rows[2].macs).toBe(8000);
    const twice = profile(m.root, () => {
      m.forward();
      m.forward();
    });
    expect(twice.rows.map((r) => r.macs)).toEqual([9600, 16000, 16000]);
    expect(twice.rows.map((r) => r.firingRate)).toEqual(once.rows.map((r) => r.firingRate));
  });

  it('sets profiling on every module during the run and restores the flags afterwards, also when run throws', () => {
    const m = model();
    m.fc2.profiling = true; // was on: stays on
    const seen: (boolean | undefined)[] = [];
    profile(m.root, () => seen.push(m.conv.profiling, m.fc1.profiling, m.fc2.profiling, m.lif.profiling, m.root.profiling));
    expect(seen).toEqual([true, true, true, true, true]);
    expect([m.conv.profiling, m.fc1.profiling, m.fc2.profiling]).toEqual([false, false, true]);
    expect('profiling' in m.lif || 'profiling' in m.root || 'profiling' in m.block).toBe(false);
    expect(() => profile(m.root, () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect([m.conv.profiling, m.fc1.profiling, m.fc2.profiling, 'profiling' in m.lif]).toEqual([false, false, true, false]);
  });

  it('skips layers that were never profiled, counts a shared module once, handles zero inputs', () => {
    const shared = new ResettingLayer('shared');
    const never: SpikingModule = { name: 'never', cost: () => null };
    const idle = new ResettingLayer('idle');
    const root: SpikingModule = { name: 'root', children: () => [shared, { name: 'b', children: () => [shared, never, idle] }] };
    const t = profile(root, () => shared.forward(64, 16, 2));
    expect(t.rows.map((r) => [r.name, r.macs, r.firingRate])).toEqual([['shared', 128, 0.25], ['idle', 0, 0]]);
    expect(profile({ name: 'empty' }, () => {}).totals).toEqual({ macs: 0, analogMacs: 0, sops: 0, firingRate: null, energyPJ: 0, energyUJ: 0, energyMJ: 0 });
  });

  it('options: custom energy constants and chargeAsMAC (the paper counts integer-input layers as SOPs)', () => {
    const m = model();
    const resid = new ResettingLayer('block.0.q_linear', true); // residual stream input: integers, reported analog
    const root: SpikingModule = { name: 'm', children: () => [m.root, resid] };
    const run = () => {
      m.forward();
      resid.forward(100, 40, 10);
    };
    const byDefault = profile(root, run);
    expect(byDefault.rows[3]).toMatchObject({ charge: 'MAC', firingRate: null, energyPJ: 4.6 * 1000 });
    const paper = profile(root, run, { chargeAsMAC: (r) => r.name === 'patch_embed.proj_conv', energy: { acPJ: 1 } });
    expect(paper.rows[3]).toMatchObject({ analog: true, charge: 'SOP', firingRate: 0.4, sops: 400, energyPJ: 400 });
    expect(paper.energy).toEqual({ macPJ: 4.6, acPJ: 1 });
    expect(() => profile(root, run, { energy: { macPJ: -1 } })).toThrow(/energy.macPJ/);
  });

  it('format() prints an aligned table with totals', () => {
    const m = model();
    const text = profile(m.root, m.forward).format();
    expect(text).toBe([
      'layer                  input     MACs  firing rate   SOPs  energy (µJ)',
      '---------------------  ------  ------  -----------  -----  -----------',
      'patch_embed.proj_conv  analog   4,800            —      —     0.022080',
      'block.0.fc1            spikes   8,000       25.00%  2,000     0.001800',
      'block.0.fc2            spikes   8,000        5.00%    400     0.000360',
      '---------------------  ------  ------  -----------  -----  -----------',
      'total                          20,800       15.00%  2,400     0.024240',
      'energy: 0.000024 mJ (24240.0 pJ)',
    ].join('\n'));
  });

  it('profiles a real Linear on spikes of known density and on analog input', () => {
    const a = core.arena();
    const T = 4, B = 2, K = 96, N = 10;
    const first = new Linear(a, { weight: randomF32(K * K, 1), outFeatures: K, inFeatures: K }, { name: 'first' });
    const fc = new Linear(a, { weight: randomF32(N * K, 2), bias: randomF32(N, 3), outFeatures: N, inFeatures: K }, { name: 'fc' });
    const root: SpikingModule = { name: 'net', children: () => [first, fc] };
    const spikes = SpikeTensor.alloc(a, [T, B, K]).pack(a.from(randomSpikes(T * B * K, 4, 0.2), [T, B, K]));
    const img = a.from(randomF32(B * K, 5), [B, K]);
    const y1 = a.tensor([B, K]), y = a.tensor([T, B, N]);
    const t = profile(root, () => {
      first.forward(img, y1);
      fc.forward(spikes, y);
    });
    const count = spikes.count();
    expect(count).toBeGreaterThan(0);
    expect(t.rows[0]).toMatchObject({ name: 'first', charge: 'MAC', macs: B * K * K, firingRate: null });
    expect(t.rows[0].energyPJ).toBeCloseTo(4.6 * B * K * K, 6);
    expect(t.rows[1]).toMatchObject({ name: 'fc', charge: 'SOP', macs: T * B * K * N, inputs: T * B * K, nonZero: count });
    expect(t.rows[1].firingRate).toBeCloseTo(count / (T * B * K), 12);
    expect(t.rows[1].sops).toBeCloseTo(count * N, 6); // linear: every spike feeds N outputs
    expect(t.rows[1].energyPJ).toBeCloseTo(0.9 * count * N, 6);
    expect(first.profiling).toBe(false);
    a.dispose();
  });
});
