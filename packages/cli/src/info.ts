// `spikewasm info`: what a checkpoint is — model, config, parameter count, analytic MACs and, for spiking models,
// the SOP / energy estimate of spiking's profile() on an input.
import { basename } from 'node:path';
import { init, parseSafetensors, type SafetensorsFile } from '@spikewasm/core-wasm';
import type { LMUFormerConfig, PsMnistConfig } from '@spikewasm/lmu';
import { Spikformer, type SpikformerConfig } from '@spikewasm/spikformer';
import { profile, ENERGY_45NM_FP32 } from '@spikewasm/spiking';
import { lmuformerMacs, psmnistMacs, spikformerMacs, type MacCount } from './macs.js';
import { MODELS, highlights, inFile, readBytes, readInput, resolveModel, type RunResult, type Supported } from './run.js';

export interface InfoOptions {
  weights: string;
  model?: string;
  config?: string;
  /** Input for the SOP / energy estimate (default: tensor `input` of the weights file, when it has one). */
  input?: string;
}

/** The energy estimate of a spiking model on one input, or why there is none. */
export type EnergyInfo =
  | {
    available: true;
    method: string;
    input: { path: string; shape: number[] };
    macs: number;
    analog_macs: number;
    sops: number;
    firing_rate: number | null;
    energy_uJ: number;
    energy_mJ: number;
    energy_pJ_per: { mac: number; sop: number };
    per_image_mJ: number;
    rows: { name: string; charge: 'MAC' | 'SOP'; macs: number; firing_rate: number | null; sops: number; energy_pJ: number }[];
  }
  | { available: false; reason: string };

export interface InfoResult {
  model: Supported;
  modelClass: string;
  variant: string | null;
  spiking: boolean;
  config: Record<string, unknown>;
  configSource: RunResult['configSource'];
  weights: { path: string; tensors: number; values: number; parameters: number; buffers: number };
  macs: MacCount;
  energy: EnergyInfo;
}

const SPIKING: Record<Supported, boolean> = {
  lmu_rnn_conv1d: false, slmu_rnn_ms_conv1d: true, psmnist_lmu: false, psmnist_slmu: true, spikformer: true,
};

/** Buffers of a state dict (not trainable): BN running statistics and the LMU's fixed Ā, B̄, H. */
const isBuffer = (k: string) => /\.(running_mean|running_var)$/.test(k) || /\.lmu\.(A|B|H)$/.test(k);
/** Not part of the model at all: the fixtures' extra tensors and the entries the loaders ignore. */
const isExtra = (k: string) => k === 'input' || k.startsWith('expected.') || k.endsWith('.num_batches_tracked') || k.endsWith('.fft_H');

/** Tensor, value, parameter and buffer counts of the checkpoint's state dict. */
export function countStateDict(file: SafetensorsFile): { tensors: number; values: number; parameters: number; buffers: number } {
  let tensors = 0, values = 0, parameters = 0, buffers = 0;
  for (const [name, t] of file.tensors) {
    const k = name.replace(/^module\./, '');
    if (isExtra(k)) continue;
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors++;
    values += n;
    if (isBuffer(k)) buffers += n;
    else parameters += n;
  }
  return { tensors, values, parameters, buffers };
}

/**
 * Runs `spikewasm info`: loads the checkpoint (checked like `run`), counts its parameters, computes the MACs from
 * the config and, for Spikformer, profiles one forward on the input.
 */
