// LocalVoiceSocket behaves as the WHATWG WebSocket (every bullet of the contract).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { ROOT, launchChromium, openPage, startStaticServer } from './harness.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startStaticServer();
  browser = await launchChromium();
  page = await openPage(browser, server.url, '/test/socket.html');
  await page.waitForFunction(() => window.ready);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('constants on the class and the instance', async () => {
  const constants = await page.evaluate(() => {
    const { LocalVoiceSocket } = window.voiceport;
    const s = new LocalVoiceSocket('voiceport://local/speech_summary_stream');
    s.close();
    return [LocalVoiceSocket.CONNECTING, LocalVoiceSocket.OPEN, LocalVoiceSocket.CLOSING, LocalVoiceSocket.CLOSED, s.CONNECTING, s.OPEN, s.CLOSING, s.CLOSED];
  });
  assert.deepEqual(constants, [0, 1, 2, 3, 0, 1, 2, 3]);
});

test('attributes: readyState, url, protocol, extensions, binaryType, bufferedAmount', async () => {
  const seen = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('ws://any-host:8080/speech_summary_stream');
    const initial = { readyState: s.readyState, url: s.url, protocol: s.protocol, extensions: s.extensions, binaryType: s.binaryType, bufferedAmount: s.bufferedAmount };
    s.binaryType = 'arraybuffer';
    const afterValid = s.binaryType;
    s.binaryType = 'nonsense';
    const afterInvalid = s.binaryType;
    await window.whenOpen(s);
    const open = s.readyState;
    s.close();
    return { initial, afterValid, afterInvalid, open };
  });
  assert.deepEqual(seen.initial, { readyState: 0, url: 'ws://any-host:8080/speech_summary_stream', protocol: '', extensions: '', binaryType: 'blob', bufferedAmount: 0 });
  assert.equal(seen.afterValid, 'arraybuffer');
  assert.equal(seen.afterInvalid, 'arraybuffer');
  assert.equal(seen.open, 1);
});

test('send while CONNECTING throws InvalidStateError', async () => {
  const name = await page.evaluate(() => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    try {
      s.send('16000');
      return 'no error';
    } catch (error) {
      return `${error.constructor.name}:${error.name}`;
    } finally {
      s.close();
    }
  });
  assert.equal(name, 'DOMException:InvalidStateError');
});

test('string, ArrayBuffer, views and Blob are sent in order; bufferedAmount counts them', async () => {
  const seen = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const events = window.record(s);
    await window.whenOpen(s);
    s.send('16000');
    const afterText = s.bufferedAmount;
    // 4 messages of 800, 1600, 2400 and 3200 bytes: a Blob first, read asynchronously.
    s.send(new Blob([new Uint8Array(800)]));
    s.send(new ArrayBuffer(1600));
    s.send(new Int16Array(1200));
    s.send(new DataView(new ArrayBuffer(3200)));
    const buffered = s.bufferedAmount;
    while (events.filter(([t]) => t === 'message').length < 5) await new Promise((r) => setTimeout(r, 10));
    const drained = s.bufferedAmount;
    s.close(1000, 'done');
    await window.whenClosed(s);
    const totals = events.filter(([t]) => t === 'message').slice(1).map(([, d]) => JSON.parse(d).current_speech_summary.total_length);
    return { afterText, buffered, drained, first: events[1][1], totals, types: typeof buffered };
  });
  assert.equal(seen.afterText, 5);
  assert.equal(seen.buffered, 5 + 800 + 1600 + 2400 + 3200);
  assert.equal(seen.types, 'number');
  assert.equal(seen.drained, 0);
  assert.equal(seen.first, '200');
  // Lengths are single-precision values, as the original server prints them.
  assert.deepEqual(seen.totals, [0.025, 0.075, 0.15, 0.25].map(Math.fround));
});

test('close() validates code and reason', async () => {
  const errors = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    await window.whenOpen(s);
    const attempt = (...args) => {
      try {
        s.close(...args);
        return 'ok';
      } catch (error) {
        return error.name;
      }
    };
    const results = [attempt(999), attempt(1001), attempt(2999), attempt(5000), attempt(1000, 'x'.repeat(124)), attempt(1000, 'é'.repeat(62))];
    const stillOpen = s.readyState;
    results.push(attempt(4000, 'é'.repeat(61)));
    return { results, stillOpen, closing: s.readyState };
  });
  assert.deepEqual(errors.results, ['InvalidAccessError', 'InvalidAccessError', 'InvalidAccessError', 'InvalidAccessError', 'SyntaxError', 'SyntaxError', 'ok']);
  assert.equal(errors.stillOpen, 1);
  assert.equal(errors.closing, 2);
});

