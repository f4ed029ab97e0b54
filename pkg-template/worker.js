// voiceport worker: hosts the wasm engine; many connections multiplexed by id.
// Models are fetched lazily (the speaker model only when an endpoint or a
// template call needs it), cached with the Cache API, and planned once.
import init, { Engine, needsSpeakerModel, mergeTemplates, matchTemplates, buildInfo } from './voiceport.js';

const MODELS = {
  vad: new URL('./models/silero_vad_openvino_16k.onnx', import.meta.url),
  speaker: new URL('./models/campplus_zh_en_common.f16w.onnx', import.meta.url),
};
const CACHE_NAME = 'voiceport-models-v1';

let wasmPromise = null;
let enginePromise = null;
let speakerPromise = null;
const connections = new Map();

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
  post({ type: 'progress', model: name, phase: 'plan', loaded, total: total || loaded });
  return bytes;
}

/** Instantiates the wasm module once. */
function wasm() {
  wasmPromise ??= init();
  wasmPromise.catch(() => (wasmPromise = null));
  return wasmPromise;
}

function engine() {
  enginePromise ??= (async () => {
    await wasm();
    const created = new Engine(await fetchModel('vad'));
    post({ type: 'progress', model: 'vad', phase: 'ready' });
    return created;
  })();
  enginePromise.catch(() => (enginePromise = null));
  return enginePromise;
}

function speakerEngine() {
  speakerPromise ??= (async () => {
    const created = await engine();
    if (!created.hasSpeakerModel()) created.loadSpeakerModel(await fetchModel('speaker'));
    post({ type: 'progress', model: 'speaker', phase: 'ready' });
    return created;
  })();
  speakerPromise.catch(() => (speakerPromise = null));
  return speakerPromise;
}

async function open(id, path) {
  await wasm();
  const ready = needsSpeakerModel(path) ? speakerEngine() : engine();
  const session = (await ready).open(path);
  connections.get(id).session = session;
  post({ type: 'open', id });
}

function handle(id, message) {
  const connection = connections.get(id);
  const session = connection?.session;
  if (!session) return;
  const reply =
    message.type === 'text' ? session.onText(message.data) : session.onBinary(new Uint8Array(message.data));
  post({ type: 'message', id, data: reply, size: message.size, lastError: reply === '500' ? session.lastError : undefined });
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
};

self.onmessage = ({ data: message }) => {
  const { id } = message;
  switch (message.type) {
    case 'open': {
      const connection = { session: null, queue: null };
      connection.queue = open(id, message.path).catch((error) => {
        connections.delete(id);
        post({ type: 'fail', id, reason: String(error?.message ?? error) });
      });
      connections.set(id, connection);
      break;
    }
    case 'text':
    case 'binary': {
      const connection = connections.get(id);
      if (connection) connection.queue = connection.queue.then(() => handle(id, message));
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
          (value) => post({ type: 'result', callId: message.callId, value }),
          (error) => post({ type: 'result', callId: message.callId, error: String(error?.message ?? error) }),
        );
      break;
    }
    default:
      break;
  }
};
