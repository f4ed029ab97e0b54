// Speech segments (SpeechSegments): over pushed PCM and over Chromium's fake
// microphone playing LibriVox utterances separated by silence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURE, LABELS, OPTIONS, assertFixtureSegments } from '../shared/segments.mjs';
import { pagesWithMicrophone } from './harness.mjs';

const ready = pagesWithMicrophone(FIXTURE);
const page = () => ready('/test/segments.html');

test('pushed PCM: one segment per utterance, its audio and bounds, every frame', async () => {
  const opened = await page();
  const { log, frames, samples } = await opened.evaluate((options) => window.segmentsOfFile(options), OPTIONS);
  assert.equal(frames, Math.floor(samples / 480));
  assertFixtureSegments(log);
  assert.ok(log.every((entry) => entry.type !== 'end' || entry.isFloat32));
  // Float32 input is the same audio; flushing the first 12 s ends the
  // second utterance there.
  const floats = await opened.evaluate((options) => window.segmentsOfFloats(options), OPTIONS);
  assert.deepEqual(floats.slice(0, 3), log.slice(0, 3));
  assert.deepEqual(floats[3], { ...log[3], end: 12_000, samples: (12_000 - log[3].start) * 16 });
  // A high minimum turns every utterance into a misfire.
  const strict = await opened.evaluate(() => window.segmentsOfFile({ minSpeechMs: 60_000, redemptionMs: 600 }));
  assert.deepEqual(strict.log.map((entry) => entry.type), LABELS.flatMap(() => ['start', 'misfire']));
  assert.match(await opened.evaluate(() => window.badOptions()), /negativeSpeechThreshold/);
  await opened.close();
});

test('microphone: the first utterance ends with its audio; the microphone is released', async () => {
  const opened = await page();
  const result = await opened.evaluate((options) => window.firstUtteranceFromMicrophone(options), OPTIONS);
  const [start, end] = result.log;
  assert.equal(start.type, 'start');
  assert.equal(end.type, 'end');
  // The file starts when capture starts: the first utterance is 1.2–7.8 s into it.
  const seconds = (end.end - end.start) / 1000;
  assert.ok(seconds > LABELS[0].end - LABELS[0].start && seconds < 9, `${seconds} s`);
  assert.ok(end.samples === (end.end - end.start) * 16);
  assert.ok(result.frames > 250, `${result.frames} frames`);
  assert.equal(result.tracksEnded, true);
  assert.equal(result.mediaStream, null);
  await opened.close();
});

test('pause stops the frames until start resumes them', async () => {
  const opened = await page();
  const { atPause, afterWait, listening, resumed } = await opened.evaluate(() => window.pauseAndResume());
  assert.equal(listening, false);
  assert.equal(afterWait, atPause, 'no frame while paused');
  assert.equal(resumed, true);
  await opened.close();
});

test('create/destroy 20 times: no stream left in the engine, memory flat, microphones released', async () => {
  const opened = await page();
  const { stats, tracksEnded } = await opened.evaluate(() => window.createAndDestroy(20));
  assert.equal(tracksEnded, true);
  assert.ok(stats.every((s) => s.segmentStreams === 0 && s.connections === 0), JSON.stringify(stats));
  assert.equal(stats.at(-1).wasmBytes, stats[4].wasmBytes, JSON.stringify(stats.map((s) => s.wasmBytes)));
  await opened.close();
});