test('events are tasks in the order open, message*, close; no message after close(); close is clean', async () => {
  const seen = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const events = window.record(s);
    const syncAfterConstruct = events.length;
    await window.whenOpen(s);
    s.send('16000');
    s.send(new ArrayBuffer(960));
    s.close(4001, 'bye');
    const syncAfterClose = { events: events.length, state: s.readyState };
    s.send('discarded after close');
    await window.whenClosed(s);
    await new Promise((r) => setTimeout(r, 50));
    return { syncAfterConstruct, syncAfterClose, order: events.map(([t]) => t), close: events.at(-1)[1], finalState: s.readyState };
  });
  assert.equal(seen.syncAfterConstruct, 0);
  assert.deepEqual(seen.syncAfterClose, { events: 1, state: 2 });
  // Replies to messages sent before close() are not dispatched once CLOSING (WHATWG).
  assert.deepEqual(seen.order, ['open', 'close']);
  assert.deepEqual(seen.close, { code: 4001, reason: 'bye', wasClean: true });
  assert.equal(seen.finalState, 3);
});

test('close() without a code reports 1005', async () => {
  const close = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_endpoint_detector');
    await window.whenOpen(s);
    s.close();
    const event = await window.whenClosed(s);
    return { code: event.code, wasClean: event.wasClean, isCloseEvent: event instanceof CloseEvent };
  });
  assert.deepEqual(close, { code: 1005, wasClean: true, isCloseEvent: true });
});

test('on* handlers and addEventListener both fire', async () => {
  const calls = await page.evaluate(async () => {
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const calls = [];
    s.onopen = () => calls.push('onopen');
    s.addEventListener('open', () => calls.push('listener'));
    s.onmessage = (e) => calls.push(`onmessage:${e.data}`);
    const replaced = () => calls.push('replaced');
    s.onclose = replaced;
    s.onclose = (e) => calls.push(`onclose:${e.code}`);
    await window.whenOpen(s);
    s.send('16000');
    await new Promise((r) => setTimeout(r, 50));
    s.close(1000);
    await window.whenClosed(s);
    return { calls, handlerIsFunction: typeof s.onclose };
  });
  assert.deepEqual(calls.calls, ['onopen', 'listener', 'onmessage:200', 'onclose:1000']);
  assert.equal(calls.handlerIsFunction, 'function');
});

test('a "500" sets lastError and warns; the session stays usable', async () => {
  const seen = await page.evaluate(async () => {
    window.warnings.length = 0;
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const events = window.record(s);
    await window.whenOpen(s);
    s.send('not a rate');
    s.send('16000');
    while (events.length < 3) await new Promise((r) => setTimeout(r, 10));
    s.close();
    return { replies: events.slice(1).map(([, d]) => d), lastError: s.lastError, warned: window.warnings.some((w) => w.includes('sample rate')) };
  });
  assert.deepEqual(seen.replies, ['500', '200']);
  assert.match(seen.lastError, /sample rate/);
  assert.equal(seen.warned, true);
});

test('unknown endpoint or close while CONNECTING: error then close 1006', async () => {
  const seen = await page.evaluate(async () => {
    const bad = new window.voiceport.LocalVoiceSocket('voiceport://local/no_such_endpoint');
    const badEvents = window.record(bad);
    await window.whenClosed(bad);
    const early = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const earlyEvents = window.record(early);
    early.close();
    const stateAfterClose = early.readyState;
    await window.whenClosed(early);
    return { badEvents, lastError: bad.lastError, earlyEvents, stateAfterClose };
  });
  assert.deepEqual(seen.badEvents.map(([t]) => t), ['error', 'close']);
  assert.deepEqual(seen.badEvents[1][1], { code: 1006, reason: '', wasClean: false });
  assert.match(seen.lastError, /unknown endpoint/);
  assert.equal(seen.stateAfterClose, 2);
  assert.deepEqual(seen.earlyEvents.map(([t]) => t), ['error', 'close']);
});

test('bad URLs throw SyntaxError', async () => {
  const names = await page.evaluate(() =>
    ['http://[bad', 'ws://host/speech_summary_stream#frag'].map((url) => {
      try {
        new window.voiceport.LocalVoiceSocket(url).close();
        return 'ok';
      } catch (error) {
        return error.name;
      }
    }),
  );
  assert.deepEqual(names, ['SyntaxError', 'SyntaxError']);
});

