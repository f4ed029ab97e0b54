/** Paths of the streaming endpoints processed locally. */
export declare const ENDPOINT_PATHS: readonly string[];
/** Paths of the REST routes answered locally (older names included). */
export declare const REST_PATHS: readonly string[];

/** A locally processed connection with the WHATWG WebSocket interface. */
export declare class LocalVoiceSocket extends EventTarget {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  /** `fallback`: connect to the server at `url` if the engine cannot run here. */
  constructor(url: string | URL, protocols?: string | string[], options?: { fallback?: boolean });
  readonly url: string;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly extensions: string;
  binaryType: 'blob' | 'arraybuffer';
  /** Reason of the latest "500" reply, or of a failed connection. */
  readonly lastError: string | null;
  onopen: ((this: LocalVoiceSocket, ev: Event) => unknown) | null;
  onmessage: ((this: LocalVoiceSocket, ev: MessageEvent<string>) => unknown) | null;
  onerror: ((this: LocalVoiceSocket, ev: Event) => unknown) | null;
  onclose: ((this: LocalVoiceSocket, ev: CloseEvent) => unknown) | null;
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
}

/** Which URLs the shim routes to local processing. */
export type UrlMatch = ((url: URL) => boolean) | RegExp | string | UrlMatch[];

/** Routes matching `new WebSocket(url)` calls to local processing; returns an uninstaller. */
export declare function installWebSocketShim(options?: { match?: UrlMatch; fallback?: boolean }): () => void;
/**
 * Makes the voice server's API local: WebSocket endpoints, and its REST routes through
 * `fetch` and `XMLHttpRequest`. Where the engine cannot run, requests go to the server
 * unless `fallback` is false. Returns an uninstaller.
 */
export declare function installVoiceServerShim(options?: { match?: UrlMatch; fallback?: boolean }): () => void;
/** Whether the engine can run in this browser, and why not. */
export declare function supported(): Promise<{ ok: boolean; reason: string | null }>;
/** Makes the engine panic (tests of failure handling). */
export declare function _panicEngineForTesting(): Promise<never>;

/** Model loading progress. */
export interface ProgressEvent {
  model: 'vad' | 'speaker';
  phase: 'download' | 'plan' | 'ready';
  loaded?: number;
  total?: number;
}

/** Listens to model loading; returns a remover. */
export declare function onProgress(listener: (event: ProgressEvent) => void): () => void;
/** Loads the models ahead of use. */
export declare function preload(options?: { speaker?: boolean }): Promise<true>;

/** `{score, probability}` of two templates. */
export interface MatchResult {
  score: number;
  probability: number;
}

/** Where audio lies: client samples and whole milliseconds. */
export interface AudioInterval {
  start_sample: number;
  end_sample: number;
  start_time: number;
  end_time: number;
  sample_rate: number;
}

/** A run of voice or non-voice frames. */
export interface SpeechEvent {
  is_voice: boolean;
  audio_interval: AudioInterval;
}

/** The speech summary of a recording (lengths in seconds). */
export interface SpeechSummary {
  background_length: number;
  speech_signal_length: number;
  total_length: number;
  vad_result: { frame_length_ms: number; frames: boolean[] };
  speech_events: SpeechEvent[];
}

export declare function createTemplateFromSamples(pcm16: Int16Array | ArrayBuffer | ArrayBufferView, sampleRate: number): Promise<string>;
export declare function createTemplateFromWav(wav: Blob | ArrayBuffer | ArrayBufferView): Promise<string>;
export declare function mergeTemplates(templates: Iterable<string>): Promise<string>;
export declare function matchTemplates(template1: string, template2: string): Promise<MatchResult>;
export declare function speechSummaryFromSamples(pcm16: Int16Array | ArrayBuffer | ArrayBufferView, sampleRate: number): Promise<SpeechSummary>;
export declare function speechSummaryFromWav(wav: Blob | ArrayBuffer | ArrayBufferView): Promise<SpeechSummary>;
/** How usable a recording is for enrollment. */
export interface VoiceQuality {
  /** Seconds of speech found by the VAD. */
  speech_length: number;
  /** Speech-to-background power ratio in dB (≤ 100); null without both speech and background. */
  snr_db: number | null;
  /** Whether there is enough speech (≥ 1 s) for a template. */
  enough_speech: boolean;
  /** RMS level of the speech in dBFS (of the loudest tenth of the frames without speech); null for digital silence. */
  level_dbfs: number | null;
  /** Share of samples at full scale. */
  clipped_fraction: number;
  /** What is wrong, if anything (empty: a good recording). */
  problems: QualityProblem[];
}
/** What makes a recording a poor enrollment: speak up, find a quieter place, lower the gain, speak more. */
export type QualityProblem = 'too_quiet' | 'too_noisy' | 'clipped' | 'too_little_speech';

