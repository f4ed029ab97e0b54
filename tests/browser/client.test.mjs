// An unmodified existing client gets identical replies from the native
// server and, through the shim, from local processing in the browser.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, launchChromium, openPage, startNativeServer, startStaticServer } from './harness.mjs';

let statics;
let native;
let browser;

before(async () => {
  statics = await startStaticServer();
  native = await startNativeServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  native?.stop();
  statics?.close();
});

/** The client's replies, and with the shim the engine build that answered locally. */
async function run(shim, path, params) {
  const page = await openPage(browser, statics.url, `/test/existing-client.html${shim ? '?shim=1' : ''}`);
  await page.waitForFunction(() => window.ready);
  const url = `ws://127.0.0.1:${native.port}${path}`;
  const wav = '/data/librivox/librivox_concat_gaps.wav';
  const result = await page.evaluate(([u, p, w]) => window.runClient(u, p, w, 12, 3201), [url, params, wav]);
  const kernels = shim && (await page.evaluate(async () => (await (await import('/pkg/index.js')).engineStats()).kernels));
  await page.close();
  return { replies: result, kernels };
}

/** The client's replies. */
async function replies(shim, path, params) {
  return (await run(shim, path, params)).replies;
}

/** A template of the first 8 s of the test WAV, made by the native server. */
async function nativeTemplate() {
  const wav = readFileSync(join(ROOT, 'tests/data/librivox/librivox_concat_gaps.wav'));
  const data = wav.indexOf('data', 12) + 8;
  const response = await fetch(
    `${native.base}/voice_template_factory/create_voice_template_from_samples?sample_rate=16000`,
    { method: 'POST', body: wav.subarray(data, data + 8 * 32000) },
  );
  assert.equal(response.status, 200);
  return response.text();
}

test('/voice_verify_stream: the shim agrees with the native server within bfloat16 rounding', async () => {
  const params = [await nativeTemplate(), '16000', '3'];
  const server = await replies(false, '/voice_verify_stream', params);
  const { replies: local, kernels } = await run(true, '/voice_verify_stream', params);
  // Chromium has relaxed SIMD: the package runs the engine build that uses it.
  assert.equal(kernels, 'relaxed SIMD');
  assert.deepEqual(local.slice(0, 3), ['200', '200', '200']);
  assert.deepEqual(server.slice(0, 3), local.slice(0, 3));
  const results = (list) => list.slice(3).flatMap((reply) => JSON.parse(reply));
  const ours = results(local);
  const theirs = results(server);
  assert.ok(theirs.length >= 15, `expected results every 0.5 s, got ${theirs.length}`);
  assert.equal(ours.length, theirs.length);
  ours.forEach((result, i) => {
    assert.deepEqual(result.audio_interval, theirs[i].audio_interval);
    // The server multiplies a stream's parts in bfloat16 where its CPU can
    // (AVX-512 BF16), the browser in f32: scores move by rounding only.
    assert.ok(Math.abs(result.verify_result.score - theirs[i].verify_result.score) < 5e-3);
  });
  // The enrolled speaker is recognised in the windows that overlap the enrolment.
  assert.ok(theirs[0].verify_result.probability > 0.9);
});

for (const [path, params] of [
  ['/speech_summary_stream', ['16000']],
  ['/speech_endpoint_detector', ['300', '800', '16000']],
]) {
  test(`${path}: native server and local shim reply identically`, async () => {
    const server = await replies(false, path, params);
    const local = await replies(true, path, params);
    assert.equal(server.length, params.length + Math.ceil((12 * 32000) / 3201));
    assert.ok(server.slice(0, params.length).every((r) => r === '200'));
    assert.deepEqual(local, server);
  });
}