export async function infoCheckpoint(opts: InfoOptions): Promise<InfoResult> {
  const wBytes = readBytes(opts.weights, 'weights file');
  const file = inFile(opts.weights, () => parseSafetensors(wBytes));
  const { factory, config, configSource } = resolveModel(opts, file);
  const inputFile = opts.input ?? (file.tensors.has('input') ? opts.weights : undefined);
  const input = opts.input !== undefined
    ? readInput(readBytes(opts.input, 'input file'), opts.input, null)
    : inputFile !== undefined ? readInput(wBytes, opts.weights, file) : null;

  const core = await init();
  const arena = core.arena();
  try {
    const ignore = (k: string) => k === 'input' || k.startsWith('expected.');
    const model = inFile(opts.weights, () => MODELS[factory].build(arena, file, config, { ignore }));
    const cfg = { ...model.config } as Record<string, unknown>;
    let macs: MacCount;
    let variant: string | null = null;
    if (model instanceof Spikformer) {
      variant = model.variant;
      macs = spikformerMacs(model.config, model.variant);
    } else if (factory === 'psmnist_lmu' || factory === 'psmnist_slmu') {
      macs = psmnistMacs(cfg as unknown as PsMnistConfig, SPIKING[factory]);
    } else {
      macs = lmuformerMacs(cfg as unknown as LMUFormerConfig, SPIKING[factory]);
    }

    let energy: EnergyInfo;
    if (!SPIKING[factory]) {
      energy = { available: false, reason: `${factory} is not a spiking model (every layer is a MAC)` };
    } else if (!(model instanceof Spikformer)) {
      energy = {
        available: false,
        reason: `${MODELS[factory].className} does not implement spiking's SpikingModule (no module tree with per-layer cost()), so profile() cannot measure its SOPs`,
      };
    } else if (input === null) {
      energy = { available: false, reason: `${basename(opts.weights)} holds no tensor "input": pass --input FILE for the SOP / energy estimate` };
    } else {
      const x = arena.from(input.data, input.shape, 'f32', 'input');
      const table = profile(model, () => { model.forward(x); }, { chargeAsMAC: (r) => r.name === 'patch_embed.proj_conv' });
      const t = table.totals;
      const B = input.shape[0] ?? 1;
      energy = {
        available: true,
        method: "spiking's profile() on one forward, the paper's accounting (patch_embed.proj_conv as MACs at 4.6 pJ, every other layer as SOPs = firing rate × MACs at 0.9 pJ)",
        input: { path: opts.input ?? opts.weights, shape: input.shape },
        macs: t.macs, analog_macs: t.analogMacs, sops: t.sops, firing_rate: t.firingRate,
        energy_uJ: t.energyUJ, energy_mJ: t.energyMJ, energy_pJ_per: { mac: ENERGY_45NM_FP32.macPJ, sop: ENERGY_45NM_FP32.acPJ },
        per_image_mJ: t.energyMJ / B,
        rows: table.rows.map((r) => ({ name: r.name, charge: r.charge, macs: r.macs, firing_rate: r.firingRate, sops: r.sops, energy_pJ: r.energyPJ })),
      };
    }
    return {
      model: factory, modelClass: MODELS[factory].className, variant, spiking: SPIKING[factory], config: cfg, configSource,
      weights: { path: opts.weights, ...countStateDict(file) }, macs, energy,
    };
  } finally {
    arena.dispose();
  }
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mega = (v: number) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : `${(v / 1e6).toFixed(2)} M`);

/** The readable report of `spikewasm info`. */
export function formatInfo(r: InfoResult): string {
  const src = { flag: 'from --config', metadata: 'from the file metadata', published: 'published defaults' }[r.configSource];
  const m = r.macs;
  const lines = [
    `model       ${r.model} (${r.modelClass}${r.variant ? `, variant ${r.variant}` : ''})${r.spiking ? ', spiking' : ''}`,
    `config      ${JSON.stringify(r.config)} [${src}]`,
    `            ${highlights(r)}`,
    `parameters  ${n(r.weights.parameters)} (+ ${n(r.weights.buffers)} buffer values: BN statistics${r.model === 'spikformer' ? '' : ', LMU Ā/B̄/H'}; ${r.weights.tensors} tensors in ${r.weights.path})`,
    `MACs        ${n(m.perUnit)} per ${m.unit} (${mega(m.perUnit)})${m.unit === 'image' ? '' : `, ${n(m.perInference)} per ${m.inference} (${mega(m.perInference)})`}`,
    `            ${Object.entries(m.breakdown).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`,
    `            ${m.note}`,
  ];
  const e = r.energy;
  if (e.available) {
    lines.push(
      `energy      ${e.energy_mJ.toFixed(6)} mJ for input ${JSON.stringify(e.input.shape)} (${(e.per_image_mJ).toFixed(6)} mJ per image): ${n(e.sops)} SOPs (firing rate ${e.firing_rate === null ? '—' : `${(e.firing_rate * 100).toFixed(2)}%`}), ${n(e.analog_macs)} MACs on the first conv; ${n(e.macs)} dense-equivalent MACs measured`,
      `            ${e.method}`,
    );
  } else {
    lines.push(`energy      not available: ${e.reason}`);
  }
  return lines.join('\n');
}

/** The one JSON object of `spikewasm info --json`. */
export function infoJson(r: InfoResult): Record<string, unknown> {
  return {
    command: 'info', model: r.model, model_class: r.modelClass, variant: r.variant, spiking: r.spiking,
    config: r.config, config_source: r.configSource, weights: r.weights,
    macs: { unit: r.macs.unit, per_unit: r.macs.perUnit, inference: r.macs.inference, per_inference: r.macs.perInference, breakdown: r.macs.breakdown, note: r.macs.note },
    energy: r.energy,
  };
}