/** Progress of a guided enrollment, after each chunk. */
export interface EnrollProgress {
  /** Speech heard as a percentage of the speech wanted (0–100). */
  percent: number;
  speechSeconds: number;
  neededSeconds: number;
  /** Enough speech heard: the template is being made. */
  done: boolean;
  /** Live advice on the last 3 s. */
  problems: QualityProblem[];
  level_dbfs: number | null;
  snr_db: number | null;
}
/** Records until `seconds` of speech were heard (from the microphone, or from `chunks`) and makes a template. */
export declare function enroll(options?: {
  /** Seconds of speech wanted (8; 1–300). */
  seconds?: number;
  onProgress?: (progress: EnrollProgress) => void;
  /** An open microphone to use (left open). */
  microphone?: Microphone;
  /** PCM chunks instead of a microphone, at `sampleRate`. */
  chunks?: Iterable<Int16Array | Float32Array> | AsyncIterable<Int16Array | Float32Array>;
  sampleRate?: number;
  signal?: AbortSignal;
  /** Constraints for a microphone opened here. */
  audio?: MediaTrackConstraints;
}): Promise<{ template: string; quality: VoiceQuality }>;
/** Enrollment quality of PCM16 samples at `sampleRate`, or of a WAV file when it is omitted. */
export declare function voiceQuality(audio: Blob | Int16Array | ArrayBuffer | ArrayBufferView, sampleRate?: number): Promise<VoiceQuality>;
export declare function buildInfo(): Promise<{ name: string; version: string; template_version: number; models: Record<string, string> }>;

/** An open microphone producing PCM16 chunks at the context's own rate. */
export interface Microphone {
  readonly sampleRate: number;
  readonly stream: MediaStream;
  onChunk(listener: (chunk: ArrayBuffer) => void): () => void;
  pipeTo(socket: { readyState: number; send(data: ArrayBuffer): void }): () => void;
  stop(): Promise<void>;
}
export declare function openMicrophone(options?: { chunkMs?: number; audio?: MediaTrackConstraints }): Promise<Microphone>;

/** Options of a speech detector: vad-web's names, durations in milliseconds. */
export interface SpeechSegmentsOptions {
  /** Probability at which speech starts (0.5). */
  positiveSpeechThreshold?: number;
  /** Probability below which speech ends (0.35); at most the positive threshold. */
  negativeSpeechThreshold?: number;
  /** Silence that ends a segment (1400). */
  redemptionMs?: number;
  /** Audio kept before the speech (800). */
  preSpeechPadMs?: number;
  /** Speech below which a segment is a misfire (400). */
  minSpeechMs?: number;
  /** Microphone constraints for `start()`. */
  audio?: MediaTrackConstraints;
  /** Speech began; its audio will start at `start` ms of the stream (pad included). */
  onSpeechStart?: (at: { start: number }) => void;
  /** A segment ended: its 16 kHz audio, from `start` to `end` ms of the stream. */
  onSpeechEnd?: (audio: Float32Array, at: { start: number; end: number }) => void;
  /** A segment ended with too little speech. */
  onMisfire?: (at: { start: number; end: number }) => void;
  /** Every 30 ms frame: the speech probability and the decision. */
  onFrame?: (probability: number, isSpeech: boolean) => void;
  /** A failure while listening to the microphone (default: console.error). */
  onError?: (error: unknown) => void;
}

/** A speech detector over the microphone or any PCM source. */
export declare class SpeechSegments {
  constructor(options?: SpeechSegmentsOptions);
  /** The microphone's MediaStream while it is open, else null. */
  readonly mediaStream: MediaStream | null;
  /** Whether the microphone is being listened to. */
  readonly listening: boolean;
  /** Listens to the microphone (opened on the first start); rejects on bad options. */
  start(): Promise<void>;
  /** Stops listening; a segment being heard ends now. */
  pause(): Promise<void>;
  /** Feeds PCM (Int16Array, or Float32Array in −1…1) at `sampleRate`; resolves once its events are delivered. */
  push(samples: Int16Array | Float32Array, sampleRate: number): Promise<void>;
  /** Ends the source: a segment being heard ends now. */
  flush(): Promise<void>;
  /** Releases the microphone, its audio graph and the engine's stream. */
  destroy(): Promise<void>;
}

/** A WAV file's samples as PCM16 at its own rate (channels averaged). */
export declare function decodeWav(wav: Blob | ArrayBuffer | ArrayBufferView): Promise<{ sampleRate: number; pcm16: ArrayBuffer }>;

/**
 * What the engine holds (open connections, segment streams, enrollments, wasm memory in
 * bytes) and how busy it is: milliseconds spent answering stream messages since its
 * worker started, and the worker's age in milliseconds (their ratio over an interval
 * is the share of real time the engine is busy), and which build of it runs: `kernels`
 * is `"relaxed SIMD"` where the runtime has relaxed SIMD, else `"SIMD128"`.
 */
export declare function engineStats(): Promise<{ busyMs: number; uptimeMs: number; connections: number; segmentStreams: number; enrollments: number; wasmBytes: number; kernels: string }>;

