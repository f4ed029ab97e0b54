// installVoiceServerShim: the same URLs accepted and answered by the native
// server and locally; REST through fetch and XMLHttpRequest with every body
// type; the classic integration wins the race with a client's first socket.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, fakeMicrophone, launchChromium, openPage, startNativeServer, startStaticServer } from './harness.mjs';

let statics;
let native;
let browser;
let page;

before(async () => {
  statics = await startStaticServer();
  native = await startNativeServer();
  browser = await launchChromium();
  page = await openPage(browser, statics.url, '/test/socket.html');
  await page.waitForFunction(() => window.ready);
});

after(async () => {
  await browser?.close();
  native?.stop();
  statics?.close();
});

/** Paths with queries, good and bad, and the messages each gets. */
const SUMMARY = ['16000', 'pcm'];
const URLS = [
  ['/speech_summary_stream', SUMMARY],
  ['/speech_summary_stream/', SUMMARY],
  ['/speech_summary_stream?frames=new', SUMMARY],
  ['/speech_summary_stream?frames=%6Eew&api_key=k%26y', SUMMARY],
  ['/speech_summary_stream?channel_type=mono&frames=all&api_key=', SUMMARY],
  ['/speech_summary_stream_opus', ['16000', '44100']],
  ['/speech_endpoint_detector?api_key=k', ['300', '500', '16000', 'pcm']],
  ['/verify_stream?api_key=k', ['not a template', 'still not']],
  ['/voice_verify_stream_opus', ['x']],
  ['/speech_summary_stream?frames=some', SUMMARY],
  ['/speech_summary_stream?frame=new', SUMMARY],
  ['/speech_summary_stream?frames', SUMMARY],
  ['/verify_stream_opus', SUMMARY],
  ['/speech_summary', SUMMARY],
  ['/nope', SUMMARY],
];

test('the same URLs are accepted and answered alike by the server and the local socket', async () => {
  const outcomes = await page.evaluate(async ([urls, port]) => {
    const Native = window.WebSocket;
    const run = (socket, messages) =>
      new Promise((done) => {
        const events = [];
        socket.binaryType = 'arraybuffer';
        socket.onopen = () => {
          events.push('open');
          for (const m of messages) socket.send(m === 'pcm' ? new Int16Array(1600) : m);
        };
        socket.onmessage = (e) => {
          events.push(typeof e.data === 'string' ? e.data.replace(/"total_length":[^,]*/, '') : 'binary');
          if (events.length === messages.length + 1) socket.close();
        };
        socket.onerror = () => events.push('error');
        socket.onclose = (e) => done([...events, `close ${e.code}`]);
      });
    const results = [];
    for (const [path, messages] of urls) {
      const url = `ws://127.0.0.1:${port}${path}`;
      results.push({
        path,
        server: await run(new Native(url), messages),
        local: await run(new window.voiceport.LocalVoiceSocket(url), messages),
      });
    }
    return results;
  }, [URLS, native.port]);
  for (const { path, server, local } of outcomes) assert.deepEqual(local, server, path);
  const accepted = outcomes.filter(({ server }) => server[0] === 'open').map(({ path }) => path);
  assert.deepEqual(accepted, URLS.slice(0, 9).map(([path]) => path));
});

/** The native server's reply to a request: status, content type, body. */
async function served(path, init) {
  const response = await fetch(`${native.base}${path}`, init);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

const FROM_SAMPLES = '/voice_template_factory/create_voice_template_from_samples';

test('REST through fetch: every body type, answered locally as the server answers', async () => {
  const wav = readFileSync(join(ROOT, 'tests/data/demo/speaker_a_enroll.wav'));
  const pcm = wav.subarray(44);
  const local = await page.evaluate(async () => {
    const uninstall = window.voiceport.installVoiceServerShim({ fallback: false });
    const wav = await (await fetch('/data/demo/speaker_a_enroll.wav')).arrayBuffer();
    const pcm = wav.slice(44);
    const base = 'http://voice-server:8080';
    const reply = async (request) => {
      const response = await request;
      return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
    };
    const post = (path, body, headers = {}) => reply(fetch(`${base}${path}`, { method: 'POST', body, headers }));
    const form = new FormData();
    form.append('wav_file', new Blob([wav], { type: 'audio/wav' }), 'enroll.wav');
    const results = {
      arrayBuffer: await post('/voice_template_factory/create_voice_template_from_samples?sample_rate=16000', pcm),
      typedArray: await post('/voice_template_factory/create_voice_template_from_samples?sample_rate=16000', new Int16Array(pcm)),
      blob: await post('/verify_engine/create_voice_template_from_samples?sample_rate=16000&channel_type=mono', new Blob([pcm])),
      request: await reply(fetch(new Request(`${base}/voice_template_factory/create_voice_template_from_samples?sample_rate=16000`, { method: 'POST', body: pcm }))),
      formData: await post('/voice_template_factory/create_voice_template_from_file', form),
      summary: await post('/speech_summary_engine/get_speech_summary_from_samples?sample_rate=16000', pcm),
      badRate: await post('/voice_template_factory/create_voice_template_from_samples?sample_rate=fast', pcm),
      noPart: await post('/voice_template_factory/create_voice_template_from_file', new FormData()),
      badJson: await post('/voice_template_matcher/match_voice_templates', '{', { 'content-type': 'application/json' }),
      wrongMethod: await reply(fetch(`${base}/core/get_build_info`, { method: 'POST' })),
      buildInfo: await reply(fetch(`${base}/core/get_build_info`)),
    };
    // Other URLs go to the network untouched (this page's own server).
    results.other = (await fetch('/test/socket.html')).status;
    uninstall();
    return results;
  });
  const body = { method: 'POST', body: pcm };
  const form = new FormData();
  form.append('wav_file', new Blob([wav], { type: 'audio/wav' }), 'enroll.wav');
  const server = {
    template: await served(`${FROM_SAMPLES}?sample_rate=16000`, body),
    formData: await served('/voice_template_factory/create_voice_template_from_file', { method: 'POST', body: form }),
    summary: await served('/speech_summary_engine/get_speech_summary_from_samples?sample_rate=16000', body),
    badRate: await served(`${FROM_SAMPLES}?sample_rate=fast`, body),
    noPart: await served('/voice_template_factory/create_voice_template_from_file', { method: 'POST', body: new FormData() }),
    badJson: await served('/voice_template_matcher/match_voice_templates', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } }),
    wrongMethod: await served('/core/get_build_info', { method: 'POST' }),
    buildInfo: await served('/core/get_build_info'),
  };
  for (const key of ['summary', 'badRate', 'noPart', 'badJson', 'wrongMethod', 'buildInfo']) {
    assert.deepEqual(local[key], server[key], key);
  }
  // Templates: same status and type; the same voice within float rounding (wasm and native SIMD).
  for (const key of ['arrayBuffer', 'typedArray', 'blob', 'request', 'formData']) {
    assert.equal(local[key].status, 200, `${key}: ${local[key].body}`);
    assert.equal(local[key].type, server.template.type, key);
    const match = await served('/voice_template_matcher/match_voice_templates', {
      method: 'POST',
      body: JSON.stringify({ template1: local[key].body, template2: server.template.body }),
    });
    assert.ok(JSON.parse(match.body).score > 0.9999, `${key}: ${match.body}`);
  }
  assert.equal(local.other, 200);
});

