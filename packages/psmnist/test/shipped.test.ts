// The shipped model file (models/psmnist_lmu.safetensors): its format, and that it predicts the held-out digits the
// same way in parallel form, streaming form and through the `spikewasm` CLI. (`npm start` evaluates all 2,004.)
import { describe, expect, it, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, Arena, parseSafetensors, serializeSafetensors, type Core } from '@spikewasm/core-wasm';
import { psmnistConfig, expectedStateDict } from '@spikewasm/lmu';
import {
  readModelFile, loadModelFile, makePermutation, permuteDigits, predictParallel, predictStreaming, compareModes, accuracy, DEFAULT_TRAIN_OPTIONS,
} from '../src/index.js';
import { loadMnistSplit } from '../src/node.js';
import { run, requireBuilt } from '../../cli/test/helpers.js';

const MODEL = fileURLToPath(new URL('../models/psmnist_lmu.safetensors', import.meta.url));
const bytes = new Uint8Array(readFileSync(MODEL));
const LOG = readFileSync(fileURLToPath(new URL('../models/psmnist_lmu.train.log', import.meta.url)), 'utf8');
/** The value after `label` on the log line that starts with it. */
const logLine = (label: string): string => {
  const line = LOG.split('\n').find((l) => l.startsWith(label));
  if (line === undefined) throw new Error(`models/psmnist_lmu.train.log has no line starting '${label}'`);
  return line.slice(label.length).trim();
};
let core: Core;
beforeAll(async () => { core = await init(); });

describe('models/psmnist_lmu.safetensors', () => {
  it('holds the notebook model under its official keys, the config, the permutation and the training record', () => {
    const info = readModelFile(bytes);
    expect(info.config).toEqual(psmnistConfig());
    expect(info.permutation).toEqual(makePermutation(0));
    const keys = [...info.file.tensors.keys()].sort();
    expect(keys).toEqual([...expectedStateDict('psmnist_lmu', info.config).keys(), 'permutation'].sort());
    expect(info.metadata.heldout_accuracy).toMatch(/^\d+\.\d\d% \(\d+\/2004, parallel form\)$/);
    expect(JSON.parse(info.metadata.training)).toMatchObject({ digits: 7996 });
  });

  it('is the file its training log describes, trained by the default command (npm run train:psmnist)', () => {
    // The log's SHA-256 is of this very file, so the log's command reproduces it byte for byte.
    expect(logLine('weights:')).toMatch(new RegExp(`sha256 ${createHash('sha256').update(bytes).digest('hex')}$`));
    expect(logLine('command:')).toBe('npm run train:psmnist --');
    expect(JSON.parse(logLine('options:'))).toEqual(DEFAULT_TRAIN_OPTIONS);
    const info = readModelFile(bytes);
    expect(JSON.parse(info.metadata.training)).toEqual({ ...DEFAULT_TRAIN_OPTIONS, digits: 7996 });
    // The accuracy in the metadata is the one the log reports.
    const [, pct, right] = /^(\d+\.\d\d)% \((\d+)\/2004\)/.exec(logLine('held-out accuracy:'))!;
    expect(info.metadata.heldout_accuracy).toBe(`${pct}% (${right}/2004, parallel form)`);
  });

  it('predicts 200 held-out digits identically in parallel and streaming form, and through the CLI', async () => {
    const { heldOut } = loadMnistSplit();
    const { model, permutation } = loadModelFile(new Arena(core), bytes);
    const pick = Array.from({ length: 200 }, (_, i) => i * 10);
    const images = new Float32Array(200 * 784), labels = Uint8Array.from(pick, (i) => heldOut.labels[i]);
    pick.forEach((i, k) => images.set(heldOut.images.subarray(i * 784, (i + 1) * 784), k * 784));
    const x = permuteDigits(images, permutation);
    const par = predictParallel(model, x, 20);
    const str = predictStreaming(model, x, labels, { batch: 50 });
    const cmp = compareModes(par, str.logits, 10);
    expect(cmp.disagreements).toBe(0);
    expect(cmp.maxLogitDiff).toBeLessThan(1e-3);
    expect(accuracy(par, labels, 10)).toBeGreaterThan(0.9);

    // spikewasm run on the model file with two of these sequences: the same logits, bit for bit
    requireBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'psmnist-'));
    const input = join(dir, 'input.safetensors'), out = join(dir, 'out.safetensors');
    writeFileSync(input, serializeSafetensors({ input: { data: x.slice(0, 2 * 784), shape: [2, 784, 1] } }));
    const r = await run(['run', MODEL, '--input', input, '--output', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = parseSafetensors(new Uint8Array(readFileSync(out))).tensors.get('logits')!;
    expect(got.shape).toEqual([2, 10]);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(par.subarray(0, 20)));
  });
});

describe('the evaluate command', () => {
  const EVALUATE = fileURLToPath(new URL('../dist/bin/evaluate.js', import.meta.url));
  it.each([
    ['a file that is not safetensors', () => { const p = join(mkdtempSync(join(tmpdir(), 'psm-')), 'x.safetensors'); writeFileSync(p, 'not a model'); return p; }, /^error: .*x\.safetensors: Safetensors\w*Error: /],
    ['another model (a fixture of another factory)', () => fileURLToPath(new URL('../../../../shared/fixtures/spikformer_tiny.safetensors', import.meta.url)), /^error: .*: ModelFileError: psMNIST model file: __metadata__ factory expected 'psmnist_lmu', got 'spikformer'/],
    ['a missing file', () => '/nonexistent/m.safetensors', /^error: cannot read \/nonexistent\/m\.safetensors: /],
  ])('%s → exit 1 with one line on stderr', async (_what, path, message) => {
    const r = await run(['--model', path()], { prefix: [EVALUATE] });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('an --svg path into a missing folder → exit 1 with one line, before the evaluation', async () => {
    const r = await run(['--svg', '/nonexistent/chart.svg'], { prefix: [EVALUATE] });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --svg /nonexistent/chart.svg: the folder /nonexistent does not exist');
    expect(r.stdout).toBe('');
  });
});
