// Conformance runner for headless Chromium (playwright-core, Debian's /usr/bin/chromium): prints one JSON line
// {"runtime","version","hashes"} to stdout. A local HTTP server on 127.0.0.1 (random port) serves
//   /build/*     conformance/build (conformance.mjs, spikewasm.wasm as application/wasm)
//   /fixtures/*  <repo>/../shared/fixtures
// so that the bundle's default `new URL('../build/spikewasm.wasm', import.meta.url)` is fetched by init().
import { createServer } from 'node:http';
import { launchChromium, serveStatic } from './common.mjs';

const TIMEOUT_MS = 60_000;

function serve(req, res) {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>spikewasm conformance</title>');
    return;
  }
  if (serveStatic(path, res)) return;
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

const server = createServer(serve);
let browser;
const timer = setTimeout(() => {
  console.error(`chromium conformance: timed out after ${TIMEOUT_MS / 1000} s`);
  process.exit(1); // the browser is a child of this process: playwright kills it on exit
}, TIMEOUT_MS);
try {
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(`${origin}/`);
  const result = await page.evaluate(async () => {
    const m = await import('/build/conformance.mjs');
    const fixtures = {};
    for (const name of m.CONFORMANCE_FIXTURES) {
      const r = await fetch(`/fixtures/${name}`);
      if (!r.ok) throw new Error(`fixture ${name}: HTTP ${r.status}`);
      fixtures[name] = new Uint8Array(await r.arrayBuffer());
    }
    const core = await m.init(); // fetches new URL('../build/spikewasm.wasm', <bundle URL>)
    return { hashes: await m.runConformance(core, fixtures), userAgent: navigator.userAgent };
  }).catch((e) => { throw new Error(`${e.message}${pageErrors.length ? `\npage errors:\n${pageErrors.join('\n')}` : ''}`); });
  process.stdout.write(`${JSON.stringify({ runtime: 'chromium', version: browser.version(), hashes: result.hashes })}\n`);
} catch (e) {
  console.error('chromium conformance failed:', e);
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser?.close().catch(() => {});
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
}
