// Clients written for the original server (tests/browser/pages/v3: classic
// scripts, hard-coded ws://voice-server:8080 and http://voice-server:8080
// URLs, XHR enrollment, ScriptProcessorNode capture of a fake microphone)
// give the same outputs (1) against the native server with real WebSockets,
// (2) fully locally with only voiceport-shim.js added and every request to
// voice-server:8080 refused, (3) through a page whose Content-Security-Policy
// forbids WebAssembly, by falling back to the server, and (4) when the model
// files cannot be fetched, by replaying to the server.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, fakeMicrophone, launchChromium, startNativeServer, startStaticServer } from './harness.mjs';

const SPEAKER_A = join(ROOT, 'tests/data/demo/speaker_a_verify.wav');
/** Read speech with pauses, for the summary page's 12 s. */
const READ_SPEECH = join(ROOT, 'tests/data/librivox/librivox_concat_gaps.wav');
const SHIM = '<script src="/pkg/voiceport-shim.js"></script>';
const NO_WASM = "script-src 'self' 'unsafe-inline'";

let statics;
let withoutModels;
let native;

before(async () => {
  statics = await startStaticServer();
  withoutModels = await startStaticServer([
    ['/pkg/models/', join(ROOT, 'tests/browser/pages/none')],
    ['/test/', join(ROOT, 'tests/browser/pages')],
    ['/data/', join(ROOT, 'tests/data')],
    ['/', join(ROOT, 'dist')],
  ]);
  native = await startNativeServer();
});

after(() => {
  native?.stop();
  statics?.close();
  withoutModels?.close();
});

