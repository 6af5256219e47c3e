// Peer set-up shared by the runtime hosts.
import type * as Ort from 'onnxruntime-web';
import type * as Tf from '@tensorflow/tfjs-core';
import { encodeModel } from './onnx.js';

/** Creates and runs a first 1×1 Gemm session: forces onnxruntime-web to compile and instantiate its Wasm now. */
export async function warmOrt(ort: typeof Ort): Promise<void> {
  const one = Float32Array.of(1);
  const s = await ort.InferenceSession.create(encodeModel({
    inputs: { x: [1, 1] }, outputs: { y: [1, 1] },
    initializers: { w: { dims: [1, 1], data: one } },
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
  }), { executionProviders: ['wasm'] });
  const r = await s.run({ x: new ort.Tensor('float32', one, [1, 1]) });
  if (r.y.data[0] !== 1) throw new Error(`onnxruntime-web warm-up: expected 1, got ${r.y.data[0]}`);
  await s.release();
}

/** Sets the wasm backend of an imported tfjs-core and waits for it; throws with tfjs's logged reason if it fails. */
export async function initTf(tf: typeof Tf): Promise<typeof Tf> {
  // tfjs logs why its backend failed and returns false: keep that message as the reason
  const logged: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => { logged.push(a.map(String).join(' ')); };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend("wasm") failed: ${logged.join(' ').replace(/\s+/g, ' ').slice(0, 200) || 'no reason logged'}`);
  } finally {
    console.warn = warn;
  }
  await tf.ready();
  return tf;
}

/** Configures an imported onnxruntime-web (threads, where its files are) and compiles its Wasm with a first session. */
export async function initOrt(ort: typeof Ort, threads: number, wasmPaths?: string): Promise<typeof Ort> {
  ort.env.wasm.numThreads = threads;
  if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.logLevel = 'error';
  await warmOrt(ort);
  return ort;
}

/** Imports tfjs-core and tfjs-backend-wasm (its .wasm files under `wasmPaths` if given) and initialises the backend. */
export async function loadTfWasm(wasmPaths?: string): Promise<typeof Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (wasmPaths) wasm.setWasmPaths(wasmPaths);
  return initTf(tf);
}

/** Imports onnxruntime-web and initialises it ({@link initOrt}). */
export async function loadOrtWasm(threads: number, wasmPaths?: string): Promise<typeof Ort> {
  return initOrt(await import('onnxruntime-web'), threads, wasmPaths);
}
