// voiceport: the voice server's streaming API, processed locally in a Web
// Worker. `LocalVoiceSocket` behaves as a browser WebSocket connected to the
// server, so an existing client only changes its URL.
export { openMicrophone } from './capture.js';

/** Paths of the streaming endpoints processed locally. */
export const ENDPOINT_PATHS = Object.freeze([
  '/speech_endpoint_detector',
  '/speech_summary_stream',
  '/voice_verify_stream',
  '/verify_stream',
  '/speech_endpoint_detector_opus',
  '/speech_summary_stream_opus',
  '/voice_verify_stream_opus',
]);

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

let worker = null;
const sockets = new Map();
const calls = new Map();
const progressListeners = new Set();
let nextId = 1;

function getWorker() {
  if (worker) return worker;
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => route(data);
  worker.onerror = (event) => {
    const reason = `voiceport worker failed: ${event.message || 'could not start'}`;
    for (const socket of sockets.values()) socket._fail(reason);
    for (const { reject } of calls.values()) reject(new Error(reason));
    calls.clear();
    worker = null;
  };
  return worker;
}

function route(message) {
  if (message.type === 'progress') {
    progressListeners.forEach((listener) => listener(message));
  } else if (message.type === 'result') {
    const call = calls.get(message.callId);
    calls.delete(message.callId);
    if (!call) return;
    if (message.error !== undefined) call.reject(new Error(message.error));
    else call.resolve(message.value);
  } else {
    sockets.get(message.id)?._fromWorker(message);
  }
}

function call(name, args, transfer = []) {
  const callId = nextId++;
  return new Promise((resolve, reject) => {
    calls.set(callId, { resolve, reject });
    getWorker().postMessage({ type: 'call', callId, name, args }, transfer);
  });
}

