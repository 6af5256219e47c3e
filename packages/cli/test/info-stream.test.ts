// `spikewasm info` and `spikewasm stream` end to end: the built CLI (dist/cli.js) on the shared fixtures, on
// published-size checkpoints written from expectedStateDict, and on WAV files (good and bad).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSafetensors, type TensorToWrite } from '@spikewasm/core-wasm';
import { expectedStateDict, fbankFrameCount, readWav, scv2Config } from '@spikewasm/lmu';
import { lmuformerMacs } from '../src/macs.js';
import { FIXTURES, lines, readSafetensors, requireBuilt, run, type Result } from './helpers.js';

const fx = (name: string) => join(FIXTURES, `${name}.safetensors`);
const WAV = join(FIXTURES, 'audio', 'main_yes_1000ms.wav');
const SHORT_WAV = join(FIXTURES, 'audio', 'short_no_600ms.wav');
let tmp: string;
const at = (name: string) => join(tmp, name);

beforeAll(() => {
  requireBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'spikewasm-cli-is-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function expectOneLineError(r: Result, pattern: RegExp, code?: number): void {
  expect(r.code, r.stderr).not.toBe(0);
  if (code !== undefined) expect(r.code).toBe(code);
  const l = lines(r.stderr);
  expect(l, r.stderr).toHaveLength(1);
  expect(l[0]).toMatch(/^spikewasm: /);
  expect(l[0]).not.toMatch(/^\s+at |internal error/);
  expect(l[0]).toMatch(pattern);
}

/** Deterministic pseudo-random numbers in [-1, 1). */
function rand(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A checkpoint of the given factory/config from expectedStateDict: zeros (or random) weights, BN var 1. */
function stateDictFile(factory: 'lmu_rnn_conv1d' | 'slmu_rnn_ms_conv1d', config: object, name: string): string {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, shape] of expectedStateDict(factory, config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors[k] = { shape: [...shape], dtype: 'F32', data: k.endsWith('running_var') ? new Float32Array(n).fill(1) : new Float32Array(n) };
  }
  const path = at(name);
  writeFileSync(path, serializeSafetensors(tensors, { factory, config: JSON.stringify(config) }));
  return path;
}

/** The spiking fixture with in_channels 128: proj_conv replaced by random [E, 128, 3] weights (the rest is trained-like). */
function spiking128(): string {
  const f = readSafetensors(fx('lmuformer_spiking_small'));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, t] of f.tensors) if (k !== 'input' && !k.startsWith('expected.')) tensors[k] = t;
  const E = 32;
  tensors['patch_embed.proj_conv.weight'] = { shape: [E, 128, 3], dtype: 'F32', data: rand(E * 128 * 3, 7, 0.15) };
  const config = { ...JSON.parse(f.metadata.config), in_channels: 128 };
  const path = at('spiking128.safetensors');
  writeFileSync(path, serializeSafetensors(tensors, { factory: 'slmu_rnn_ms_conv1d', config: JSON.stringify(config) }));
  return path;
}

/** A PCM WAV with arbitrary header fields. */
function wavBytes({ rate = 16000, channels = 1, bits = 16, samples = 16000 }: { rate?: number; channels?: number; bits?: number; samples?: number }): Uint8Array {
  const block = channels * (bits / 8);
  const dataSize = samples * block;
  const b = new Uint8Array(44 + dataSize);
  const v = new DataView(b.buffer);
  const s = (o: number, t: string) => [...t].forEach((c, i) => { b[o + i] = c.charCodeAt(0); });
  s(0, 'RIFF'); v.setUint32(4, 36 + dataSize, true); s(8, 'WAVE'); s(12, 'fmt ');
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, channels, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * block, true); v.setUint16(32, block, true); v.setUint16(34, bits, true);
  s(36, 'data'); v.setUint32(40, dataSize, true);
  return b;
}

