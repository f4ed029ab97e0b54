// LocalVoiceSocket: a connection to a voice server endpoint processed in
// the engine's worker, with the WHATWG WebSocket interface. It opens within
// one task of its construction; messages sent meanwhile wait for the
// engine. If the engine cannot run, a socket created with a server URL and
// `fallback` connects to that server instead and replays what was sent.
import { announceFallback, engineUnavailable, newId, post, register, unregister } from './engine.js';
import { endpointProblem, parseSocketUrl } from './urls.js';
import { queueTask } from './tasks.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The browser's own WebSocket, whatever a shim installs later. */
const NativeWebSocket = globalThis.WebSocket;

const utf8 = new TextEncoder();

/** Copies any binary view or buffer into a fresh ArrayBuffer. */
export function toArrayBuffer(data) {
  if (data instanceof ArrayBuffer) return data.slice(0);
  if (ArrayBuffer.isView(data)) {
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  throw new TypeError('expected an ArrayBuffer or ArrayBufferView');
}

/** A close code converted as WebIDL `[Clamp] unsigned short` converts it. */
function clampedCode(code) {
  const number = Number(code);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  // Round half to even.
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

/** The platform's CloseEvent (browsers, Node.js ≥ 23), else an Event with its fields. */
const CloseEventClass =
  globalThis.CloseEvent ??
  class CloseEvent extends Event {
    constructor(type, { wasClean = false, code = 0, reason = '' } = {}) {
      super(type);
      Object.assign(this, { wasClean, code, reason });
    }
  };

/**
 * A connection to a voiceport endpoint processed locally, with the
 * WHATWG WebSocket interface.
 */
export class LocalVoiceSocket extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  #id = newId();
  #url;
  #readyState = CONNECTING;
  #binaryType = 'blob';
  #bufferedAmount = 0;
  #sendChain = Promise.resolve();
  #pendingBlobs = 0;
  #closeRequest = null;
  #lastError = null;
  /** The server URL to fall back to, or null. */
  #fallbackUrl = null;
  /** Messages sent while the engine may still fail (`{payload, size}`); null once it runs. */
  #sent = [];
  /** Replies delivered so far. */
  #answered = 0;
  /** The real WebSocket after a fallback, and what waits for it to open. */
  #server = null;
  #serverQueue = [];

  /**
   * `options.fallback`: connect to the server at `url` (ws: or wss:) if the
   * engine cannot run (the shim sets it).
   */
  constructor(url, protocols = [], { fallback = false } = {}) {
    super();
    const parsed = parseSocketUrl(url);
    const list = typeof protocols === 'string' ? [protocols] : [...protocols];
    if (new Set(list).size !== list.length) {
      throw new DOMException('The subprotocol list contains duplicates.', 'SyntaxError');
    }
    this.#url = parsed.href;
    if (fallback && parsed.protocol !== 'voiceport:') this.#fallbackUrl = parsed.href;
    const problem = endpointProblem(parsed);
    if (problem) {
      // As the server refuses the upgrade: error then close, never open.
      this.#fail(problem, 1006);
      return;
    }
    const unavailable = engineUnavailable();
    if (unavailable) {
      this.engineFailed(unavailable, 1006);
      return;
    }
    register(this.#id, this);
    post({ type: 'open', id: this.#id, path: parsed.pathname + parsed.search });
    queueTask(() => {
      if (this.#readyState !== CONNECTING || this.#server) return;
      this.#readyState = OPEN;
      this.dispatchEvent(new Event('open'));
    });
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
    if (value === 'blob' || value === 'arraybuffer') {
      this.#binaryType = value;
      if (this.#server) this.#server.binaryType = value;
    }
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
        this.#deliver(bytes, size);
      });
    } else {
      this.#deliver(payload, size);
    }
  }

  #deliver(payload, size) {
    if (this.#server) {
      this.#toServer({ payload, size });
      return;
    }
    const type = typeof payload === 'string' ? 'text' : 'binary';
    // When it was sent, on a clock the worker shares: how far behind real time it runs.
    const message = { type, id: this.#id, data: payload, size, sentAt: performance.timeOrigin + performance.now() };
    if (this.#sent) {
      // Kept for a replay to the server: the worker gets a copy.
      this.#sent.push({ payload, size });
      post(message);
    } else {
      post(message, type === 'binary' ? [payload] : []);
    }
  }

  close(code, reason) {
    if (code !== undefined) {
      code = clampedCode(code);
      if (!(code === 1000 || (code >= 3000 && code <= 4999))) {
        throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
      }
    }
    if (reason !== undefined && utf8.encode(String(reason)).length > 123) {
      throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
    }
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      if (this.#server) this.#server.close();
      else post({ type: 'close', id: this.#id });
      this.#fail('closed before the connection was established', 1006);
      return;
    }
    this.#readyState = CLOSING;
    this.#closeRequest = { code: code ?? 1005, reason: reason === undefined ? '' : String(reason) };
    this.#sendChain = this.#sendChain.then(() => {
      if (this.#server) this.#toServer({ close: this.#closeRequest });
      else post({ type: 'close', id: this.#id });
    });
  }

  /** A message of the worker for this connection (called by the engine module). */
  fromWorker(message) {
    switch (message.type) {
      case 'message':
        this.#answered++;
        this.#reply(message.data, message.size ?? 0, message.lastError);
        break;
      case 'ready':
        // The models run: failures from now on are the engine's, not replayed.
        this.#sent = null;
        break;
      case 'closed':
        unregister(this.#id);
        queueTask(() => this.#finish(true, this.#closeRequest ?? { code: 1005, reason: '' }));
        break;
      case 'fail':
        unregister(this.#id);
        this.engineFailed(message.reason, 1006);
        break;
      default:
        break;
    }
  }

  /**
   * The engine failed for this connection (`code` 1011) or could not run at
   * all (1006): replay to the server if that is allowed and still possible,
   * otherwise error then close.
   */
  engineFailed(reason, code) {
    if (this.#fallbackUrl && this.#sent && this.#readyState !== CLOSED) this.#connectServer(reason);
    else this.#fail(reason, code);
  }

  #reply(data, size, lastError) {
    queueTask(() => {
      this.#bufferedAmount = Math.max(0, this.#bufferedAmount - size);
      // Messages are dispatched only while OPEN (WHATWG WebSocket).
      if (this.#readyState !== OPEN) return;
      if (lastError !== undefined) {
        this.#lastError = lastError;
        console.warn(`voiceport: "500": ${lastError}`);
      }
      const origin = new URL(this.#url).origin;
      this.dispatchEvent(new MessageEvent('message', { data, origin: origin === 'null' ? '' : origin }));
    });
  }

  /** Connects to the server at the original URL and replays what was sent. */
  #connectServer(reason) {
    announceFallback(reason);
    unregister(this.#id);
    const skip = this.#answered;
    const replay = this.#sent;
    this.#sent = null;
    const server = new NativeWebSocket(this.#fallbackUrl);
    server.binaryType = this.#binaryType;
    this.#server = server;
    // Replies to messages answered locally are not delivered twice.
    let toSkip = skip;
    server.onopen = () => {
      if (this.#readyState === CONNECTING) {
        this.#readyState = OPEN;
        this.dispatchEvent(new Event('open'));
      }
      const waiting = this.#serverQueue;
      this.#serverQueue = [];
      waiting.forEach((item) => this.#toServer(item));
    };
    server.onmessage = (event) => {
      if (toSkip > 0) {
        toSkip--;
        return;
      }
      if (this.#readyState === OPEN) this.dispatchEvent(new MessageEvent('message', { data: event.data, origin: event.origin }));
    };
    server.onerror = () => {
      if (this.#readyState === CLOSED) return;
      this.#lastError = `the voice server at ${this.#fallbackUrl} failed`;
      this.dispatchEvent(new Event('error'));
    };
    server.onclose = (event) => {
      if (this.#readyState === CLOSED) return;
      this.#finish(event.wasClean, { code: event.code, reason: event.reason });
    };
    // What was sent before comes first; replies to the messages not yet
    // answered locally still count in bufferedAmount until handed over.
    replay.forEach((item, index) => this.#serverQueue.push(index < skip ? { ...item, size: 0 } : item));
  }

  /** Hands a message (or the close) to the server socket once it is open. */
  #toServer(item) {
    const server = this.#server;
    if (server.readyState === CONNECTING) {
      this.#serverQueue.push(item);
      return;
    }
    if (item.close) {
      if (item.close.code === 1005) server.close();
      else server.close(item.close.code, item.close.reason);
      return;
    }
    this.#bufferedAmount = Math.max(0, this.#bufferedAmount - item.size);
    if (server.readyState === OPEN) server.send(item.payload);
  }

  /** Fails the connection: error then close (`code`, not clean). */
  #fail(reason, code) {
    queueTask(() => {
      if (this.#readyState === CLOSED) return;
      this.#lastError = reason;
      console.warn(`voiceport: connection failed: ${reason}`);
      this.#readyState = CLOSED;
      this.dispatchEvent(new Event('error'));
      this.#finish(false, { code, reason: '' });
    });
  }

  #finish(wasClean, { code, reason }) {
    unregister(this.#id);
    this.#readyState = CLOSED;
    this.dispatchEvent(new CloseEventClass('close', { wasClean, code, reason }));
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
