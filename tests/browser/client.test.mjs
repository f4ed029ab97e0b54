// An unmodified existing client gets identical replies from the native
// server and, through the shim, from local processing in the browser.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, openPage, startNativeServer, startStaticServer } from './harness.mjs';

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

async function replies(shim, path, params) {
  const page = await openPage(browser, statics.url, `/test/existing-client.html${shim ? '?shim=1' : ''}`);
  await page.waitForFunction(() => window.ready);
  const url = `ws://127.0.0.1:${native.port}${path}`;
  const wav = '/data/librivox/librivox_concat_gaps.wav';
  const result = await page.evaluate(([u, p, w]) => window.runClient(u, p, w, 12, 3201), [url, params, wav]);
  await page.close();
  return result;
}

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
