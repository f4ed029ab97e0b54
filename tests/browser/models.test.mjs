// Model loading behind a LocalVoiceSocket: the connection opens and answers its
// parameters while the models load; audio waits for them; a model that cannot
// be fetched fails the connection with its reason. Each test starts a fresh
// browser context (an empty Cache API, a new worker).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, startStaticServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startStaticServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A socket page in a fresh context, optionally with some requests answered 404. */
async function freshPage(missing) {
  const context = await browser.newContext();
  if (missing) await context.route(missing, (route) => route.fulfill({ status: 404, body: 'missing' }));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error));
  await page.goto(`${server.url}/test/socket.html`);
  await page.waitForFunction(() => window.ready);
  return { page, context };
}

/** In the page: opens a summary stream, sends the rate on open, then 0.5 s of PCM16 silence. */
function streamSilence() {
  const order = [];
  const stop = window.voiceport.onProgress(({ model, phase }) => order.push(`${model} ${phase}`));
  const socket = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
  return new Promise((resolve) => {
    socket.onopen = () => {
      order.push('open');
      socket.send('16000');
    };
    socket.onmessage = ({ data }) => {
      order.push(data === '200' ? 'reply 200' : 'reply audio');
      if (data === '200') socket.send(new Int16Array(8000));
      else socket.close();
    };
    socket.onerror = () => order.push('error');
    socket.onclose = ({ code, wasClean }) => {
      stop();
      order.push(`close ${code} ${wasClean}`);
      resolve({ order, lastError: socket.lastError });
    };
  });
}

test('parameters are answered before the VAD model is planned; audio waits for it', async () => {
  const { page, context } = await freshPage();
  const { order } = await page.evaluate(streamSilence);
  await context.close();
  // Download and plan progress may interleave with the "200"; readiness comes well after it.
  const events = order.filter((event) => !/ (download|plan)$/.test(event));
  assert.deepEqual(events, ['open', 'reply 200', 'vad ready', 'reply audio', 'close 1005 true']);
});

test('a model that cannot be fetched fails the connection at its first audio', async () => {
  const { page, context } = await freshPage('**/models/silero_vad_*.onnx');
  const { order, lastError } = await page.evaluate(streamSilence);
  await context.close();
  assert.deepEqual(order, ['open', 'reply 200', 'error', 'close 1006 false']);
  assert.match(lastError, /cannot fetch .*silero_vad_.*HTTP 404/);
});
