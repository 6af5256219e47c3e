// `spikewasm run` end to end: the built CLI (dist/cli.js) is spawned on the LMUFormer fixtures of shared/fixtures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { serializeSafetensors, type TensorToWrite } from '@spikewasm/core-wasm';
import { CLI, FIXTURES, REPO, compare, lines, npyBytes, readSafetensors, requireBuilt, run, type Result } from './helpers.js';

const MODEL_FIXTURES = [
  ['lmuformer_nonspiking_small', 'lmu_rnn_conv1d', [2, 35]],
  ['lmuformer_spiking_small', 'slmu_rnn_ms_conv1d', [2, 35]],
  ['lmuformer_psmnist_nonspiking_small', 'psmnist_lmu', [2, 10]],
  ['lmuformer_psmnist_spiking_small', 'psmnist_slmu', [2, 10]],
] as const;

const fx = (name: string) => join(FIXTURES, `${name}.safetensors`);
const NONSPIKING = fx('lmuformer_nonspiking_small');
let tmp: string;
const at = (name: string) => join(tmp, name);

beforeAll(() => {
  requireBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'spikewasm-cli-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fixture's tensors with some removed / renamed, and new metadata, written to the temp dir. */
function variant(src: string, name: string, { metadata, keep = () => true, rename = (k) => k, extra = {} }: {
  metadata?: Record<string, string>; keep?: (k: string) => boolean; rename?: (k: string) => string; extra?: Record<string, TensorToWrite>;
}): string {
  const f = readSafetensors(src);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, t] of f.tensors) if (keep(k)) tensors[rename(k)] = t;
  Object.assign(tensors, extra);
  const path = at(name);
  writeFileSync(path, serializeSafetensors(tensors, metadata ?? f.metadata));
  return path;
}

/** A safetensors file holding only `input` (the non-spiking fixture's, or zeros of `shape`), edited by `edit`. */
function inputFile(name: string, edit?: (d: Float32Array) => void, shape?: number[]): string {
  const t = readSafetensors(NONSPIKING).tensors.get('input')!;
  const data = shape ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : Float32Array.from(t.data as Float32Array);
  edit?.(data);
  const path = at(name);
  writeFileSync(path, serializeSafetensors({ input: { shape: shape ?? [...t.shape], data, dtype: 'F32' } }));
  return path;
}

/** The input tensor of a fixture as a .npy file of the given dtype. */
function npyOfInput(src: string, descr: '<f4' | '<f8', name: string, opts: Parameters<typeof npyBytes>[3] = {}): string {
  const t = readSafetensors(src).tensors.get('input')!;
  const data = descr === '<f4' ? (t.data as Float32Array) : Float64Array.from(t.data as Float32Array);
  const path = at(name);
  writeFileSync(path, npyBytes(descr, t.shape, data, opts));
  return path;
}

/** A failure as the contract wants it: exit ≠ 0, nothing on stdout, exactly one line on stderr, no stack trace. */
function expectOneLineError(r: Result, pattern: RegExp, code?: number): void {
  expect(r.code, r.stderr).not.toBe(0);
  if (code !== undefined) expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  const l = lines(r.stderr);
  expect(l, r.stderr).toHaveLength(1);
  expect(l[0]).toMatch(/^spikewasm: /);
  expect(l[0]).not.toMatch(/\n|^\s+at |internal error/);
  expect(l[0]).toMatch(pattern);
}

