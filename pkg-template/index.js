// voiceport: the voice server's API, processed locally in a Web Worker.
// `LocalVoiceSocket` behaves as a browser WebSocket connected to the
// server; `installVoiceServerShim()` makes an existing client's WebSocket,
// fetch and XMLHttpRequest requests to the server local, unchanged.
import { call } from './engine.js';
import { toArrayBuffer } from './socket.js';

export { openMicrophone } from './capture.js';
export { onProgress, supported } from './engine.js';
export { installVoiceServerShim, installWebSocketShim } from './shim.js';
export { LocalVoiceSocket } from './socket.js';
export { enroll } from './enroll.js';
export { SpeechSegments } from './segments.js';
export { ENDPOINT_PATHS, REST_PATHS } from './urls.js';

/** Loads the models ahead of use (`{speaker: true}` also loads the speaker model). */
export function preload({ speaker = false } = {}) {
  return call('preload', [speaker]);
}

/** A base64 voice template from PCM16 samples (Int16Array or bytes) at `sampleRate`. */
export function createTemplateFromSamples(pcm16, sampleRate) {
  const buffer = toArrayBuffer(pcm16);
  return call('createTemplateFromSamples', [buffer, sampleRate], [buffer]);
}

/** A base64 voice template from the bytes of a WAV file. */
export async function createTemplateFromWav(wav) {
  const buffer = wav instanceof Blob ? await wav.arrayBuffer() : toArrayBuffer(wav);
  return call('createTemplateFromWav', [buffer], [buffer]);
}

/** Merges base64 templates of one speaker into one. */
export function mergeTemplates(templates) {
  return call('mergeTemplates', [[...templates]]);
}

/** Compares two base64 templates: `{score, probability}`. */
export function matchTemplates(template1, template2) {
  return call('matchTemplates', [template1, template2]);
}

/** The speech summary of PCM16 samples at `sampleRate`. */
export function speechSummaryFromSamples(pcm16, sampleRate) {
  const buffer = toArrayBuffer(pcm16);
  return call('speechSummaryFromSamples', [buffer, sampleRate], [buffer]);
}

/** The speech summary of the bytes of a WAV file. */
export async function speechSummaryFromWav(wav) {
  const buffer = wav instanceof Blob ? await wav.arrayBuffer() : toArrayBuffer(wav);
  return call('speechSummaryFromWav', [buffer], [buffer]);
}

/**
 * Enrollment quality `{speech_length, snr_db, enough_speech}` of PCM16 samples at
 * `sampleRate`, or of a WAV file (Blob or bytes) when `sampleRate` is omitted.
 */
export async function voiceQuality(audio, sampleRate) {
  const buffer = audio instanceof Blob ? await audio.arrayBuffer() : toArrayBuffer(audio);
  return call('voiceQuality', [buffer, sampleRate], [buffer]);
}

/** A WAV file's samples as PCM16 at its own rate (channels averaged): `{sampleRate, pcm16}`. */
export async function decodeWav(wav) {
  const buffer = wav instanceof Blob ? await wav.arrayBuffer() : toArrayBuffer(wav);
  return call('wavToPcm16', [buffer], [buffer]);
}

/**
 * What the engine holds (open connections, segment streams and enrollments, wasm memory in
 * bytes), how busy it is, and which of its builds runs (`kernels`).
 */
export function engineStats() {
  return call('engineStats', []);
}

/** Version and model identifiers. */
export function buildInfo() {
  return call('buildInfo', []);
}

/**
 * Makes the engine panic, for tests of failure handling: every local
 * socket then fails with close code 1011 and a fresh worker serves new ones.
 */
export function _panicEngineForTesting() {
  return call('panicForTesting', []);
}
