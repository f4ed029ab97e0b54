// Guided enrollment: a recording made until enough speech was heard, with
// progress and live quality feedback, ending in a voice template.
import { openMicrophone } from './capture.js';
import { call, newId } from './engine.js';
import { pcm16Buffer } from './pcm.js';

/** Seconds of speech wanted by default. */
const DEFAULT_SECONDS = 8;

/** The chunks of a microphone as an async iterable, until `stopped` resolves. */
async function* microphoneChunks(microphone, stopped) {
  const waiting = [];
  let wake = null;
  const unlisten = microphone.onChunk((chunk) => {
    waiting.push(new Int16Array(chunk));
    wake?.();
  });
  let ended = false;
  stopped.then(() => {
    ended = true;
    wake?.();
  });
  try {
    while (!ended) {
      if (waiting.length === 0) {
        await new Promise((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      yield waiting.shift();
    }
  } finally {
    unlisten();
  }
}

/**
 * Records until `seconds` of speech were heard and makes a voice template:
 * resolves `{template, quality}`. Audio comes from `microphone` (an
 * `openMicrophone()` result, left open), from `chunks` (an iterable or
 * async iterable of Int16Array/Float32Array at `sampleRate`), or else from
 * a microphone opened and closed here. `onProgress({percent, speechSeconds,
 * neededSeconds, done, problems, level_dbfs, snr_db})` follows each chunk:
 * `problems` is the live advice on the last 3 s (`too_quiet`, `too_noisy`,
 * `clipped`, `too_little_speech`). Rejects with the reason when the
 * recording ends without enough speech for a template, or on `signal`'s abort.
 */
export async function enroll({ seconds = DEFAULT_SECONDS, onProgress = () => {}, microphone, chunks, sampleRate, signal, audio } = {}) {
  signal?.throwIfAborted();
  if (chunks && !(sampleRate > 0)) throw new TypeError('enroll: `chunks` needs their `sampleRate`');
  const own = !chunks && !microphone ? await openMicrophone({ audio }) : null;
  const source = microphone ?? own;
  const rate = chunks ? sampleRate : source.sampleRate;
  const id = newId();
  let finished = false;
  let stop;
  const stopped = new Promise((resolve) => {
    stop = resolve;
  });
  const abort = () => stop();
  signal?.addEventListener('abort', abort);
  try {
    await call('enrollOpen', [id, rate, seconds]);
    const input = chunks ?? microphoneChunks(source, stopped);
    let done = false;
    for await (const chunk of input) {
      if (signal?.aborted) break;
      const buffer = pcm16Buffer(chunk);
      const progress = await call('enrollPush', [id, buffer], [buffer]);
      done = progress.done;
      onProgress({
        percent: progress.percent,
        speechSeconds: progress.speech_seconds,
        neededSeconds: progress.needed_seconds,
        done,
        problems: progress.recent.problems,
        level_dbfs: progress.recent.level_dbfs,
        snr_db: progress.recent.snr_db,
      });
      if (done) break;
    }
    stop();
    signal?.throwIfAborted();
    finished = true;
    return await call('enrollFinish', [id, true]);
  } finally {
    signal?.removeEventListener('abort', abort);
    stop();
    if (!finished) await call('enrollFinish', [id, false]).catch(() => {});
    await own?.stop();
  }
}