test('REST through XMLHttpRequest: states, events, response types, as a browser XHR', async () => {
  const seen = await page.evaluate(async () => {
    const uninstall = window.voiceport.installVoiceServerShim({ fallback: false });
    const wav = await (await fetch('/data/demo/speaker_a_enroll.wav')).arrayBuffer();
    const request = (path, { body = null, responseType = '', method = 'POST' } = {}) =>
      new Promise((done) => {
        const xhr = new XMLHttpRequest();
        const log = [];
        xhr.onreadystatechange = () => log.push(`state ${xhr.readyState}`);
        for (const type of ['loadstart', 'progress', 'load', 'error', 'loadend']) xhr.addEventListener(type, () => log.push(type));
        xhr.onload = () => log.push(`onload ${xhr.status}`);
        xhr.onloadend = () =>
          done({
            log,
            status: xhr.status,
            type: xhr.getResponseHeader('Content-Type'),
            response: xhr.response,
            text: responseType === '' ? xhr.responseText : null,
            isXhr: xhr instanceof XMLHttpRequest,
            url: xhr.responseURL,
          });
        xhr.open(method, `http://voice-server:8080${path}`);
        xhr.responseType = responseType;
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.send(body);
      });
    const template = await request('/voice_template_factory/create_voice_template_from_samples?sample_rate=16000', { body: wav.slice(44) });
    const json = await request('/speech_summary_engine/get_speech_summary_from_samples?sample_rate=16000', { body: new Uint8Array(wav, 44), responseType: 'json' });
    const bad = await request('/voice_template_factory/create_voice_template_from_samples', { body: new Blob([wav]) });
    const info = await request('/core/get_build_info', { method: 'GET' });
    const real = new XMLHttpRequest();
    uninstall();
    return { template, json: { ...json, response: Object.keys(json.response) }, bad, info: info.status, realIsXhr: real instanceof XMLHttpRequest };
  });
  assert.deepEqual(seen.template.log, ['state 1', 'loadstart', 'state 2', 'state 3', 'progress', 'state 4', 'load', 'onload 200', 'loadend']);
  assert.equal(seen.template.status, 200);
  assert.equal(seen.template.type, 'text/plain; charset=utf-8');
  assert.equal(seen.template.response, seen.template.text);
  assert.ok(seen.template.response.length > 100);
  assert.equal(seen.template.isXhr, true);
  assert.equal(seen.template.url, 'http://voice-server:8080/voice_template_factory/create_voice_template_from_samples?sample_rate=16000');
  assert.deepEqual(seen.json.response.sort(), ['background_length', 'speech_events', 'speech_signal_length', 'total_length', 'vad_result']);
  assert.equal(seen.bad.status, 400);
  assert.match(JSON.parse(seen.bad.response).error, /sample_rate/);
  assert.equal(seen.info, 200);
  assert.equal(seen.realIsXhr, true);
});

test('the classic integration is in place before a racing client: 50 fresh loads', async () => {
  const mic = await launchChromium(fakeMicrophone(join(ROOT, 'tests/data/demo/speaker_a_verify.wav')));
  try {
    const racing = await mic.newPage();
    const errors = [];
    racing.on('pageerror', (error) => errors.push(String(error)));
    for (let load = 0; load < 50; load++) {
      await racing.goto(`${statics.url}/test/v3/race.html?load=${load}`);
      await racing.waitForFunction(() => window.done, null, { timeout: 30_000 });
      const seen = await racing.evaluate(() => ({ local: window.socketIsLocal, refused: window.refusedChunks }));
      assert.deepEqual(seen, { local: true, refused: 0 }, `load ${load}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await mic.close();
  }
});
