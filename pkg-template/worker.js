// voiceport worker: hosts the wasm engine; many connections multiplexed by id.
// Models are fetched lazily (the speaker model only when an endpoint or a
// template call needs it), cached with the Cache API, and read once per worker.
// A connection's messages wait for the wasm module; its session answers the
// parameters at once, and its first audio waits for the models, whose
// reading starts when the parameters are complete. A trap in the engine
// (a Rust panic) is reported as 'crashed': the page then ends this worker.
import { relaxedSimd } from './wasm-feature-detect.js';
import init, {
  Engine,
  WasmEnrollment,
  WasmSegments,
  WasmSession,
  buildInfo,
  convolutionKernels,
  matchTemplates,
  mergeTemplates,
  needsSpeakerModel,
  panicForTesting,
  restRouteModel,
  wavToPcm16,
} from './voiceport.js';

const MODELS = {
  vad: new URL('./models/silero_vad_openvino_16k.onnx', import.meta.url),
  speaker: new URL('./models/campplus_zh_en_common.f16w.onnx', import.meta.url),
};
const CACHE_NAME = 'voiceport-models-v1';

let wasmPromise = null;
let enginePromise = null;
const modelBytesPromises = {};
let speakerPromise = null;
const connections = new Map();
/** Speech segment streams by id. */
const segmentStreams = new Map();
/** Guided enrollments by id. */
const enrollments = new Map();

function post(message, transfer) {
  self.postMessage(message, transfer ?? []);
}