/** Messages and REST requests the native server has served so far. */
async function servedByServer() {
  const text = await (await fetch(`${native.base}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => /^voiceport_(messages_total|http_requests_total)\{/.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/**
 * Runs the page `path` in a browser whose voice-server:8080 is the native
 * server (`server: true`) or refused; `shim` adds the classic script,
 * `csp` serves the page with a policy forbidding WebAssembly.
 */
async function run(path, { server, shim, csp = false, base = statics.url, mic = SPEAKER_A }) {
  const target = server ? `127.0.0.1:${native.port}` : '127.0.0.1:1';
  const browser = await launchChromium([
    ...fakeMicrophone(mic),
    `--host-resolver-rules=MAP voice-server:8080 ${target}`,
    // The page (loopback) may reach the mapped server name.
    '--disable-features=LocalNetworkAccessChecks',
  ]);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const warnings = [];
    page.on('console', (message) => warnings.push(message.text()));
    if (!server) await page.route('http://voice-server:8080/**', (route) => route.abort('connectionrefused'));
    await page.route(/\/test\/v3\/[^/?]+\.html/, async (route) => {
      const response = await route.fetch();
      let body = await response.text();
      if (shim) body = body.replace('<head>', `<head>${SHIM}`);
      const headers = { ...response.headers() };
      delete headers['content-length'];
      if (csp) headers['content-security-policy'] = NO_WASM;
      await route.fulfill({ response, body, headers });
    });
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => window.done, null, { timeout: 60_000 });
    const result = await page.evaluate(() => ({
      replies: window.replies ?? null,
      results: window.results ?? null,
      enrollStatus: window.enrollStatus ?? null,
      refused: window.refusedChunks,
      local: typeof window.voiceport === 'object',
    }));
    return { ...result, errors, warnings };
  } finally {
    await browser.close();
  }
}

/** Every key path of a JSON value, arrays collapsed. */
function keyPaths(value, prefix = '') {
  if (Array.isArray(value)) return value.length ? keyPaths(value[0], `${prefix}[]`) : [`${prefix}[]`];
  if (value && typeof value === 'object') {
    return Object.keys(value).flatMap((key) => [`${prefix}.${key}`, ...keyPaths(value[key], `${prefix}.${key}`)]);
  }
  return [];
}

/** Share of agreeing decisions of two frame lists, at the best lag within ±10 frames. */
function agreement(a, b) {
  let best = 0;
  for (let lag = -10; lag <= 10; lag++) {
    let same = 0;
    let compared = 0;
    for (let i = 0; i < a.length; i++) {
      const j = i + lag;
      if (j < 0 || j >= b.length) continue;
      compared++;
      if (a[i] === b[j]) same++;
    }
    if (compared > 100) best = Math.max(best, same / compared);
  }
  return best;
}

function summaryChecks(outcome, label) {
  assert.deepEqual(outcome.errors, [], `${label}: page errors`);
  assert.equal(outcome.refused, 0, `${label}: refused audio chunks`);
  assert.ok(outcome.replies.length >= 30, `${label}: ${outcome.replies.length} replies with speech_events`);
  return outcome.replies.at(-1);
}

const finalFrames = (reply) => reply.current_speech_summary.vad_result.frames;

test('summary page: the shim fully local, and CSP fallback, match the native server', async () => {
  const before = await servedByServer();
  const mic = READ_SPEECH;
  const local = await run('/test/v3/summary.html', { server: false, shim: true, mic });
  assert.equal(await servedByServer(), before, 'nothing reached the server');
  const remote = await run('/test/v3/summary.html', { server: true, shim: false, mic });
  const fallback = await run('/test/v3/summary.html', { server: true, shim: true, csp: true, mic });
  assert.ok(local.local && fallback.local, 'the shim was installed');
  assert.ok(fallback.warnings.some((w) => w.includes('using the voice server instead')), 'fallback announced');
  const [ours, theirs, viaFallback] = [summaryChecks(local, 'local'), summaryChecks(remote, 'server'), summaryChecks(fallback, 'fallback')];
  assert.deepEqual(keyPaths(ours).sort(), keyPaths(theirs).sort());
  assert.deepEqual(keyPaths(viaFallback).sort(), keyPaths(theirs).sort());
  assert.ok(ours.speech_events.length >= 2 && ours.speech_events.some((e) => e.is_voice));
  for (const [reply, label] of [[ours, 'local'], [viaFallback, 'fallback']]) {
    const share = agreement(finalFrames(reply), finalFrames(theirs));
    assert.ok(share >= 0.97, `${label}: frame decisions agree ${(share * 100).toFixed(2)} %`);
  }
});

/** The median probability of a verify page's results. */
function medianProbability(outcome, label) {
  assert.deepEqual(outcome.errors, [], `${label}: page errors`);
  assert.equal(outcome.enrollStatus, 200, `${label}: enrollment`);
  assert.equal(outcome.refused, 0, `${label}: refused audio chunks`);
  assert.ok(outcome.results.length >= 5, `${label}: ${outcome.results.length} results`);
  const sorted = outcome.results.map((r) => r.verify_result.probability).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

for (const [speaker, enrolled, accept] of [
  ['the enrolled speaker', '/data/demo/speaker_a_enroll.wav', true],
  ['another speaker', '/data/demo/speaker_b_verify.wav', false],
]) {
  test(`verify page, ${speaker}: XHR enrollment and verify stream, local and on the server`, async () => {
    const path = `/test/v3/verify.html?enroll=${enrolled}`;
    const before = await servedByServer();
    const local = await run(path, { server: false, shim: true });
    assert.equal(await servedByServer(), before, 'nothing reached the server');
    const remote = await run(path, { server: true, shim: false });
    for (const [outcome, label] of [[local, 'local'], [remote, 'server']]) {
      const probability = medianProbability(outcome, label);
      if (accept) assert.ok(probability > 0.9, `${label}: ${probability}`);
      else assert.ok(probability < 0.1, `${label}: ${probability}`);
    }
    assert.deepEqual(keyPaths(local.results).sort(), keyPaths(remote.results).sort());
  });
}

test('models that cannot be fetched: the same client is served by the server, nothing lost', async () => {
  const before = await servedByServer();
  const outcome = await run('/test/v3/verify.html?enroll=/data/demo/speaker_a_enroll.wav', {
    server: true,
    shim: true,
    base: withoutModels.url,
  });
  assert.ok(await servedByServer() > before, 'the server answered');
  assert.ok(outcome.warnings.some((w) => w.includes('using the voice server instead')), 'fallback announced');
  assert.ok(medianProbability(outcome, 'fallback') > 0.9);
});