describe('spikewasm run on the LMUFormer fixtures', () => {
  for (const [name, factory, shape] of MODEL_FIXTURES) {
    it(`${name}: logits match expected.logits at the README tolerance`, async () => {
      const out = at(`${name}.out.safetensors`);
      const r = await run(['run', fx(name), '--output', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(factory);
      expect(r.stdout).toMatch(/top-3/);
      expect(r.stdout).toMatch(/\[1\] class/);
      const got = readSafetensors(out);
      expect([...got.tensors.keys()]).toEqual(['logits']);
      const logits = got.tensors.get('logits')!;
      expect(logits.dtype).toBe('F32');
      expect(logits.shape).toEqual(shape);
      const want = readSafetensors(fx(name)).tensors.get('expected.logits')!;
      const { err, tol } = compare(logits.data as Float32Array, want.data as Float32Array);
      console.log(`${name}: max|err| ${err.toExponential(2)} (tol ${tol.toExponential(1)})`);
      expect(err).toBeLessThanOrEqual(tol);
    });
  }

  it('--json prints exactly one JSON object whose logits equal the written ones', async () => {
    const out = at('json.out.safetensors');
    const r = await run(['run', fx('lmuformer_spiking_small'), '--json', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const j = JSON.parse(r.stdout) as {
      model: string; config: Record<string, unknown>; input: { shape: number[] }; logits: { shape: number[]; data: number[][] };
      top: { class: number; logit: number; prob: number }[][]; output: string; time_ms: Record<string, number>;
    };
    expect(j.model).toBe('slmu_rnn_ms_conv1d');
    expect(j.config.embed_dims).toBe(32);
    expect(j.input.shape).toEqual([2, 128, 16]);
    expect(j.logits.shape).toEqual([2, 35]);
    expect(j.output).toBe(out);
    expect(j.time_ms.total).toBeGreaterThan(0);
    const written = readSafetensors(out).tensors.get('logits')!.data as Float32Array;
    expect(Float32Array.from(j.logits.data.flat())).toEqual(written);
    expect(j.top).toHaveLength(2);
    for (const [b, row] of j.top.entries()) {
      expect(row).toHaveLength(3);
      const best = Math.max(...j.logits.data[b]);
      expect(row[0].logit).toBe(best);
      expect(row[0].class).toBe(j.logits.data[b].indexOf(best));
      expect(row[0].logit).toBeGreaterThanOrEqual(row[1].logit);
      expect(row[1].logit).toBeGreaterThanOrEqual(row[2].logit);
      expect(row[0].prob).toBeGreaterThan(0);
      expect(row[0].prob).toBeLessThan(1);
    }
  });

  it('.npy input (f4 v1, f4 v2, f8) gives the logits of the built-in input', async () => {
    const ref = at('ref.safetensors');
    expect((await run(['run', NONSPIKING, '--output', ref])).code).toBe(0);
    const want = readSafetensors(ref).tensors.get('logits')!.data as Float32Array;
    const cases = [
      npyOfInput(NONSPIKING, '<f4', 'in_f4.npy'),
      npyOfInput(NONSPIKING, '<f4', 'in_f4_v2.npy', { version: 2 }),
      npyOfInput(NONSPIKING, '<f8', 'in_f8.npy'),
    ];
    for (const input of cases) {
      const out = `${input}.out.safetensors`;
      const r = await run(['run', NONSPIKING, '--input', input, '--output', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).input).toMatchObject({ format: 'npy', shape: [2, 128, 16] });
      // f8 holds the f32 values exactly, so every case is bit-identical
      expect(readSafetensors(out).tensors.get('logits')!.data).toEqual(want);
    }
  });

  it('an input in another safetensors file is used instead of the weights file’s', async () => {
    const input = variant(fx('lmuformer_psmnist_spiking_small'), 'input_only.safetensors', { keep: (k) => k === 'input', metadata: {} });
    const out = at('other_input.out.safetensors');
    const r = await run(['run', fx('lmuformer_psmnist_spiking_small'), '--input', input, '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    const want = readSafetensors(fx('lmuformer_psmnist_spiking_small')).tensors.get('expected.logits')!.data as Float32Array;
    const { err, tol } = compare(readSafetensors(out).tensors.get('logits')!.data as Float32Array, want);
    expect(err).toBeLessThanOrEqual(tol);
  });

  it('an official-style checkpoint (module. prefix, num_batches_tracked, no metadata) runs with --model and --config', async () => {
    const src = fx('lmuformer_spiking_small');
    const meta = readSafetensors(src).metadata;
    const weights = variant(src, 'official.safetensors', {
      metadata: {},
      keep: (k) => k !== 'input' && !k.startsWith('expected.'),
      rename: (k) => `module.${k}`,
      extra: { 'module.head_bn.num_batches_tracked': { shape: [], data: new BigInt64Array([7n]) } },
    });
    const config = at('config.json');
    writeFileSync(config, meta.config);
    const input = npyOfInput(src, '<f4', 'official_in.npy');
    const out = at('official.out.safetensors');
    const r = await run(['run', weights, '-m', 'slmu_rnn_ms_conv1d', '-c', config, '-i', input, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('from --config');
    const want = readSafetensors(src).tensors.get('expected.logits')!.data as Float32Array;
    const { err, tol } = compare(readSafetensors(out).tensors.get('logits')!.data as Float32Array, want);
    expect(err).toBeLessThanOrEqual(tol);
  });

  it('test_mode all_seq (from --config) gives [128, B, classes]; the last frame equals the normal logits (linear head)', async () => {
    const cfg = { ...JSON.parse(readSafetensors(NONSPIKING).metadata.config), test_mode: 'all_seq' };
    const config = at('all_seq.json');
    writeFileSync(config, JSON.stringify(cfg));
    const r = await run(['run', NONSPIKING, '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { logits: { shape: number[]; data: number[][][] } };
    expect(j.logits.shape).toEqual([128, 2, 35]);
    const want = readSafetensors(NONSPIKING).tensors.get('expected.logits')!.data as Float32Array;
    const { err, tol } = compare(Float32Array.from(j.logits.data[127].flat()), want);
    expect(err).toBeLessThanOrEqual(tol);
  });

  for (const name of ['lmuformer_nonspiking_small', 'lmuformer_spiking_small'] as const) {
    it(`--stream on ${name}: [128, B, classes] frame by frame, equal to the parallel all_seq output; last row = expected.logits`, async () => {
      const cfg = { ...JSON.parse(readSafetensors(fx(name)).metadata.config), test_mode: 'all_seq' };
      const config = at(`${name}.all_seq.json`);
      writeFileSync(config, JSON.stringify(cfg));
      const par = at(`${name}.par.safetensors`), str = at(`${name}.str.safetensors`);
      const a = await run(['run', fx(name), '--config', config, '--output', par]);
      const b = await run(['run', fx(name), '--stream', '--output', str]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const p = readSafetensors(par).tensors.get('logits')!, q = readSafetensors(str).tensors.get('logits')!;
      expect(q.shape).toEqual(p.shape);
      expect(q.shape.slice(0, 2)).toEqual([128, 2]);
      // the stepper runs the FIR memory, the parallel default the FFT: equal within float32 rounding
      const { err, tol } = compare(q.data as Float32Array, p.data as Float32Array);
      expect(err).toBeLessThanOrEqual(tol);
      const want = readSafetensors(fx(name)).tensors.get('expected.logits')!.data as Float32Array;
      const last = (q.data as Float32Array).subarray(127 * 2 * want.length / 2);
      const c = compare(last, want);
      expect(c.err).toBeLessThanOrEqual(c.tol);
    });
  }
});

describe('spikewasm run on the Spikformer fixtures', () => {
  for (const [name, shape] of [['spikformer_tiny', [1, 10]], ['spikformer_small', [2, 10]]] as const) {
    it(`${name}: logits match expected.logits at the README tolerance`, async () => {
      const out = at(`${name}.out.safetensors`);
      const r = await run(['run', fx(name), '--output', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^model    spikformer \(Spikformer\): embed_dims \d+, num_heads \d+, depths \d+, mlp_ratios 4, T 4, img_size_h 16, img_size_w 16, in_channels 3, num_classes 10 \[config from the file metadata\]/);
      expect(r.stdout).toMatch(/top-3/);
      const logits = readSafetensors(out).tensors.get('logits')!;
      expect(logits.shape).toEqual(shape);
      const want = readSafetensors(fx(name)).tensors.get('expected.logits')!.data as Float32Array;
      const { err, tol } = compare(logits.data as Float32Array, want);
      console.log(`${name}: max|err| ${err.toExponential(2)} (tol ${tol.toExponential(1)})`);
      expect(err).toBeLessThanOrEqual(tol);
    });
  }

  it('an official-style checkpoint (module. prefix, num_batches_tracked, unused norm1/norm2, no metadata) runs with --model, --config and a .npy input', async () => {
    const src = fx('spikformer_small');
    const meta = readSafetensors(src).metadata;
    const weights = variant(src, 'sf_official.safetensors', {
      metadata: {},
      keep: (k) => k !== 'input' && !k.startsWith('expected.'),
      rename: (k) => `module.${k}`,
      extra: { 'module.patch_embed.proj_bn.num_batches_tracked': { shape: [], data: new BigInt64Array([7n]) } },
    });
    const config = at('sf_config.json');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(meta.config), qk_scale: null }));
    const input = npyOfInput(src, '<f4', 'sf_in.npy');
    const out = at('sf_official.out.safetensors');
    const r = await run(['run', weights, '-m', 'spikformer', '-c', config, '-i', input, '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { model: string; model_class: string; config: Record<string, unknown>; config_source: string; weights: { tensors: number; values: number }; input: { shape: number[] } };
    expect(j).toMatchObject({ model: 'spikformer', model_class: 'Spikformer', config_source: 'flag', input: { shape: [2, 3, 16, 16] } });
    expect(j.config).toMatchObject({ embed_dims: 64, num_heads: 2, depths: 2, T: 4, qk_scale: null });
    expect(j.weights.tensors).toBe(108); // 107 state-dict tensors + num_batches_tracked
    const want = readSafetensors(src).tensors.get('expected.logits')!.data as Float32Array;
    const { err, tol } = compare(readSafetensors(out).tensors.get('logits')!.data as Float32Array, want);
    expect(err).toBeLessThanOrEqual(tol);
  });
});

describe('spikewasm usage and the commands that are not there yet', () => {
  it('--help and run --help print the usage and exit 0', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: spikewasm <command>/);
    expect(top.stdout).toContain('run WEIGHTS.safetensors');
    const sub = await run(['run', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^Usage: spikewasm run WEIGHTS\.safetensors/);
    for (const flag of ['--input', '--model', '--config', '--output', '--json', '--stream']) expect(sub.stdout).toContain(flag);
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it('the bin is linked in node_modules/.bin and runs through npx --no-install', async () => {
    const link = join(REPO, 'node_modules/.bin/spikewasm');
    expect(existsSync(link)).toBe(true);
    expect(resolve(dirname(link), readlinkSync(link))).toBe(resolve(REPO, 'node_modules/@spikewasm/cli/dist/cli.js'));
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const r = await run(['--help'], { cmd: 'npx', prefix: ['--no-install', 'spikewasm'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: spikewasm/);
  });
});

describe('spikewasm run: every bad input is one line on stderr and a non-zero exit', () => {
  // [what, args (or a function making them), expected message, exit code]
  const cases: [string, () => string[], RegExp, number?][] = [
    ['no command', () => [], /missing command/, 2],
    ['unknown command', () => ['frobnicate'], /unknown command "frobnicate"/, 2],
    ['unknown top-level flag', () => ['--frob'], /unknown option '--frob'/, 2],
    ['unknown flag of run', () => ['run', NONSPIKING, '--frob'], /unknown option '--frob'/, 2],
    ['unknown short flag', () => ['run', NONSPIKING, '-x'], /unknown option '-x'/, 2],
    ['flag without its value', () => ['run', NONSPIKING, '--output'], /--output <value>' argument missing/, 2],
    ['boolean flag with a value', () => ['run', NONSPIKING, '--json=yes'], /does not take an argument/, 2],
    ['empty value', () => ['run', NONSPIKING, '--input='], /--input needs a non-empty value/, 2],
    ['missing weights argument', () => ['run'], /missing WEIGHTS/, 2],
    ['two weights arguments', () => ['run', NONSPIKING, NONSPIKING], /unexpected argument/, 2],
    ['missing weights file', () => ['run', at('nope.safetensors')], /cannot read weights file .*no such file/, 1],
    ['weights path is a directory', () => ['run', tmp], /cannot read weights file .*directory/, 1],
    ['missing input file', () => ['run', NONSPIKING, '--input', at('nope.npy')], /cannot read input file .*no such file/, 1],
    ['missing config file', () => ['run', NONSPIKING, '--config', at('nope.json')], /cannot read config file/, 1],
    ['garbage weights', () => { writeFileSync(at('garbage.safetensors'), 'not a safetensors file at all'); return ['run', at('garbage.safetensors')]; }, /SafetensorsHeaderLengthError: garbage\.safetensors: /],
    ['truncated weights', () => {
      const b = readFileSync(NONSPIKING);
      writeFileSync(at('truncated.safetensors'), b.subarray(0, b.length - 100));
      return ['run', at('truncated.safetensors')];
    }, /Safetensors\w*Error: truncated\.safetensors: /],
    ['header that is not JSON', () => {
      const h = Buffer.from('{"a": nope}     ');
      const b = Buffer.alloc(8 + h.length); b.writeBigUInt64LE(BigInt(h.length)); h.copy(b, 8);
      writeFileSync(at('badheader.safetensors'), b);
      return ['run', at('badheader.safetensors')];
    }, /SafetensorsHeaderError/],
    ['unknown factory in the metadata', () => ['run', variant(NONSPIKING, 'unknown_factory.safetensors', { metadata: { factory: 'resnet50', config: '{}' } })], /unknown model "resnet50"/],
    ['unknown --model', () => ['run', NONSPIKING, '--model', 'resnet50'], /unknown model "resnet50"/],
    ['Spikformer checkpoint with a missing and an extra key', () => ['run', variant(fx('spikformer_tiny'), 'sf_bad.safetensors', { keep: (k) => k !== 'head.bias', extra: { 'block.1.attn.q_linear.weight': { shape: [32, 32], data: new Float32Array(1024) } } })], /CheckpointError: .*checkpoint does not fit Spikformer \(cifar\).*1 missing, 1 unexpected.*missing +head\.bias \[10\].*unexpected +block\.1\.attn\.q_linear\.weight/],
    ['LMUFormer checkpoint run as --model spikformer', () => ['run', NONSPIKING, '--model', 'spikformer'], /CheckpointError: .*checkpoint does not fit Spikformer/],
    ['Spikformer input of the wrong shape', () => ['run', fx('spikformer_tiny'), '--input', NONSPIKING], /ShapeError: Spikformer: input expected f32 \[B, 3, 16, 16\], got f32 \[2, 128, 16\]/],
    ['Spikformer config with qk_scale of the wrong type', () => { writeFileSync(at('qk.json'), '{"qk_scale": "0.125"}'); return ['run', fx('spikformer_tiny'), '--config', at('qk.json')]; }, /qk_scale must be a number or null/],
    ['no metadata and no --model', () => ['run', variant(NONSPIKING, 'nometa.safetensors', { metadata: {} })], /no "factory" metadata: pass --model/, 2],
    ['--stream on a Spikformer (no streaming stepper)', () => ['run', fx('spikformer_tiny'), '--stream'], /--stream is not supported for spikformer/, 1],
    ['config file that is not JSON', () => { writeFileSync(at('bad.json'), '{"embed_dims": 32,'); return ['run', NONSPIKING, '--config', at('bad.json')]; }, /ArgumentError: config \(bad\.json\) is not valid JSON/],
    ['config file that is not an object', () => { writeFileSync(at('array.json'), '[32]'); return ['run', NONSPIKING, '--config', at('array.json')]; }, /must be a JSON object/],
    ['config with an unknown argument', () => { writeFileSync(at('key.json'), '{"embed_dim": 32}'); return ['run', NONSPIKING, '--config', at('key.json')]; }, /has no argument "embed_dim"/],
    ['config with a value of the wrong type', () => { writeFileSync(at('type.json'), '{"embed_dims": "32"}'); return ['run', NONSPIKING, '--config', at('type.json')]; }, /embed_dims must be a number/],
    ['config with an invalid value', () => { writeFileSync(at('zero.json'), '{"depths": 0}'); return ['run', NONSPIKING, '--config', at('zero.json')]; }, /ArgumentError: .*depths must be a positive integer/],
    ['metadata config that is not JSON', () => ['run', variant(NONSPIKING, 'badmeta.safetensors', { metadata: { factory: 'lmu_rnn_conv1d', config: '{nope' } })], /ArgumentError: config \(config metadata of badmeta\.safetensors\) is not valid JSON/],
    ['config that does not fit the checkpoint (multi-line CheckpointError folded)', () => {
      writeFileSync(at('wide.json'), '{"embed_dims": 64, "in_channels": 16, "depths": 2, "num_heads": 4}');
      return ['run', NONSPIKING, '--config', at('wide.json')];
    }, /CheckpointError: .*checkpoint does not fit lmu_rnn_conv1d.*mis-shaped.*and \d+ more$/],
    ['checkpoint of another model', () => ['run', NONSPIKING, '--model', 'psmnist_lmu'], /CheckpointError: .*missing.*unexpected/],
    ['input shape mismatch', () => ['run', NONSPIKING, '--input', fx('lmuformer_psmnist_spiking_small')], /ShapeError: LMUFormer: input expected f32 \[B, 128, 16\] = \[B, N, in_channels\], got f32 \[2, 96, 1\]/],
    ['input shape mismatch (.npy, rank 2)', () => {
      writeFileSync(at('rank2.npy'), npyBytes('<f4', [128, 16], new Float32Array(128 * 16)));
      return ['run', NONSPIKING, '--input', at('rank2.npy')];
    }, /ShapeError: .*input expected f32 \[B, 128, 16\] = \[B, N, in_channels\], got f32 \[128, 16\]/],
    ['psMNIST input of the wrong length', () => ['run', fx('lmuformer_psmnist_nonspiking_small'), '--input', NONSPIKING], /ShapeError: psmnist_lmu: input expected f32 \[B, 96, 1\]/],
    ['weights without an input and no --input', () => ['run', variant(NONSPIKING, 'noinput.safetensors', { keep: (k) => k !== 'input' })], /no tensor named "input"/],
    ['input of an unsupported dtype', () => ['run', variant(NONSPIKING, 'u8input.safetensors', { keep: (k) => k !== 'input', extra: { input: { shape: [2, 128, 16], data: new Uint8Array(2 * 128 * 16) } } })], /DTypeError: .*dtype U8/],
    ['input that is neither safetensors nor .npy', () => ['run', NONSPIKING, '--input', join(FIXTURES, 'README.md')], /SafetensorsHeaderLengthError: README\.md/],
    ['.npy big-endian', () => { writeFileSync(at('be.npy'), npyBytes('>f4', [2, 128, 16], new Float32Array(4096))); return ['run', NONSPIKING, '--input', at('be.npy')]; }, /NpyError: be\.npy: .*big-endian/],
    ['.npy Fortran order', () => { writeFileSync(at('f.npy'), npyBytes('<f4', [2, 128, 16], new Float32Array(4096), { fortran: true })); return ['run', NONSPIKING, '--input', at('f.npy')]; }, /NpyError: .*Fortran order/],
    ['.npy truncated', () => { writeFileSync(at('short.npy'), npyBytes('<f4', [2, 128, 16], new Float32Array(4000))); return ['run', NONSPIKING, '--input', at('short.npy')]; }, /NpyError: .*needs 16384 data bytes, the file holds 16000/],
    ['.npy with NaN', () => { const d = new Float32Array(4096); d[5] = NaN; writeFileSync(at('nan.npy'), npyBytes('<f4', [2, 128, 16], d)); return ['run', NONSPIKING, '--input', at('nan.npy')]; }, /NpyError: .*non-finite/],
    // input validation (docs/input-validation.md): values, dtypes, sizes and files that are not what the model takes
    ['NaN in a safetensors input', () => ['run', NONSPIKING, '--input', inputFile('nan.safetensors', (d) => { d[7] = NaN; })], /SafetensorsNonFiniteError: nan\.safetensors: tensor "input": F32 element 7 \(index \[0, 0, 7\]\) is NaN/, 1],
    ['Infinity in a safetensors input', () => ['run', NONSPIKING, '--input', inputFile('inf.safetensors', (d) => { d[4095] = -Infinity; })], /SafetensorsNonFiniteError: .*element 4095 \(index \[1, 127, 15\]\) is -Infinity/, 1],
    ['F64 input value outside the float32 range', () => {
      const d = new Float64Array(4096); d[9] = 1e300;
      return ['run', NONSPIKING, '--input', variant(NONSPIKING, 'f64big.safetensors', { keep: (k) => k !== 'input', extra: { input: { shape: [2, 128, 16], data: d, dtype: 'F64' } } })];
    }, /DTypeError: f64big\.safetensors: tensor "input" \(F64\) element 9 \(index \[0, 0, 9\]\) is 1e\+300, outside the float32 range/, 1],
    ['.npy <f8 value outside the float32 range', () => { const d = new Float64Array(4096); d[1] = -1e39; writeFileSync(at('big.npy'), npyBytes('<f8', [2, 128, 16], d)); return ['run', NONSPIKING, '--input', at('big.npy')]; }, /DTypeError: big\.npy: <f8 array element 1 .* is -1e\+39, outside the float32 range/, 1],
    ['input of dtype I64', () => ['run', NONSPIKING, '--input', variant(NONSPIKING, 'i64input.safetensors', { keep: (k) => k !== 'input', extra: { input: { shape: [2, 128, 16], data: new BigInt64Array(4096), dtype: 'I64' } } })], /DTypeError: .*tensor "input" has dtype I64; expected F32/, 1],
    ['wrong channel count', () => ['run', NONSPIKING, '--input', inputFile('c15.safetensors', undefined, [2, 128, 15])], /ShapeError: LMUFormer: input expected f32 \[B, 128, 16\] = \[B, N, in_channels\], got f32 \[2, 128, 15\]/, 1],
    ['batch of zero (.npy [0, 128, 16])', () => { writeFileSync(at('b0.npy'), npyBytes('<f4', [0, 128, 16], new Float32Array(0))); return ['run', NONSPIKING, '--input', at('b0.npy')]; }, /ShapeError: LMUFormer: input has batch size 0 \(shape \[0, 128, 16\]\); expected B ≥ 1/, 1],
    ['rank-0 .npy input', () => { writeFileSync(at('scalar.npy'), npyBytes('<f4', [], new Float32Array(1))); return ['run', NONSPIKING, '--input', at('scalar.npy')]; }, /ShapeError: LMUFormer: input expected f32 \[B, 128, 16\].*got f32 \[\]/, 1],
    ['input file is a directory', () => ['run', NONSPIKING, '--input', tmp], /cannot read input file .*it is a directory/, 1],
    ['input file is a FIFO (would block forever)', () => { const p = at('fifo'); if (!existsSync(p)) execFileSync('mkfifo', [p]); return ['run', NONSPIKING, '--input', p]; }, /cannot read input file .*not a regular file/, 1],
    ['input file is a device (/dev/zero never ends)', () => ['run', NONSPIKING, '--input', '/dev/zero'], /cannot read input file "\/dev\/zero": not a regular file/, 1],
    ['unreadable input path (a file used as a directory)', () => ['run', NONSPIKING, '--input', join(NONSPIKING, 'input.npy')], /cannot read input file .*a component of the path is not a directory/, 1],
    ['empty input file', () => { writeFileSync(at('empty.npy'), ''); return ['run', NONSPIKING, '--input', at('empty.npy')]; }, /SafetensorsHeaderLengthError: empty\.npy: /, 1],
    ['empty weights file', () => { writeFileSync(at('empty.safetensors'), ''); return ['run', at('empty.safetensors')]; }, /SafetensorsHeaderLengthError: empty\.safetensors: /, 1],
    ['.npy header that is not a dict', () => { writeFileSync(at('hdr.npy'), npyBytes('<f4', [4], new Float32Array(4), { header: "['descr', '<f4']" })); return ['run', NONSPIKING, '--input', at('hdr.npy')]; }, /NpyError: hdr\.npy: malformed \.npy header: expected '\{'/, 1],
    ['.npy header without a shape', () => { writeFileSync(at('noshape.npy'), npyBytes('<f4', [4], new Float32Array(4), { header: "{'descr': '<f4', 'fortran_order': False, }" })); return ['run', NONSPIKING, '--input', at('noshape.npy')]; }, /NpyError: .*missing key shape/, 1],
    ['.npy header length past the end', () => { const b = npyBytes('<f4', [4], new Float32Array(4)); new DataView(b.buffer).setUint16(8, 60000, true); writeFileSync(at('hlen.npy'), b); return ['run', NONSPIKING, '--input', at('hlen.npy')]; }, /NpyError: .*header length 60000 runs past the end/, 1],
    ['.npy of an unsupported dtype (<i8)', () => { writeFileSync(at('i8.npy'), npyBytes('<i8', [2, 128, 16], new BigInt64Array(4096))); return ['run', NONSPIKING, '--input', at('i8.npy')]; }, /NpyError: .*dtype "<i8" is not supported/, 1],
    ['.npy with +Infinity', () => { const d = new Float32Array(4096); d[100] = Infinity; writeFileSync(at('inf.npy'), npyBytes('<f4', [2, 128, 16], d)); return ['run', NONSPIKING, '--input', at('inf.npy')]; }, /NpyError: .*non-finite value \(Infinity\) at flat index 100/, 1],
    ['NaN input with --stream', () => ['run', NONSPIKING, '--stream', '--input', inputFile('nan2.safetensors', (d) => { d[3] = NaN; })], /SafetensorsNonFiniteError/, 1],
    ['unwritable output', () => ['run', NONSPIKING, '--output', join(tmp, 'no', 'such', 'dir', 'o.safetensors')], /cannot write output .*no such file/],
  ];
  for (const [what, args, pattern, code] of cases) {
    it(what, async () => {
      expectOneLineError(await run(args()), pattern, code);
    });
  }
});
