// Conformance runner for headless Firefox (SpiderMonkey; Debian's /usr/bin/firefox-esr, which Playwright cannot
// drive): prints one JSON line {"runtime","version","hashes"} to stdout. A local HTTP server on 127.0.0.1 (random
// port) serves
//   /            a page that imports the bundle, runs runConformance(await init(), fixtures) and POSTs
//                {hashes, userAgent} (or {error}) to /result
//   /build/*     conformance/build (conformance.mjs, spikewasm.wasm as application/wasm)
//   /fixtures/*  <repo>/../shared/fixtures
// Firefox runs with --headless --no-remote and a fresh temporary profile whose user.js turns off first-run pages,
// updates, telemetry and background network use. Its process group is killed and the profile removed on every path
// (success, failure, timeout).
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic } from './common.mjs';

const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
// Below scripts/test-all.mjs's 90 s SIGKILL of this runner's process group: Firefox runs in its own group, so this
// runner must reach its own cleanup first.
const TIMEOUT_MS = 80_000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>spikewasm conformance</title>
<script type="module">
const post = (body) => fetch('/result', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
try {
  const m = await import('/build/conformance.mjs');
  const fixtures = {};
  for (const name of m.CONFORMANCE_FIXTURES) {
    const r = await fetch('/fixtures/' + name);
    if (!r.ok) throw new Error('fixture ' + name + ': HTTP ' + r.status);
    fixtures[name] = new Uint8Array(await r.arrayBuffer());
  }
  const core = await m.init(); // fetches new URL('../build/spikewasm.wasm', <bundle URL>)
  await post({ hashes: await m.runConformance(core, fixtures), userAgent: navigator.userAgent });
} catch (e) {
  await post({ error: String(e && e.stack ? e + '\\n' + e.stack : e) });
}
</script>`;

// Minimal profile: no first-run/welcome pages, no updates, no telemetry, no background network traffic.
const USER_JS = Object.entries({
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.firstrunSkipsHomepage': true,
  'browser.startup.page': 0,
  'startup.homepage_welcome_url': '',
  'startup.homepage_welcome_url.additional': '',
  'browser.aboutwelcome.enabled': false,
  'trailhead.firstrun.didSeeAboutWelcome': true,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.firstRunURL': '',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
  'app.update.enabled': false,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'browser.search.update': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.http.speculative-parallel-limit': 0,
  'network.proxy.type': 0,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.system.topstories': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.ping-centre.telemetry': false,
  'browser.tabs.warnOnClose': false,
  'browser.sessionstore.resume_from_crash': false,
  'services.settings.server': 'http://127.0.0.1:1/',
  'services.sync.enabled': false,
  'identity.fxaccounts.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'geo.enabled': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'browser.crashReports.unsubmittedCheck.enabled': false,
}).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join('');

let resolveResult;
const resultPromise = new Promise((r) => { resolveResult = r; });

function serve(req, res) {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (req.method === 'POST' && path === '/result') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(204);
      res.end();
      try { resolveResult(JSON.parse(body)); } catch (e) { resolveResult({ error: `bad result body: ${e.message}` }); }
    });
    return;
  }
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
    return;
  }
  if (serveStatic(path, res)) return;
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

const server = createServer(serve);
let firefox, profile, timer, firefoxLog = '';

function killFirefox() {
  if (firefox?.pid && firefox.exitCode === null && firefox.signalCode === null) {
    try { process.kill(-firefox.pid, 'SIGKILL'); } catch { try { firefox.kill('SIGKILL'); } catch { /* gone */ } }
  }
}
process.once('exit', killFirefox); // last resort: never leave the browser behind
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => { killFirefox(); process.exit(1); });

try {
  const version = execFileSync(FIREFOX, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim()
    .replace(/^Mozilla Firefox\s*/, '');
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', ok); });
  const url = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), 'spikewasm-firefox-'));
  writeFileSync(join(profile, 'user.js'), USER_JS);
  firefox = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: content processes are killed with it
    env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
  });
  firefox.stdout.on('data', (d) => { firefoxLog += d; });
  firefox.stderr.on('data', (d) => { firefoxLog += d; });
  const exited = new Promise((_, fail) => {
    firefox.once('error', fail);
    firefox.once('exit', (code, signal) => fail(new Error(`firefox exited early (code ${code}, signal ${signal})`)));
  });
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  const result = await Promise.race([resultPromise, exited, timeout]);
  if (result.error || !result.hashes) throw new Error(`page error: ${result.error ?? 'no hashes'}`);
  process.stdout.write(`${JSON.stringify({ runtime: 'firefox', version, hashes: result.hashes, userAgent: result.userAgent })}\n`);
} catch (e) {
  console.error('firefox conformance failed:', e, firefoxLog ? `\nfirefox output:\n${firefoxLog.slice(-4000)}` : '');
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  killFirefox();
  if (firefox && firefox.exitCode === null && firefox.signalCode === null) {
    await new Promise((r) => { firefox.once('exit', r); setTimeout(r, 5000).unref(); });
  }
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
  if (profile) {
    try { rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); } catch { /* best effort */ }
  }
}
