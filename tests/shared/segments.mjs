// What the speech segments of the LibriVox fixture must be, checked the same
// way in Chromium (tests/browser) and in Node.js (tests/node).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The fixture: five utterances separated by silence, 16 kHz mono WAV. */
export const FIXTURE = join(ROOT, 'tests/data/librivox/librivox_concat_gaps.wav');

/** Its labelled utterances, in seconds. */
export const LABELS = JSON.parse(readFileSync(join(ROOT, 'tests/data/librivox/librivox_concat_gaps_labels.json'), 'utf8')).speech;

/** Options short enough to separate the fixture's utterances. */
export const OPTIONS = { redemptionMs: 600, preSpeechPadMs: 300, minSpeechMs: 250 };

/**
 * Checks a log of `{type: 'start'|'end'|'misfire', start, end, samples}`
 * entries (frames left out) for the whole fixture under OPTIONS: one
 * segment per utterance, padded before and redeemed after, its audio as long
 * as its bounds say.
 */
export function assertFixtureSegments(log) {
  assert.deepEqual(log.map((entry) => entry.type), LABELS.flatMap(() => ['start', 'end']));
  log.filter((entry) => entry.type === 'end').forEach((end, i) => {
    const label = LABELS[i];
    assert.ok(end.start / 1000 <= label.start && end.start / 1000 >= label.start - 0.5, `start ${end.start} vs ${label.start}`);
    assert.ok(end.end / 1000 >= label.end && end.end / 1000 <= label.end + 1, `end ${end.end} vs ${label.end}`);
    assert.equal(end.samples, (end.end - end.start) * 16);
  });
}
