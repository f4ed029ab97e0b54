// Guided enrollment (`enroll`): progress, live quality advice and the
// template, over pushed PCM chunks and Chromium's fake microphone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURE } from '../shared/segments.mjs';
import { pagesWithMicrophone } from './harness.mjs';

const ready = pagesWithMicrophone(FIXTURE);
const page = () => ready('/test/enroll.html');

function assertRising(progress) {
  progress.reduce((last, { percent }) => {
    assert.ok(percent >= last && percent <= 100, `${last} → ${percent}`);
    return percent;
  }, 0);
}

test('chunks: progress to 100 %, then the template of exactly the audio used', async () => {
  const opened = await page();
  const { progress, result, sameAsDirect, stats } = await opened.evaluate(() => window.enrollChunks(1, 4));
  assertRising(progress);
  const last = progress.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.percent, 100);
  assert.ok(last.speechSeconds >= 4 && last.neededSeconds === 4);
  // Four seconds of speech take more than four seconds of audio.
  assert.ok(progress.length > 40 && progress.length < 100, `${progress.length} chunks`);
  assert.equal(sameAsDirect, true);
  assert.ok(result.quality.enough_speech);
  assert.deepEqual(result.quality.problems, []);
  assert.equal(stats.enrollments, 0);
  await opened.close();
});

test('live advice: too quiet, clipped; no template without speech, with the reason', async () => {
  const opened = await page();
  // −50 dB: Silero still hears the speech, but the advice is to speak up.
  const quiet = await opened.evaluate(() => window.enrollChunks(0.003, 2));
  assert.ok(quiet.progress.some((p) => p.problems.includes('too_quiet')), JSON.stringify(quiet.progress.at(-1)));
  assert.ok(quiet.result.quality.problems.includes('too_quiet'));
  // −60 dB rounds to near digital silence: the whole file without speech.
  const silent = await opened.evaluate(() => window.enrollChunks(0.001, 2));
  assert.ok(silent.progress.every((p) => p.percent === 0 && p.problems.includes('too_little_speech')));
  assert.match(silent.error, /not enough speech: 0\.00 s found/);
  assert.equal(silent.stats.enrollments, 0);
  const clipped = await opened.evaluate(() => window.enrollChunks(30, 2));
  assert.ok(clipped.progress.some((p) => p.problems.includes('clipped')));
  assert.ok(clipped.result.quality.problems.includes('clipped'));
  await opened.close();
});

test('microphone: enrolls in about real time, then releases everything; abort stops it', async () => {
  const opened = await page();
  const { progress, result, self, seconds, stats } = await opened.evaluate(() => window.enrollMicrophone(3));
  assertRising(progress);
  assert.equal(progress.at(-1).done, true);
  assert.ok(seconds > 3 && seconds < 20, `${seconds} s`);
  assert.ok(self.score > 0.99);
  assert.ok(result.quality.speech_length >= 3);
  assert.equal(stats.enrollments, 0);
  const aborted = await opened.evaluate(() => window.enrollMicrophone(3, 2));
  assert.equal(aborted.error, 'AbortError');
  assert.equal(aborted.progress.length, 2);
  assert.equal(aborted.stats.enrollments, 0);
  await opened.close();
});