/** Copies any binary view or buffer into a fresh ArrayBuffer. */
function toArrayBuffer(data) {
  if (data instanceof ArrayBuffer) return data.slice(0);
  if (ArrayBuffer.isView(data)) {
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  throw new TypeError('expected an ArrayBuffer or ArrayBufferView');
}

const utf8 = new TextEncoder();

/** Runs `fn` as a task (never synchronously), after every task queued before. */
function queueTask(fn) {
  setTimeout(fn, 0);
}

/**
 * A connection to a voiceport endpoint processed locally, with the
 * WHATWG WebSocket interface.
 */
export class LocalVoiceSocket extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  #id = nextId++;
  #url;
  #readyState = CONNECTING;
  #binaryType = 'blob';
  #bufferedAmount = 0;
  #sendChain = Promise.resolve();
  #pendingBlobs = 0;
  #closeRequest = null;
  #lastError = null;

  constructor(url, protocols = []) {
    super();
    let parsed;
    try {
      parsed = new URL(String(url), globalThis.location?.href);
    } catch {
      throw new DOMException(`The URL '${url}' is invalid.`, 'SyntaxError');
    }
    if (parsed.hash) throw new DOMException('The URL contains a fragment identifier.', 'SyntaxError');
    const list = typeof protocols === 'string' ? [protocols] : [...protocols];
    if (new Set(list).size !== list.length) {
      throw new DOMException('The subprotocol list contains duplicates.', 'SyntaxError');
    }
    this.#url = parsed.href;
    sockets.set(this.#id, this);
    getWorker().postMessage({ type: 'open', id: this.#id, path: parsed.pathname + parsed.search });
  }

  get url() {
    return this.#url;
  }
  get readyState() {
    return this.#readyState;
  }
  get bufferedAmount() {
    return this.#bufferedAmount;
  }
  get protocol() {
    return '';
  }
  get extensions() {
    return '';
  }
  get binaryType() {
    return this.#binaryType;
  }
  set binaryType(value) {
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }
  /** Reason of the latest "500" reply, or of a failed connection. */
  get lastError() {
    return this.#lastError;
  }

  send(data) {
    if (this.#readyState === CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    }
    const isBlob = typeof Blob !== 'undefined' && data instanceof Blob;
    let size;
    if (isBlob) size = data.size;
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) size = data.byteLength;
    else {
      data = String(data);
      size = utf8.encode(data).length;
    }
    this.#bufferedAmount += size;
    if (this.#readyState !== OPEN) return; // data after close is discarded
    // Copy buffers now: the caller may reuse them as soon as send() returns.
    const payload = isBlob || typeof data === 'string' ? data : toArrayBuffer(data);
    if (isBlob || this.#pendingBlobs > 0) {
      // Reading a Blob is asynchronous: queue everything behind it to keep order.
      if (isBlob) this.#pendingBlobs++;
      this.#sendChain = this.#sendChain.then(async () => {
        const bytes = isBlob ? await payload.arrayBuffer() : payload;
        if (isBlob) this.#pendingBlobs--;
        this.#post(bytes, size);
      });
    } else {
      this.#post(payload, size);
    }
  }

  #post(payload, size) {
    if (typeof payload === 'string') {
      getWorker().postMessage({ type: 'text', id: this.#id, data: payload, size });
    } else {
      getWorker().postMessage({ type: 'binary', id: this.#id, data: payload, size }, [payload]);
    }
  }

  close(code, reason) {
    if (code !== undefined && !(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
      throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
    }
    if (reason !== undefined && utf8.encode(String(reason)).length > 123) {
      throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
    }
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      getWorker().postMessage({ type: 'close', id: this.#id });
      this._fail('closed before the connection was established');
      return;
    }
    this.#readyState = CLOSING;
    this.#closeRequest = { code: code ?? 1005, reason: reason === undefined ? '' : String(reason) };
    this.#sendChain = this.#sendChain.then(() => getWorker().postMessage({ type: 'close', id: this.#id }));
  }

  /** Called by the module for worker messages addressed to this socket. */
  _fromWorker(message) {
    switch (message.type) {
      case 'open':
        queueTask(() => {
          if (this.#readyState !== CONNECTING) return;
          this.#readyState = OPEN;
          this.dispatchEvent(new Event('open'));
        });
        break;
      case 'message':
        queueTask(() => {
          this.#bufferedAmount = Math.max(0, this.#bufferedAmount - (message.size ?? 0));
          if (this.#readyState === CLOSED) return;
          if (message.lastError !== undefined) {
            this.#lastError = message.lastError;
            console.warn(`voiceport: "500": ${message.lastError}`);
          }
          const origin = new URL(this.#url).origin;
          this.dispatchEvent(new MessageEvent('message', { data: message.data, origin: origin === 'null' ? '' : origin }));
        });
        break;
      case 'closed':
        queueTask(() => this.#finish(true, this.#closeRequest ?? { code: 1005, reason: '' }));
        break;
      case 'fail':
        this._fail(message.reason);
        break;
      default:
        break;
    }
  }

  /** Fails the connection: error then close (code 1006, not clean). */
  _fail(reason) {
    queueTask(() => {
      if (this.#readyState === CLOSED) return;
      this.#lastError = reason;
      console.warn(`voiceport: connection failed: ${reason}`);
      this.#readyState = CLOSED;
      this.dispatchEvent(new Event('error'));
      this.#finish(false, { code: 1006, reason: '' });
    });
  }

  #finish(wasClean, { code, reason }) {
    sockets.delete(this.#id);
    this.#readyState = CLOSED;
    this.dispatchEvent(new CloseEvent('close', { wasClean, code, reason }));
  }
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(LocalVoiceSocket.prototype, name, { value, enumerable: true });
}

const eventHandlers = new WeakMap();
for (const type of ['open', 'message', 'error', 'close']) {
  Object.defineProperty(LocalVoiceSocket.prototype, `on${type}`, {
    get() {
      return eventHandlers.get(this)?.[type] ?? null;
    },
    set(handler) {
      if (!eventHandlers.has(this)) eventHandlers.set(this, {});
      const handlers = eventHandlers.get(this);
      if (handlers[type]) this.removeEventListener(type, handlers[type]);
      handlers[type] = typeof handler === 'function' ? handler : null;
      if (handlers[type]) this.addEventListener(type, handlers[type]);
    },
    enumerable: true,
  });
}

function defaultMatch(url) {
  return ENDPOINT_PATHS.includes(url.pathname.replace(/\/$/, ''));
}

function matches(match, url) {
  let parsed;
  try {
    parsed = new URL(String(url), globalThis.location?.href);
  } catch {
    return false; // let the real WebSocket report the bad URL
  }
  if (typeof match === 'function') return Boolean(match(parsed));
  if (match instanceof RegExp) return match.test(parsed.href);
  if (typeof match === 'string') return parsed.href.startsWith(match);
  if (Array.isArray(match)) return match.some((m) => matches(m, url));
  return false;
}

/**
 * Routes `new WebSocket(url)` to local processing for URLs that `match`
 * (default: any host, a voiceport endpoint path); every other URL gets the
 * real WebSocket. Returns a function that uninstalls the shim.
 */
export function installWebSocketShim({ match = defaultMatch } = {}) {
  const RealWebSocket = globalThis.WebSocket;
  function WebSocket(url, protocols) {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator.");
    return matches(match, url)
      ? new LocalVoiceSocket(url, protocols)
      : new RealWebSocket(url, ...(protocols === undefined ? [] : [protocols]));
  }
  WebSocket.prototype = RealWebSocket.prototype;
  Object.assign(WebSocket, { CONNECTING, OPEN, CLOSING, CLOSED });
  Object.defineProperty(WebSocket, Symbol.hasInstance, {
    value: (instance) => instance instanceof RealWebSocket || instance instanceof LocalVoiceSocket,
  });
  globalThis.WebSocket = WebSocket;
  return () => {
    if (globalThis.WebSocket === WebSocket) globalThis.WebSocket = RealWebSocket;
  };
}

/** Listens to model loading: `{model, phase: 'download'|'plan'|'ready', loaded, total}`. */
export function onProgress(listener) {
  progressListeners.add(listener);
  getWorker();
  return () => progressListeners.delete(listener);
}

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

/** Version and model identifiers. */
export function buildInfo() {
  return call('buildInfo', []);
}
