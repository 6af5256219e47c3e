import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsHeaderLengthError, DEFAULT_MAX_HEADER_BYTES, MAX_HEADER_BYTES } from '../../src/index.js';

describe('header length limit', () => {
  const base = new Uint8Array(readFileSync(new URL('./base.safetensors', import.meta.url)));
  const headerLen = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));

  it('defaults to 8 MiB, is configurable below the absolute 100 MB, and names the limit in the error', () => {
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(8 * 1024 * 1024);
    expect(parseSafetensors(base).tensors.size).toBeGreaterThan(0);
    expect(() => parseSafetensors(base, { maxHeaderBytes: headerLen - 1 })).toThrow(SafetensorsHeaderLengthError);
    expect(() => parseSafetensors(base, { maxHeaderBytes: headerLen - 1 })).toThrow(`exceeds the limit of ${headerLen - 1} bytes`);
    expect(parseSafetensors(base, { maxHeaderBytes: headerLen }).tensors.size).toBeGreaterThan(0);
    // a larger option is clamped to the absolute limit
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(() => parseSafetensors(huge, { maxHeaderBytes: 2 ** 40 })).toThrow(`exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  });
});
