// Hashing for the cross-runtime conformance suites (web crypto: available in Node ≥ 20, Deno, browsers, workerd).

/** SHA-256 (hex) of the concatenation of `parts`. */
export async function sha256(parts: Uint8Array[]): Promise<string> {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.byteLength; }
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A detached copy of a view's bytes (Wasm memory views must be copied before the next call can reuse them). */
export function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}
