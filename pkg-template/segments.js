// Speech segments: utterances cut out of the microphone (or any PCM source)
// by the engine's VAD, with @ricky0123/vad-web's callbacks and option names.
import { openMicrophone } from './capture.js';
import { call, newId } from './engine.js';
import { pcm16Buffer } from './pcm.js';

/** The options the engine takes (milliseconds and probabilities). */
const ENGINE_OPTIONS = ['positiveSpeechThreshold', 'negativeSpeechThreshold', 'redemptionMs', 'preSpeechPadMs', 'minSpeechMs'];

/**
 * A speech detector: `onSpeechStart`, `onSpeechEnd(audio, {start, end})`
 * with the utterance's 16 kHz audio, `onMisfire` (too little speech),
 * `onFrame(probability, isSpeech)` every 30 ms. `start()` listens to the
 * microphone; `push()` feeds any other PCM source.
 */
export class SpeechSegments {
  #options;
  #callbacks;
  #audio;
  #stream = null;
  #microphone = null;
  #unlisten = null;
  #queue = Promise.resolve();
  #destroyed = false;

  constructor(options = {}) {
    this.#options = Object.fromEntries(ENGINE_OPTIONS.filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
    const ignore = () => {};
    this.#callbacks = {
      onSpeechStart: options.onSpeechStart ?? ignore,
      onSpeechEnd: options.onSpeechEnd ?? ignore,
      onMisfire: options.onMisfire ?? ignore,
      onFrame: options.onFrame ?? ignore,
      onError: options.onError ?? ((error) => console.error('voiceport segments:', error)),
    };
    this.#audio = options.audio;
  }

  /** The microphone's MediaStream while it is open, else null. */
  get mediaStream() {
    return this.#microphone?.stream ?? null;
  }

  /** Whether the microphone is being listened to. */
  get listening() {
    return this.#unlisten !== null;
  }

  /** Listens to the microphone (opened on the first start, kept across pauses). */
  async start() {
    if (this.#destroyed) throw new Error('the speech detector has been destroyed');
    this.#microphone ??= await openMicrophone({ audio: this.#audio });
    if (this.#destroyed) return this.#releaseMicrophone();
    const microphone = this.#microphone;
    // Opened now, so that bad options reject start() with their reason.
    await this.#enqueue(() => this.#open(microphone.sampleRate));
    this.#unlisten ??= microphone.onChunk((chunk) => {
      this.push(new Int16Array(chunk), microphone.sampleRate).catch(this.#callbacks.onError);
    });
  }

  /** Stops listening; a segment being heard ends now. */
  async pause() {
    this.#unlisten?.();
    this.#unlisten = null;
    await this.flush();
  }

  /**
   * Feeds samples of a PCM source (Int16Array, or Float32Array in −1…1) at
   * `sampleRate`; resolves once their events have been delivered. A new
   * rate ends the previous source's segment first.
   */
  push(samples, sampleRate) {
    const buffer = pcm16Buffer(samples);
    return this.#enqueue(async () => {
      await this.#open(sampleRate);
      this.#deliver(await call('segmentsPush', [this.#stream.id, buffer], [buffer]));
    });
  }

  /** Ends the source: a segment being heard ends now (`onSpeechEnd` or `onMisfire`). */
  flush() {
    return this.#enqueue(() => this.#finish());
  }

  /** Releases the microphone, its audio graph and the engine's stream; no callback follows. */
  async destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#unlisten?.();
    this.#unlisten = null;
    await this.#releaseMicrophone();
    await this.flush();
  }

  async #releaseMicrophone() {
    const microphone = this.#microphone;
    this.#microphone = null;
    await microphone?.stop();
  }

  #enqueue(work) {
    const done = this.#queue.then(work);
    this.#queue = done.catch(() => {});
    return done;
  }

  /** Opens the engine's stream for `sampleRate` (ending one at another rate). */
  async #open(sampleRate) {
    if (this.#stream?.rate === sampleRate) return;
    await this.#finish();
    const id = newId();
    await call('segmentsOpen', [id, sampleRate, this.#options]);
    this.#stream = { id, rate: sampleRate };
  }

  async #finish() {
    if (!this.#stream) return;
    const { id } = this.#stream;
    this.#stream = null;
    this.#deliver(await call('segmentsFinish', [id]));
  }

  #deliver(events) {
    if (this.#destroyed) return;
    const callbacks = this.#callbacks;
    for (const event of events) {
      try {
        switch (event.type) {
          case 'frame':
            callbacks.onFrame(event.probability, event.isSpeech);
            break;
          case 'speech-start':
            callbacks.onSpeechStart({ start: event.start });
            break;
          case 'speech-end':
            callbacks.onSpeechEnd(event.audio, { start: event.start, end: event.end });
            break;
          case 'misfire':
            callbacks.onMisfire({ start: event.start, end: event.end });
            break;
          default:
            break;
        }
      } catch (error) {
        callbacks.onError(error);
      }
    }
  }
}
