// The npm package under Node.js: the engine in a worker_threads worker,
// models read from the package's files; the same API as in the browser.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURE, LABELS, OPTIONS, assertFixtureSegments } from '../shared/segments.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const PACKAGE = join(ROOT, 'dist/pkg');
const voiceport = await import(join(PACKAGE, 'node.js'));
const wav = readFileSync(FIXTURE);
const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));

test('speech summary of a WAV file: every frame, every utterance within a voice run', async () => {
  const summary = await voiceport.speechSummaryFromWav(wav);
  assert.equal(summary.vad_result.frames.length, Math.floor(pcm.length / 480));
  const voiced = summary.speech_events.filter((event) => event.is_voice).map((event) => event.audio_interval);
  for (const label of LABELS) {
    const middle = ((label.start + label.end) / 2) * 1000;
    assert.ok(voiced.some((run) => run.start_time <= middle && middle < run.end_time), `${label.start}–${label.end} s`);
  }
});

test('LocalVoiceSocket: the endpoint stream answers as over the network', async () => {
  const socket = new voiceport.LocalVoiceSocket('voiceport://local/speech_endpoint_detector');
  const replies = [];
  const closed = new Promise((resolve) => {
    socket.onclose = resolve;
  });
  socket.onopen = () => {
    for (const parameter of ['300', '600', '16000']) socket.send(parameter);
    for (let offset = 0; offset < 16000 * 10; offset += 1600) socket.send(pcm.subarray(offset, offset + 1600));
  };
  socket.onmessage = ({ data }) => {
    replies.push(data);
    if (replies.length === 103) socket.close(1000, 'done');
  };
  const event = await closed;
  assert.deepEqual(replies.slice(0, 3), ['200', '200', '200']);
  // The first utterance ends at 7.76 s: the endpoint comes after its silence.
  const first = replies.indexOf('true') - 3;
  assert.ok(first >= 78 && first <= 90, `endpoint after ${first} chunks`);
  assert.ok(replies.slice(3, 3 + first).every((reply) => reply === 'false'));
  assert.equal(event.code, 1000);
  assert.equal(event.reason, 'done');
  assert.equal(event.wasClean, true);
});

test('templates: created from WAV and PCM, merged and matched', async () => {
  const fromWav = await voiceport.createTemplateFromWav(wav);
  const fromPcm = await voiceport.createTemplateFromSamples(pcm, 16000);
  assert.equal(fromWav, fromPcm);
  const merged = await voiceport.mergeTemplates([fromWav, fromPcm]);
  const { probability, score } = await voiceport.matchTemplates(fromWav, merged);
  assert.ok(score > 0.99 && probability > 0.9, `${score} ${probability}`);
  await assert.rejects(voiceport.matchTemplates(fromWav, 'not a template'), /template/i);
});

test('the engine build matches what this Node.js runs: relaxed SIMD only where supported', async () => {
  const { relaxedSimd } = await import(join(PACKAGE, 'wasm-feature-detect.js'));
  const expected = (await relaxedSimd()) ? 'relaxed SIMD' : 'SIMD128';
  assert.equal((await voiceport.engineStats()).kernels, expected);
  // The engine still embeds speech with either build: a 3 s template.
  assert.match(await voiceport.createTemplateFromSamples(pcm.subarray(16000, 64000), 16000), /^[A-Za-z0-9+/]+=*$/);
});

test('speech segments over PCM buffers, as in the browser', async () => {
  const log = [];
  const detector = new voiceport.SpeechSegments({
    ...OPTIONS,
    onSpeechStart: ({ start }) => log.push({ type: 'start', start }),
    onSpeechEnd: (audio, { start, end }) => log.push({ type: 'end', start, end, samples: audio.length }),
    onMisfire: ({ start, end }) => log.push({ type: 'misfire', start, end }),
  });
  for (let offset = 0; offset < pcm.length; offset += 4000) await detector.push(pcm.subarray(offset, offset + 4000), 16000);
  await detector.flush();
  await detector.destroy();
  assertFixtureSegments(log);
  assert.deepEqual(await voiceport.engineStats().then(({ segmentStreams }) => segmentStreams), 0);
});

test('a script using the package exits by itself once its work is done', () => {
  const script = `
    const voiceport = await import(${JSON.stringify(join(PACKAGE, 'node.js'))});
    const socket = new voiceport.LocalVoiceSocket('voiceport://local/speech_summary_stream');
    socket.onopen = () => socket.send('16000');
    socket.onmessage = () => socket.close();
    await voiceport.buildInfo();
  `;
  // execFileSync throws if the process is still alive after the timeout.
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
});

test('installed from the packed tarball: `import "voiceport"` and `npx voiceport` work', () => {
  const app = join(ROOT, 'target/node-app');
  rmSync(app, { recursive: true, force: true });
  cpSync(join(ROOT, 'tests/node/app'), app, { recursive: true });
  const run = (command, args) => execFileSync(command, args, { cwd: app, encoding: 'utf8', timeout: 60_000 });
  run('npm', ['pack', PACKAGE, '--pack-destination', app, '--silent']);
  const tarball = readdirSync(app).find((file) => file.endsWith('.tgz'));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`]);
  writeFileSync(join(app, 'main.mjs'), `
    import { buildInfo, speechSummaryFromWav } from 'voiceport';
    import { readFileSync } from 'node:fs';
    const summary = await speechSummaryFromWav(readFileSync(${JSON.stringify(FIXTURE)}));
    console.log(JSON.stringify({ name: (await buildInfo()).name, total: summary.total_length.toFixed(2) }));
  `);
  assert.deepEqual(JSON.parse(run(process.execPath, ['main.mjs'])), { name: 'voiceport', total: '35.73' });
  assert.match(run('npx', ['--offline', 'voiceport', '--help']), /Usage: voiceport <command>/);
});
