// A small pool of worker threads that answer one request at a time each (Node only).
import { Worker } from 'node:worker_threads';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void }

/** One worker thread with a request/answer queue: each `request` resolves with the next answer the worker posts. */
export class WorkerClient {
  private readonly worker: Worker;
  private readonly queue: Pending[] = [];
  private readonly started: Promise<void>;

  constructor(url: URL) {
    this.worker = new Worker(url);
    let ready!: () => void;
    this.started = new Promise((r) => (ready = r));
    this.worker.on('message', (msg: { type: string; message?: string }) => {
      if (msg.type === 'started') return ready();
      const p = this.queue.shift();
      if (!p) return;
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    this.worker.on('error', (e) => { for (const p of this.queue.splice(0)) p.reject(e); });
  }

  /** Posts a message (transferring `transfer`) and resolves with the worker's answer. */
  async request<T>(msg: unknown, transfer: ArrayBufferLike[] = []): Promise<T> {
    await this.started;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(msg, transfer as ArrayBuffer[]);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Runs `jobs` on the clients, each client taking the next job when free; answers in job order. */
export async function runJobs<J, R>(clients: readonly WorkerClient[], jobs: readonly J[], run: (c: WorkerClient, job: J, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(jobs.length);
  let next = 0;
  await Promise.all(clients.map(async (c) => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await run(c, jobs[i], i);
    }
  }));
  return out;
}
