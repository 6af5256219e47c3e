// Analytic multiply-accumulate counts of the models, from their configuration alone (no weights, no input): the
// dense-equivalent MACs of every weight layer (convs, linears, the LMU memory update, the attention products).
// BN, LIF, GELU, pooling and means are not counted.
import { mlpHidden, type LMUFormerConfig, type PsMnistConfig } from '@spikewasm/lmu';
import type { SpikformerConfig } from '@spikewasm/spikformer';

/** MACs of one model: per unit of work (frame, pixel, image) and per inference, with a per-part breakdown. */
export interface MacCount {
  /** What one unit is: a frame (LMUFormer), a pixel step (psMNIST), an image (Spikformer). */
  unit: 'frame' | 'pixel' | 'image';
  perUnit: number;
  /** What one inference is (e.g. "128-frame clip") and its MACs. */
  inference: string;
  perInference: number;
  /** MACs per unit by part (they sum to perUnit). */
  breakdown: Record<string, number>;
  /** How the count was made. */
  note: string;
}

/**
 * LMUFormer (`lmu_rnn_conv1d`, `slmu_rnn_ms_conv1d`) per frame, spec lmuformer.md §2: tokenizer (four k = 3 convs and
 * rpe_conv), per block the LMU (W_u, the memory recurrence d² + d, W_h on [m ; x], the 1×1 proj conv) and the FFN
 * (two 1×1 convs), and the head (a Linear at every frame). At the published size 1,680,640 MAC per frame and
 * 215,121,920 per 128-frame clip (spec: ≈ 1.68 M and ≈ 215 M).
 */
export function lmuformerMacs(c: LMUFormerConfig, spiking: boolean, frames = 128): MacCount {
  const E = c.embed_dims, Cin = c.in_channels, H = mlpHidden(c), d = spiking ? 2 * E : E, K = c.num_classes;
  const tokenizer = 3 * Cin * E + 3 * (3 * E * E) + 3 * E * E;
  const lmu = c.depths * (E + (d * d + d) + (d + E) * E + E * E);
  const ffn = c.depths * 2 * E * H;
  const head = E * K;
  const perUnit = tokenizer + lmu + ffn + head;
  return {
    unit: 'frame', perUnit, inference: `${frames}-frame clip`, perInference: perUnit * frames,
    breakdown: { tokenizer, lmu, ffn, head },
    note: `analytic from the config (spec lmuformer.md §2): convs, linears and the LMU memory recurrence (d² + d per frame, d = ${d}); the FIR stream costs d·min(t+1, 128) per frame instead; BN/LIF/GELU not counted`,
  };
}

/** psMNIST models per pixel step (spec §5): conv1 (non-spiking), W_u, the memory recurrence, W_h; the head once per sequence. */
export function psmnistMacs(c: PsMnistConfig, spiking: boolean): MacCount {
  const x = spiking ? c.input_size : 3, d = c.memory_size, h = c.hidden_size;
  const conv1 = spiking ? 0 : 3;
  const lmu = x + (d * d + d) + (d + x) * h;
  const head = h * c.output_size;
  const perUnit = conv1 + lmu;
  return {
    unit: 'pixel', perUnit, inference: `${c.seq_len}-pixel sequence`, perInference: perUnit * c.seq_len + head,
    breakdown: spiking ? { lmu } : { conv1, lmu },
    note: `analytic from the config (spec lmuformer.md §5): per pixel ${spiking ? '' : 'conv1, '}W_u, the memory recurrence (d² + d, d = ${d}) and W_h; the head (${head.toLocaleString('en-US')} MAC) once per sequence`,
  };
}

/**
 * Spikformer per image (spec spikformer.md §1), summed over the T steps: SPS (conv0 once for a static image, T times
 * for DVS event frames; conv1..3 and rpe_conv every step, at the resolution after the max-pools), per block q/k/v/proj,
 * (Q Kᵀ) V in the official order (2·N²·D) and the MLP, and the head once.
 */
export function spikformerMacs(c: SpikformerConfig, variant: 'cifar' | 'imagenet' | 'dvs'): MacCount {
  const D = c.embed_dims, T = c.T, hid = Math.trunc(D * c.mlp_ratios);
  const widths = [D / 8, D / 4, D / 2, D].map(Math.trunc);
  const pools = variant === 'cifar' ? [false, false, true, true] : [true, true, true, true];
  let h = c.img_size_h, w = c.img_size_w, cin = c.in_channels;
  let conv0 = 0, sps = 0;
  widths.forEach((cout, i) => {
    const m = h * w * cin * cout * 9;
    if (i === 0) conv0 = variant === 'dvs' ? T * m : m;
    else sps += T * m;
    cin = cout;
    if (pools[i]) { h = Math.ceil(h / 2); w = Math.ceil(w / 2); }
  });
  const N = h * w;
  sps += T * N * D * D * 9; // rpe_conv
  const ssa = c.depths * T * (4 * N * D * D + 2 * N * N * D);
  const mlp = c.depths * T * 2 * N * D * hid;
  const head = D * c.num_classes;
  const perUnit = conv0 + sps + ssa + mlp + head;
  return {
    unit: 'image', perUnit, inference: 'image', perInference: perUnit,
    breakdown: { 'sps.conv0': conv0, sps, ssa, mlp, head },
    note: `analytic from the config (spec spikformer.md §1), summed over T = ${T}; dense equivalent, attention as (Q Kᵀ) V; conv0 ${variant === 'dvs' ? 'every step (event frames)' : 'once (static image)'}`,
  };
}