async function cachedResponse(url) {
  let cache = null;
  try {
    cache = await caches.open(CACHE_NAME);
    const hit = await cache.match(url);
    if (hit) return hit;
  } catch {
    cache = null; // Cache API unavailable (e.g. opaque origin): fetch every time.
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url} (HTTP ${response.status})`);
  if (cache) {
    try {
      await cache.put(url, response.clone());
    } catch {
      // Quota or storage errors only cost a re-download next time.
    }
  }
  return response;
}

async function fetchModel(name) {
  const response = await cachedResponse(MODELS[name]);
  const total = Number(response.headers.get('content-length')) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    post({ type: 'progress', model: name, phase: 'download', loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** Progress: a model's bytes are in and reading its weights starts. */
function postPlanning(name, bytes) {
  post({ type: 'progress', model: name, phase: 'plan', loaded: bytes.length, total: bytes.length });
}

/** A model's bytes, fetched once (started early, so it overlaps wasm start). */
function modelBytes(name) {
  modelBytesPromises[name] ??= fetchModel(name);
  return modelBytesPromises[name];
}

/**
 * The engine build this runtime can run: the relaxed-SIMD one (fused
 * multiply-adds, about a third faster) where relaxed SIMD is supported,
 * else the SIMD128 one. Both come from the same code, with the same glue.
 */
async function engineModule() {
  // Literal `new URL(…, import.meta.url)` each, so that bundlers emit both files.
  return (await relaxedSimd().catch(() => false))
    ? new URL('./voiceport_relaxed_bg.wasm', import.meta.url)
    : new URL('./voiceport_bg.wasm', import.meta.url);
}

/**
 * Instantiates the wasm module once. A module this browser refuses to
 * compile (no SIMD, a Content-Security-Policy) is reported as
 * 'unavailable', and the page does not try again.
 */
function wasm() {
  wasmPromise ??= engineModule().then((module_or_path) => init({ module_or_path }));
  wasmPromise.catch((error) => {
    wasmPromise = null;
    if (error instanceof WebAssembly.CompileError || error instanceof WebAssembly.LinkError) {
      post({ type: 'unavailable', reason: `the engine cannot run here: ${error.message}` });
    }
  });
  return wasmPromise;
}

/**
 * Runs `work` (a call into the engine); a trap is reported as 'crashed'
 * with the panic's message and rethrown.
 */
function guarded(work) {
  try {
    return work();
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      post({ type: 'crashed', reason: self.voiceportPanic ?? `voiceport engine failed: ${error.message}` });
    }
    throw error;
  }
}

/**
 * Once a model is read its bytes are dropped; if reading failed, the
 * attempt is forgotten too (`forget`), so the next use fetches and tries again.
 */
function settled(promise, name, forget) {
  promise.then(
    () => delete modelBytesPromises[name],
    () => {
      delete modelBytesPromises[name];
      forget();
    },
  );
  return promise;
}

function engine() {
  enginePromise ??= settled((async () => {
    const [, bytes] = await Promise.all([wasm(), modelBytes('vad')]);
    postPlanning('vad', bytes);
    const created = new Engine(bytes);
    post({ type: 'progress', model: 'vad', phase: 'ready' });
    return created;
  })(), 'vad', () => (enginePromise = null));
  return enginePromise;
}

function speakerEngine() {
  speakerPromise ??= settled((async () => {
    const created = await engine();
    if (!created.hasSpeakerModel()) {
      const bytes = await modelBytes('speaker');
      postPlanning('speaker', bytes);
      created.loadSpeakerModel(bytes);
    }
    post({ type: 'progress', model: 'speaker', phase: 'ready' });
    return created;
  })(), 'speaker', () => (speakerPromise = null));
  return speakerPromise;
}

async function open(id, path) {
  // Model downloads start now, beside the wasm start; errors surface on first use.
  if (!enginePromise) modelBytes('vad').catch(() => {});
  await wasm();
  const connection = connections.get(id);
  connection.session = new WasmSession(path);
  connection.speaker = needsSpeakerModel(path);
  if (connection.speaker && !speakerPromise) modelBytes('speaker').catch(() => {});
}

/** The connection's session with its models attached (read on first need). */
function attachModels(id, connection) {
  connection.attached ??= (connection.speaker ? speakerEngine() : engine()).then((ready) => {
    connection.session.attach(ready);
    post({ type: 'ready', id });
  });
  return connection.attached;
}

/** Milliseconds this worker has spent answering stream messages. */
let busyMs = 0;

function reply(id, connection, message) {
  const { session } = connection;
  const started = performance.now();
  const data = guarded(() =>
    message.type === 'text' ? session.onText(message.data) : session.onBinary(new Uint8Array(message.data)),
  );
  busyMs += performance.now() - started;
  post({ type: 'message', id, data, size: message.size, lastError: data === '500' ? session.lastError : undefined });
  // Parameters complete: audio comes next, so start reading the models now.
  if (message.type === 'text' && session.isReady) attachModels(id, connection).catch(() => {});
}

/**
 * A message is late when its client has since sent messages at least this
 * much later (one verify hop): the engine is that far behind real time
 * (a slow device, or other work in this worker). A client that sends a
 * recording in one burst is never late.
 */
const LATE_AFTER_MS = 500;

const yielder = new MessageChannel();
const yielded = [];
yielder.port1.onmessage = () => yielded.shift()?.();

/** Lets the worker take its incoming messages (their send times) before going on. */
function yieldToEvents() {
  return new Promise((resume) => {
    yielded.push(resume);
    yielder.port2.postMessage(null);
  });
}

/** Handles one message in order; audio first waits for the models. */
async function handle(id, message) {
  await yieldToEvents();
  const connection = connections.get(id);
  if (!connection?.session) return;
  if (message.type === 'binary') {
    try {
      await attachModels(id, connection);
    } catch (error) {
      fail(id, error);
      return;
    }
    // Behind real time: less optional model work, so the stream catches up.
    connection.session.setPace(connection.newestSentAt - message.sentAt, LATE_AFTER_MS);
  }
  reply(id, connection, message);
}

function fail(id, error) {
  connections.get(id)?.session?.free();
  connections.delete(id);
  post({ type: 'fail', id, reason: String(error?.message ?? error) });
}

/** Buffers of a call's value moved rather than copied: segments' audio, decoded PCM. */
function movableBuffers(value) {
  if (Array.isArray(value)) return value.flatMap((event) => (event?.audio ? [event.audio.buffer] : []));
  return value?.pcm16 instanceof ArrayBuffer ? [value.pcm16] : [];
}

const CALLS = {
  createTemplateFromSamples: async (pcm, rate) => (await speakerEngine()).createTemplateFromSamples(new Uint8Array(pcm), rate),
  createTemplateFromWav: async (wav) => (await speakerEngine()).createTemplateFromWav(new Uint8Array(wav)),
  speechSummaryFromSamples: async (pcm, rate) => JSON.parse((await engine()).speechSummaryFromSamples(new Uint8Array(pcm), rate)),
  speechSummaryFromWav: async (wav) => JSON.parse((await engine()).speechSummaryFromWav(new Uint8Array(wav))),
  voiceQuality: async (bytes, rate) => JSON.parse((await engine()).voiceQuality(new Uint8Array(bytes), rate)),
  mergeTemplates: async (templates) => {
    await wasm();
    return mergeTemplates(templates);
  },
  matchTemplates: async (a, b) => {
    await wasm();
    return matchTemplates(a, b);
  },
  buildInfo: async () => {
    await wasm();
    return buildInfo();
  },
  preload: async (speaker) => {
    await (speaker ? speakerEngine() : engine());
    return true;
  },
  rest: async (method, path, query, body, hasPart) => {
    await wasm();
    const ready = await (restRouteModel(path) === 'speaker' ? speakerEngine() : engine());
    return guarded(() => ready.handleRest(method, path, query, new Uint8Array(body), hasPart));
  },
  segmentsOpen: async (id, rate, options) => {
    const ready = await engine();
    segmentStreams.set(id, new WasmSegments(ready, rate, options));
    return true;
  },
  segmentsPush: async (id, pcm) => {
    await engine();
    const stream = segmentStreams.get(id);
    if (!stream) throw new Error('no such segments stream');
    return guarded(() => stream.push(new Uint8Array(pcm)));
  },
  segmentsFinish: async (id) => {
    await engine();
    const stream = segmentStreams.get(id);
    segmentStreams.delete(id);
    if (!stream) return [];
    try {
      return guarded(() => stream.finish());
    } finally {
      stream.free();
    }
  },
  wavToPcm16: async (wav) => {
    await wasm();
    return wavToPcm16(new Uint8Array(wav));
  },
  enrollOpen: async (id, rate, seconds) => {
    const ready = await speakerEngine();
    enrollments.set(id, new WasmEnrollment(ready, rate, seconds));
    return true;
  },
  enrollPush: async (id, pcm) => {
    await engine();
    const enrollment = enrollments.get(id);
    if (!enrollment) throw new Error('no such enrollment');
    return guarded(() => enrollment.push(new Uint8Array(pcm)));
  },
  enrollFinish: async (id, keep) => {
    const ready = await speakerEngine();
    const enrollment = enrollments.get(id);
    enrollments.delete(id);
    if (!enrollment) throw new Error('no such enrollment');
    try {
      return keep ? guarded(() => enrollment.finish(ready)) : null;
    } finally {
      enrollment.free();
    }
  },
  engineStats: async () => ({
    busyMs,
    uptimeMs: performance.now(),
    connections: connections.size,
    segmentStreams: segmentStreams.size,
    enrollments: enrollments.size,
    wasmBytes: (await wasm()).memory.buffer.byteLength,
    kernels: convolutionKernels(),
  }),
  panicForTesting: async () => {
    await wasm();
    return guarded(() => panicForTesting());
  },
};

self.onmessage = ({ data: message }) => {
  const { id } = message;
  switch (message.type) {
    case 'open': {
      const connection = { session: null, queue: null };
      connections.set(id, connection);
      connection.queue = open(id, message.path).catch((error) => fail(id, error));
      break;
    }
    case 'text':
    case 'binary': {
      const connection = connections.get(id);
      if (!connection) break;
      connection.newestSentAt = Math.max(connection.newestSentAt ?? 0, message.sentAt ?? 0);
      connection.queue = connection.queue.then(() => handle(id, message));
      break;
    }
    case 'close': {
      const connection = connections.get(id);
      if (!connection) break;
      connection.queue = connection.queue.then(() => {
        connection.session?.free();
        connections.delete(id);
        post({ type: 'closed', id });
      });
      break;
    }
    case 'call': {
      const call = CALLS[message.name];
      Promise.resolve()
        .then(() => (call ? call(...message.args) : Promise.reject(new Error(`unknown call ${message.name}`))))
        .then(
          (value) => post({ type: 'result', callId: message.callId, value }, movableBuffers(value)),
          (error) => post({ type: 'result', callId: message.callId, error: String(error?.message ?? error) }),
        );
      break;
    }
    default:
      break;
  }
};