test('the shim routes matching URLs locally and others to the real WebSocket', async () => {
  const seen = await page.evaluate(async () => {
    const Real = window.WebSocket;
    const uninstall = window.voiceport.installWebSocketShim();
    const local = new WebSocket('ws://any-host:8080/speech_summary_stream');
    const other = new WebSocket('ws://127.0.0.1:9/elsewhere');
    const result = {
      localIsLocal: local instanceof window.voiceport.LocalVoiceSocket,
      localIsWebSocket: local instanceof WebSocket,
      otherIsReal: other instanceof Real,
      constant: WebSocket.OPEN,
    };
    other.onerror = () => {};
    other.close();
    await window.whenOpen(local);
    local.send('16000');
    result.reply = await new Promise((r) => (local.onmessage = (e) => r(e.data)));
    local.close();
    uninstall();
    result.restored = window.WebSocket === Real;
    return result;
  });
  assert.deepEqual(seen, { localIsLocal: true, localIsWebSocket: true, otherIsReal: true, constant: 1, reply: '200', restored: true });
});

test('close(code) converts the code as WebIDL [Clamp] unsigned short', async () => {
  const seen = await page.evaluate(async () => {
    const attempt = async (code) => {
      const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
      await window.whenOpen(s);
      try {
        s.close(code);
      } catch (error) {
        s.close();
        return error.name;
      }
      return (await window.whenClosed(s)).code;
    };
    const results = [];
    for (const code of [1000.4, 3000.5, 3001.5, '4000', 999.6, -1, 70000, NaN]) results.push(await attempt(code));
    return results;
  });
  assert.deepEqual(seen, [1000, 3000, 3002, 4000, 1000, 'InvalidAccessError', 'InvalidAccessError', 'InvalidAccessError']);
});

test('http and https URLs become ws and wss, other schemes throw SyntaxError', async () => {
  const seen = await page.evaluate(() =>
    ['http://host:8080/speech_summary_stream?frames=new', 'https://host/voice_verify_stream', 'ftp://host/speech_summary_stream'].map((url) => {
      try {
        const s = new window.voiceport.LocalVoiceSocket(url);
        s.close();
        return s.url;
      } catch (error) {
        return error.name;
      }
    }),
  );
  assert.deepEqual(seen, ['ws://host:8080/speech_summary_stream?frames=new', 'wss://host/voice_verify_stream', 'SyntaxError']);
});

test('a socket opens within one task and audio sent at once waits for the engine', async () => {
  const fresh = await openPage(browser, server.url, '/test/socket.html');
  await fresh.waitForFunction(() => window.ready);
  const seen = await fresh.evaluate(async () => {
    const started = performance.now();
    const s = new window.voiceport.LocalVoiceSocket('ws://host/speech_summary_stream?api_key=k');
    const events = window.record(s);
    await window.whenOpen(s);
    const openedAfter = performance.now() - started;
    s.send('16000');
    for (let i = 0; i < 5; i++) s.send(new Int16Array(1600));
    while (events.filter(([t]) => t === 'message').length < 6) await new Promise((r) => setTimeout(r, 10));
    s.close();
    const replies = events.filter(([t]) => t === 'message').map(([, d]) => d);
    return { openedAfter, first: replies[0], totals: replies.slice(1).map((r) => JSON.parse(r).current_speech_summary.total_length) };
  });
  await fresh.close();
  // Opening does not wait for the worker, the wasm module or the models.
  assert.ok(seen.openedAfter < 50, `opened after ${seen.openedAfter} ms`);
  assert.equal(seen.first, '200');
  assert.deepEqual(seen.totals, [0.1, 0.2, 0.3, 0.4, 0.5].map(Math.fround));
});

// Headless Chromium under Playwright reports every page visible, so a hidden
// tab's timer throttling (each timer task ≥ 1 s late) is reproduced by making
// the page's own timers that late: event dispatch must not depend on them.
test('replies are not delayed when timers are throttled as in a hidden tab', async () => {
  const throttled = await openPage(browser, server.url, '/test/socket.html');
  await throttled.waitForFunction(() => window.ready);
  const seen = await throttled.evaluate(async () => {
    const realSetTimeout = window.setTimeout;
    window.setTimeout = (fn, ms, ...args) => realSetTimeout(fn, Math.max(ms ?? 0, 1000), ...args);
    const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_endpoint_detector');
    const started = performance.now();
    await window.whenOpen(s);
    const replies = [];
    s.onmessage = () => replies.push(performance.now());
    for (const param of ['300', '500', '16000']) s.send(param);
    for (let i = 0; i < 10; i++) s.send(new Int16Array(160));
    while (replies.length < 13) await new Promise((r) => s.addEventListener('message', r, { once: true }));
    s.close();
    window.setTimeout = realSetTimeout;
    return replies.at(-1) - started;
  });
  await throttled.close();
  assert.ok(seen < 1000, `open and 13 replies took ${seen} ms with throttled timers`);
});

