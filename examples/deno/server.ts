// The same endpoints as the workerd example (POST /v1/infer, GET /health) as a Deno server on 127.0.0.1.
// Build first (node examples/workerd/build.mjs), then from the repo root:
//   PORT=8787 node_modules/.bin/deno run --no-config --allow-read --allow-net=127.0.0.1 --allow-env=PORT examples/deno/server.ts
// It imports the bundled, runtime-neutral handler and reads the checkpoint and the .wasm next to it.
// @ts-nocheck -- Deno globals; run with Deno, not type-checked by the repo's tsc.
import { createHandler } from '../workerd/dist/app.mjs';

const dist = new URL('../workerd/dist/', import.meta.url);
const port = Number(Deno.env.get('PORT') ?? 8787);
const handle = createHandler(() => Deno.readFile(new URL('model.safetensors', dist)), await Deno.readFile(new URL('spikewasm.wasm', dist)));

Deno.serve({ hostname: '127.0.0.1', port, onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`) }, handle);