describe('spikewasm info', () => {
  it('LMUFormer fixture: model, config, parameters, MACs per frame and clip; energy not available', async () => {
    const r = await run(['info', fx('lmuformer_nonspiking_small'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ command: 'info', model: 'lmu_rnn_conv1d', model_class: 'LMUFormer', spiking: false, config_source: 'metadata' });
    expect(j.config.embed_dims).toBe(32);
    expect(j.macs.unit).toBe('frame');
    expect(j.macs.per_inference).toBe(128 * j.macs.per_unit);
    expect(Object.values(j.macs.breakdown as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(j.macs.per_unit);
    expect(j.energy.available).toBe(false);
    // parameters + buffers = every state-dict value of the file
    const f = readSafetensors(fx('lmuformer_nonspiking_small'));
    let all = 0;
    for (const [k, t] of f.tensors) if (k !== 'input' && !k.startsWith('expected.')) all += t.shape.reduce((a, b) => a * b, 1);
    expect(j.weights.parameters + j.weights.buffers).toBe(all);
  });

  it('published SCv2 sizes: 1,621,796 / 1,689,894 parameters, 1,680,640 MAC per frame (spec §2: ≈1.68 M, ≈215 M per clip)', async () => {
    expect(lmuformerMacs(scv2Config(), false).perUnit).toBe(884_736 + 262_656 + 524_288 + 8_960);
    const plain = await run(['info', stateDictFile('lmu_rnn_conv1d', scv2Config(), 'scv2.safetensors'), '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const p = JSON.parse(plain.stdout);
    expect(p.weights.parameters).toBe(1_621_796);
    expect(p.macs.breakdown).toEqual({ tokenizer: 884_736, lmu: 262_656, ffn: 524_288, head: 8_960 });
    expect(p.macs.per_unit).toBe(1_680_640);
    expect(p.macs.per_inference).toBe(215_121_920);
    const spk = await run(['info', stateDictFile('slmu_rnn_ms_conv1d', scv2Config(), 'scv2s.safetensors')]);
    expect(spk.code, spk.stderr).toBe(0);
    expect(spk.stdout).toMatch(/parameters {2}1,689,894 /);
    expect(spk.stdout).toMatch(/MACs {8}[\d,]+ per frame/);
    expect(spk.stdout).toMatch(/energy {6}not available: SpikingLMUFormer does not implement spiking's SpikingModule/);
  });

  it('Spikformer: MACs per image and the profile() SOP / energy estimate on the file input', async () => {
    for (const name of ['spikformer_tiny', 'spikformer_small']) {
      const r = await run(['info', fx(name), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ model: 'spikformer', model_class: 'Spikformer', variant: 'cifar', spiking: true });
      expect(j.macs.unit).toBe('image');
      expect(j.energy.available).toBe(true);
      const B = j.energy.input.shape[0];
      // the measured dense-equivalent MACs of profile() equal the analytic count (attention in the (Q Kᵀ) V order)
      // up to the association order the model picks for the attention
      expect(j.energy.macs / B).toBeGreaterThan(0.95 * j.macs.per_unit);
      expect(j.energy.macs / B).toBeLessThanOrEqual(1.0001 * j.macs.per_unit);
      expect(j.energy.sops).toBeGreaterThan(0);
      expect(j.energy.firing_rate).toBeGreaterThan(0);
      expect(j.energy.firing_rate).toBeLessThan(1);
      expect(j.energy.energy_mJ).toBeCloseTo((4.6 * j.energy.analog_macs + 0.9 * j.energy.sops) / 1e9, 12);
    }
    const text = await run(['info', fx('spikformer_tiny')]);
    expect(text.stdout).toMatch(/^model {7}spikformer \(Spikformer, variant cifar\), spiking$/m);
    expect(text.stdout).toMatch(/^energy {6}[\d.]+ mJ for input \[1,3,16,16\]/m);
  });

  it('Spikformer without an input: energy clearly not available', async () => {
    const f = readSafetensors(fx('spikformer_tiny'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const [k, t] of f.tensors) if (k !== 'input' && !k.startsWith('expected.')) tensors[k] = t;
    const path = at('sf_noinput.safetensors');
    writeFileSync(path, serializeSafetensors(tensors, f.metadata));
    const r = await run(['info', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/energy {6}not available: .*pass --input/);
    const withInput = await run(['info', path, '--input', fx('spikformer_tiny'), '--json']);
    expect(JSON.parse(withInput.stdout).energy.available).toBe(true);
  });

  it('bad command lines and files: one-line errors', async () => {
    expectOneLineError(await run(['info']), /info: missing WEIGHTS/, 2);
    expectOneLineError(await run(['info', 'a', 'b']), /unexpected argument "b"/, 2);
    expectOneLineError(await run(['info', fx('spikformer_tiny'), '--bogus']), /unknown option '--bogus'/, 2);
    expectOneLineError(await run(['info', at('nope.safetensors')]), /cannot read weights file .*no such file/, 1);
    expectOneLineError(await run(['info', fx('lmuformer_spiking_small'), '--model', 'lmu_rnn_conv1d']), /CheckpointError/, 1);
    const help = await run(['info', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: spikewasm info/);
  });
});

describe('spikewasm stream', () => {
  it('LMUFormer --input: one line per 10 frames and a final line; final top = `run` top', async () => {
    for (const name of ['lmuformer_nonspiking_small', 'lmuformer_spiking_small']) {
      const r = await run(['stream', fx(name), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const ev = lines(r.stdout).map((l) => JSON.parse(l));
      expect(ev[0]).toMatchObject({ event: 'start', batch: 2, unit: 'frame', lookahead: 5 });
      const ups = ev.slice(1);
      expect(ups.map((u) => u.frame)).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99, 109, 119, 127]);
      expect(ups.map((u) => u.final)).toEqual([...Array(12).fill(false), true]);
      expect(ups.at(-1).pushed).toBe(128);
      // frames pushed when the output came: frame + 1 + the 5-frame look-ahead (before the flush)
      expect(ups.slice(0, -1).map((u) => u.pushed)).toEqual(ups.slice(0, -1).map((u) => Math.min(128, u.frame + 6)));
      const ref = JSON.parse((await run(['run', fx(name), '--json'])).stdout);
      ups.at(-1).top.forEach((t: { class: number; prob: number }, b: number) => {
        expect(t.class).toBe(ref.top[b][0].class);
        expect(Math.abs(t.prob - ref.top[b][0].prob)).toBeLessThan(1e-4);
      });
    }
    const text = await run(['stream', fx('lmuformer_spiking_small'), '--every', '50']);
    const l = lines(text.stdout);
    expect(l).toHaveLength(4);
    expect(l[0]).toMatch(/^stream {2}slmu_rnn_ms_conv1d \(SpikingLMUFormer\), batch 2, tensor \[2, 128, 16\]/);
    expect(l[1]).toMatch(/^ {6}frame {3}49 {2}\[0\] class +\d+ p 0\.\d{3} \(logit -?[\d.]+\) {3}\[1\] class/);
    expect(l[3]).toMatch(/^final frame {2}127 /);
  });

  it('psMNIST: pixels one per step, the final prediction equals `run`', async () => {
    for (const name of ['lmuformer_psmnist_nonspiking_small', 'lmuformer_psmnist_spiking_small']) {
      const r = await run(['stream', fx(name), '--json', '--every', '32']);
      expect(r.code, r.stderr).toBe(0);
      const ev = lines(r.stdout).map((l) => JSON.parse(l));
      expect(ev[0]).toMatchObject({ unit: 'pixel', lookahead: 0 });
      expect(ev.slice(1).map((u) => u.pixel)).toEqual([31, 63, 95]);
      expect(ev.slice(1).map((u) => u.pushed)).toEqual([32, 64, 96]);
      const ref = JSON.parse((await run(['run', fx(name), '--json'])).stdout);
      ev.at(-1).top.forEach((t: { class: number; logit: number }, b: number) => {
        expect(t.class).toBe(ref.top[b][0].class);
        expect(t.logit).toBeCloseTo(ref.top[b][0].logit, 5);
      });
    }
  });

  it('WAV through FbankStream features on an in_channels-128 model', async () => {
    const w = spiking128();
    const samples = readWav(readFileSync(WAV)).samples.length;
    const frames = fbankFrameCount(samples);
    const r = await run(['stream', w, '--wav', WAV, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ev = lines(r.stdout).map((l) => JSON.parse(l));
    expect(ev[0]).toMatchObject({ event: 'start', batch: 1, source: { kind: 'wav', samples } });
    expect(ev.at(-1)).toMatchObject({ final: true, frame: frames - 1, pushed: frames });
    expect(ev.length).toBe(1 + Math.floor((frames - 1) / 10) + 1 - (frames % 10 === 0 ? 1 : 0));
    for (const u of ev.slice(1)) {
      expect(u.top).toHaveLength(1);
      expect(u.top[0].prob).toBeGreaterThan(0);
    }
    // a 0.6 s clip: fewer than 128 frames, streamed as is (no padding), flushed at the end
    const short = await run(['stream', w, '--wav', SHORT_WAV]);
    expect(short.code, short.stderr).toBe(0);
    expect(lines(short.stdout).at(-1)).toMatch(/^final frame +\d+ [\d.]+s {2}class +\d+ p 0\.\d{3}/);
  });

  it('WAV errors: wrong rate, stereo, 8-bit, not a WAV, in_channels mismatch, wrong model', async () => {
    const w = spiking128();
    const write = (name: string, b: Uint8Array) => { writeFileSync(at(name), b); return at(name); };
    expectOneLineError(await run(['stream', w, '--wav', write('44k.wav', wavBytes({ rate: 44100 }))]), /44k\.wav: sample rate 44100 Hz; .*16000 Hz mono 16-bit/, 1);
    expectOneLineError(await run(['stream', w, '--wav', write('st.wav', wavBytes({ channels: 2 }))]), /st\.wav: .*(channel|mono)/i, 1);
    expectOneLineError(await run(['stream', w, '--wav', write('8b.wav', wavBytes({ bits: 8 }))]), /8b\.wav: 8 bits per sample/, 1);
    expectOneLineError(await run(['stream', w, '--wav', write('x.wav', new TextEncoder().encode('hello, not a wav file'))]), /x\.wav: .*RIFF/, 1);
    expectOneLineError(await run(['stream', w, '--wav', write('tiny.wav', wavBytes({ samples: 100 }))]), /tiny\.wav: too short/, 1);
    expectOneLineError(await run(['stream', fx('lmuformer_spiking_small'), '--wav', WAV]), /--wav makes 128 mel bins .* in_channels 16/, 1);
    expectOneLineError(await run(['stream', fx('lmuformer_psmnist_spiking_small'), '--wav', WAV]), /--wav needs an LMUFormer/, 2);
    expectOneLineError(await run(['stream', w, '--wav', at('missing.wav')]), /cannot read WAV file/, 1);
  });

  it('bad inputs (docs/input-validation.md): one line, non-zero exit, nothing half-printed on stderr', async () => {
    const S = fx('lmuformer_spiking_small'), P = fx('lmuformer_psmnist_spiking_small');
    const tensorFile = (name: string, shape: number[], data: Float32Array | Float64Array, dtype: 'F32' | 'F64' = 'F32') => {
      writeFileSync(at(name), serializeSafetensors({ input: { shape, data, dtype } }));
      return at(name);
    };
    const nan = new Float32Array(2 * 128 * 16); nan[40] = NaN;
    expectOneLineError(await run(['stream', S, '--input', tensorFile('nan.safetensors', [2, 128, 16], nan)]), /SafetensorsNonFiniteError: nan\.safetensors: tensor "input": F32 element 40/, 1);
    const big = new Float64Array(2 * 96); big[5] = 1e40;
    expectOneLineError(await run(['stream', P, '--input', tensorFile('big.safetensors', [2, 96, 1], big, 'F64')]), /DTypeError: big\.safetensors: tensor "input" \(F64\) element 5 .* outside the float32 range/, 1);
    expectOneLineError(await run(['stream', S, '--input', tensorFile('rank2.safetensors', [128, 16], new Float32Array(2048))]), /ShapeError: stream: input expected \[B, N, C\].*got \[128, 16\]/, 1);
    expectOneLineError(await run(['stream', S, '--input', tensorFile('b0.safetensors', [0, 128, 16], new Float32Array(0))]), /ArgumentError: .*batch size must be a positive integer, got 0/, 1);
    expectOneLineError(await run(['stream', S, '--input', tmp]), /cannot read input file .*it is a directory/, 1);
    expectOneLineError(await run(['stream', spiking128(), '--wav', '/dev/zero']), /cannot read WAV file "\/dev\/zero": not a regular file/, 1);
    writeFileSync(at('empty.wav'), '');
    expectOneLineError(await run(['stream', spiking128(), '--wav', at('empty.wav')]), /empty\.wav: .*shorter than a RIFF\/WAVE header/, 1);
    writeFileSync(at('empty.safetensors'), '');
    expectOneLineError(await run(['stream', at('empty.safetensors')]), /SafetensorsHeaderLengthError: empty\.safetensors/, 1);
  });

  it('other errors: spikformer, both sources, bad --every, wrong channels', async () => {
    expectOneLineError(await run(['stream', fx('spikformer_tiny')]), /spikformer has no streaming form/, 1);
    expectOneLineError(await run(['stream', fx('lmuformer_spiking_small'), '--wav', WAV, '--input', fx('lmuformer_spiking_small')]), /--wav or --input, not both/, 2);
    expectOneLineError(await run(['stream', fx('lmuformer_spiking_small'), '--every', '0']), /--every must be a positive integer/, 2);
    expectOneLineError(await run(['stream', fx('lmuformer_spiking_small'), '--every', '2x']), /--every must be a positive integer/, 2);
    expectOneLineError(await run(['stream', spiking128(), '--input', fx('lmuformer_spiking_small')]), /\[2, 128, 16\] has 16 channels per frame; .* takes 128/, 1);
    expectOneLineError(await run(['stream']), /stream: missing WEIGHTS/, 2);
    const help = await run(['help', 'stream']);
    expect(help.stdout).toMatch(/^Usage: spikewasm stream/);
  });
});
