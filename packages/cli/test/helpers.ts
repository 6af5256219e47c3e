import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '@spikewasm/core-wasm';
import { maxErr, fixtureTol } from '../../core-wasm/test/compare.js';

/** The built executable (package.json "bin"); the tests run the build output, as a user does. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

export function requireBuilt(): void {
  if (!existsSync(CLI) || !existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))) {
    throw new Error(`${CLI} is not built: run \`npx turbo run build\` first`);
  }
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` (or another command) and collects its exit code and output. */
export function run(args: string[], { cmd = process.execPath, prefix = [CLI], cwd = REPO } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...prefix, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPIKEWASM_DEBUG: '' } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(path)));
}

/** max |got − want| (NaN: infinite) and the README tolerance 1e-4 · max(1, max |want|). */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; tol: number } {
  const { err, scale } = maxErr(got, want);
  return { err, tol: fixtureTol(scale) };
}

/**
 * Writes a .npy file the way numpy.save does: magic, version, header length, the header dict padded with spaces to
 * a multiple of 64 bytes and ended by '\n', then the raw bytes.
 */
export function npyBytes(descr: string, shape: number[], data: ArrayBufferView, { version = 1, fortran = false, header }: { version?: 1 | 2 | 3; fortran?: boolean; header?: string } = {}): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let h = header ?? `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const pre = 6 + 2 + (version === 1 ? 2 : 4);
  const total = Math.ceil((pre + h.length + 1) / 64) * 64;
  h = h.padEnd(total - pre - 1, ' ') + '\n';
  const head = new TextEncoder().encode(h);
  const out = new Uint8Array(pre + head.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, head.length, true);
  else dv.setUint32(8, head.length, true);
  out.set(head, pre);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pre + head.length);
  return out;
}

/** The lines of a stream's text (a trailing newline does not make an extra line). */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
}
