// The command line (`npx voiceport …`): every command's output, help,
// progress on stderr, and clear errors with exit codes for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURE, LABELS } from '../shared/segments.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/pkg/bin/voiceport.js');
const OGG = join(ROOT, 'tests/data/opus/librivox_64kbps_20ms.opus');
const work = mkdtempSync(join(tmpdir(), 'voiceport-cli-'));

/** Runs the command line: `{status, stdout, stderr}`. */
function voiceport(...args) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status, stdout, stderr };
}

/** A PCM16 WAV file of interleaved `samples`. */
function wavFile(name, samples, rate, channels = 1) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2 * channels, 28);
  header.writeUInt16LE(2 * channels, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples.byteLength, 40);
  const path = join(work, name);
  writeFileSync(path, Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]));
  return path;
}

const jsonLines = (text) => text.trim().split('\n').map((line) => JSON.parse(line));

test('summary, endpoint and segments of a WAV file', () => {
  const summary = voiceport('summary', FIXTURE);
  assert.equal(summary.status, 0, summary.stderr);
  assert.equal(JSON.parse(summary.stdout).vad_result.frames.length, 1191);

  const endpoint = voiceport('endpoint', FIXTURE, '--min-speech', '300', '--silence', '600');
  assert.equal(endpoint.status, 0, endpoint.stderr);
  const { endpoint: reached, seconds } = JSON.parse(endpoint.stdout);
  assert.equal(reached, true);
  assert.ok(seconds > LABELS[0].end + 0.5 && seconds < LABELS[0].end + 1.2, `${seconds}`);
  assert.deepEqual(JSON.parse(voiceport('endpoint', FIXTURE, '--min-speech', '100000').stdout), { endpoint: false });

  const segments = voiceport('segments', FIXTURE, '--redemption-ms', '600', '--pre-speech-pad-ms', '300');
  assert.equal(segments.status, 0, segments.stderr);
  const found = jsonLines(segments.stdout);
  assert.equal(found.length, LABELS.length);
  found.forEach(({ start, end }, i) => assert.ok(start / 1000 < LABELS[i].start && end / 1000 > LABELS[i].end));
  // A recording over 30 s reports its progress on stderr.
  assert.match(segments.stderr, /voiceport: 50% of 35\.7 s/);
});

test('template, match and verify (JSON lines)', () => {
  const template = voiceport('template', FIXTURE);
  assert.equal(template.status, 0, template.stderr);
  const file = join(work, 'template.txt');
  writeFileSync(file, template.stdout);

  const match = voiceport('match', file, file);
  assert.equal(match.status, 0, match.stderr);
  assert.ok(JSON.parse(match.stdout).score > 0.99);

  const verify = voiceport('verify', '--template', file, FIXTURE);
  assert.equal(verify.status, 0, verify.stderr);
  const results = jsonLines(verify.stdout);
  // A 3 s window every 0.5 s over 35.7 s of audio.
  assert.equal(results.length, 66);
  assert.deepEqual(results[0].audio_interval, { end_sample: 48000, end_time: 3000, sample_rate: 16000, start_sample: 0, start_time: 0 });
  assert.ok(results.every((result) => result.verify_result.probability >= 0 && result.verify_result.probability <= 1));
});

test('Ogg Opus and WAV at other rates are read', () => {
  const summary = voiceport('summary', OGG);
  assert.equal(summary.status, 0, summary.stderr);
  assert.ok(JSON.parse(summary.stdout).speech_length > 1);
  const endpoint = voiceport('endpoint', OGG);
  assert.equal(endpoint.status, 0, endpoint.stderr);
  assert.equal(JSON.parse(endpoint.stdout).seconds, null);
  // The fixture's first 12 s at 8 kHz (every other sample) in stereo.
  const wav = readFileSync(FIXTURE);
  const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + 44 + 16000 * 2 * 12));
  const stereo8k = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length / 2; i++) stereo8k.set([pcm[2 * i], pcm[2 * i]], 2 * i);
  const atEight = voiceport('summary', wavFile('stereo-8k.wav', stereo8k, 8000, 2));
  const atSixteen = voiceport('summary', wavFile('mono-16k.wav', pcm, 16000));
  assert.equal(atEight.status, 0, atEight.stderr);
  const [eight, sixteen] = [atEight, atSixteen].map(({ stdout }) => JSON.parse(stdout));
  assert.equal(eight.total_length.toFixed(2), '12.00');
  assert.ok(Math.abs(eight.speech_signal_length - sixteen.speech_signal_length) < 0.5, `${eight.speech_signal_length} vs ${sixteen.speech_signal_length}`);
});

test('--help for the program and each command', () => {
  const main = voiceport('--help');
  assert.equal(main.status, 0);
  for (const command of ['summary', 'endpoint', 'template', 'verify', 'match', 'segments']) {
    assert.match(main.stdout, new RegExp(`\\n  ${command} `));
    const help = voiceport(command, '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: voiceport ${command}`));
  }
});

test('bad usage exits 2, bad input exits 1, each with a reason on stderr', () => {
  const notAudio = join(work, 'not-audio.wav');
  writeFileSync(notAudio, 'hello');
  const silence = wavFile('silence.wav', new Int16Array(16000 * 2), 16000);
  const cases = [
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['summary'], 2, /expected one file, got 0/],
    [['summary', 'a.wav', 'b.wav'], 2, /expected one file, got 2/],
    [['summary', join(work, 'missing.wav')], 2, /cannot read .*missing\.wav: no such file/],
    [['endpoint', FIXTURE, '--silence', 'soon'], 2, /--silence must be a whole number/],
    [['endpoint', FIXTURE, '--colour', 'red'], 2, /Unknown option '--colour'/],
    [['verify', FIXTURE], 2, /--template FILE is required/],
    [['verify', '--template', FIXTURE, '--window', '0', FIXTURE], 2, /--window must be a positive number/],
    [['summary', notAudio], 1, /not-audio\.wav: .*WAV/],
    [['template', silence], 1, /silence\.wav: .*speech/],
    [['template', OGG], 1, /template needs a WAV file/],
    [['match', notAudio, notAudio], 1, /template/i],
    [['verify', '--template', notAudio, FIXTURE], 1, /template/i],
  ];
  for (const [args, status, reason] of cases) {
    const result = voiceport(...args);
    assert.equal(result.status, status, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, reason, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
});