test('an engine panic fails every socket with 1011 and its message; a fresh worker serves new sockets', async () => {
  const fresh = await openPage(browser, server.url, '/test/socket.html');
  await fresh.waitForFunction(() => window.ready);
  const seen = await fresh.evaluate(async () => {
    const { LocalVoiceSocket, _panicEngineForTesting } = window.voiceport;
    const sockets = [new LocalVoiceSocket('voiceport://local/speech_summary_stream'), new LocalVoiceSocket('voiceport://local/speech_endpoint_detector')];
    const events = sockets.map((s) => window.record(s));
    await Promise.all(sockets.map((s) => window.whenOpen(s)));
    sockets[0].send('16000');
    await new Promise((r) => sockets[0].addEventListener('message', r, { once: true }));
    const call = await _panicEngineForTesting().then(() => 'resolved', (error) => error.message);
    await Promise.all(sockets.map((s) => (s.readyState === 3 ? null : window.whenClosed(s))));
    const after = new LocalVoiceSocket('voiceport://local/speech_summary_stream');
    await window.whenOpen(after);
    after.send('16000');
    const reply = await new Promise((r) => (after.onmessage = (e) => r(e.data)));
    after.close();
    return { call, events: events.map((list) => list.map(([t, d]) => (t === 'close' ? d : t))), lastErrors: sockets.map((s) => s.lastError), states: sockets.map((s) => s.readyState), reply };
  });
  await fresh.close();
  assert.match(seen.call, /panic requested by a test/);
  assert.deepEqual(seen.events[0], ['open', 'message', 'error', { code: 1011, reason: '', wasClean: false }]);
  assert.deepEqual(seen.events[1], ['open', 'error', { code: 1011, reason: '', wasClean: false }]);
  seen.lastErrors.forEach((error) => assert.match(error, /panic requested by a test/));
  assert.deepEqual(seen.states, [3, 3]);
  assert.equal(seen.reply, '200');
});

test('a worker that cannot start fails its sockets with error then close 1006, with the reason', async () => {
  const broken = await startStaticServer([
    ['/pkg/worker.js', join(ROOT, 'tests/browser/pages/missing')],
    ['/test/', join(ROOT, 'tests/browser/pages')],
    ['/', join(ROOT, 'dist')],
  ]);
  try {
    const fresh = await openPage(browser, broken.url, '/test/socket.html');
    await fresh.waitForFunction(() => window.ready);
    const seen = await fresh.evaluate(async () => {
      const s = new window.voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
      const events = window.record(s);
      await window.whenClosed(s);
      return { events: events.map(([t, d]) => (t === 'close' ? d : t)), lastError: s.lastError };
    });
    await fresh.close();
    assert.deepEqual(seen.events, ['open', 'error', { code: 1006, reason: '', wasClean: false }]);
    assert.match(seen.lastError, /worker failed/);
  } finally {
    broken.close();
  }
});

test('a verify stream that falls behind real time skips stale windows and catches up', async () => {
  const fresh = await openPage(browser, server.url, '/test/socket.html');
  await fresh.waitForFunction(() => window.ready);
  const scores = await fresh.evaluate(async () => {
    const { LocalVoiceSocket, createTemplateFromSamples } = window.voiceport;
    const pause = (ms) => new Promise((r) => setTimeout(r, ms));
    const wav = await (await fetch('/data/demo/speaker_a_enroll.wav')).arrayBuffer();
    const speech = new Int16Array(wav.slice(44));
    const template = await createTemplateFromSamples(speech, 16000);
    const s = new LocalVoiceSocket('voiceport://local/voice_verify_stream');
    const replies = [];
    s.onmessage = (e) => replies.push(e.data);
    await window.whenOpen(s);
    for (const param of [template, '16000', '3']) s.send(param);
    s.send(speech.slice(0, 48000));
    while (replies.length < 4) await pause(10);
    // Other work occupies the engine (a template of 30 s) while the client
    // goes on sending 0.5 s every 150 ms, as a capture callback does.
    const long = new Int16Array(16000 * 30).map((_, i) => speech[i % speech.length]);
    const busy = createTemplateFromSamples(long, 16000);
    for (let i = 0; i < 8; i++) {
      s.send(speech.slice((i % 6) * 4000, (i % 6) * 4000 + 8000));
      await pause(150);
    }
    await busy;
    while (replies.length < 12) await pause(10);
    s.close();
    return replies.slice(4).map((reply) => JSON.parse(reply).map((result) => result.verify_result.score));
  });
  await fresh.close();
  // Each message completes one window. Those sent ≥ 0.5 s before the newest
  // queued one were late: answered at once, their window skipped ([]).
  assert.equal(scores.length, 8);
  assert.ok(scores.some((s) => s.length === 0), JSON.stringify(scores));
  // The newest is on time again: scored.
  assert.equal(scores.at(-1).length, 1, JSON.stringify(scores));
  assert.ok(scores.at(-1)[0] > 0.5, JSON.stringify(scores));
});
