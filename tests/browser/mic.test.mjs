// Real capture path: Chromium's fake microphone plays a WAV of speech and
// silence; worklet → worker → endpoint detector answers "true" after speech.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, fakeMicrophone, launchChromium, openPage, startStaticServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startStaticServer();
  browser = await launchChromium(fakeMicrophone(join(ROOT, 'tests/data/librivox/librivox_concat_gaps.wav')));
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('microphone → worklet → worker → endpoint "true" after the speech ends', async () => {
  const page = await openPage(browser, server.url, '/test/mic.html');
  await page.waitForFunction(() => window.ready);
  const result = await page.evaluate(() => window.detectEndpoint());
  // The first utterance ends 7.8 s into the file; 0.8 s of silence follows it.
  const secondsStreamed = (result.chunks * 0.05);
  assert.ok(secondsStreamed > 7.5, `endpoint after ${secondsStreamed} s`);
  assert.ok(secondsStreamed < 11, `endpoint after ${secondsStreamed} s`);
  assert.ok(result.sampleRate >= 8000);
  assert.equal(result.tracksEnded, true);
});
