// The REST routes answered in the engine's worker, behind `fetch` and
// `XMLHttpRequest`: same status codes, content types and bodies as the
// native server (one Rust implementation). When the engine cannot run, the
// request goes to the network as it was.
import { announceFallback, call, engineUnavailable } from './engine.js';

const STATUS_TEXT = { 200: 'OK', 400: 'Bad Request', 405: 'Method Not Allowed', 500: 'Internal Server Error' };

/** Whether a route takes a multipart upload (the WAV file in a part). */
function takesUpload(path) {
  return path.endsWith('_from_file');
}

/** The local reply `{status, contentType, body}` to `request` (a Request). */
async function localReply(request) {
  const url = new URL(request.url);
  let body = new Uint8Array(0);
  let hasPart = false;
  if (takesUpload(url.pathname)) {
    try {
      const form = await request.formData();
      const part = form.get('wav_file') ?? form.get('audio_file');
      if (part instanceof Blob) {
        body = new Uint8Array(await part.arrayBuffer());
        hasPart = true;
      }
    } catch {
      // Not a multipart body: answered as one without the audio part.
    }
  } else if (request.method !== 'GET' && request.method !== 'HEAD') {
    body = new Uint8Array(await request.arrayBuffer());
  }
  const buffer = body.buffer;
  return call('rest', [request.method, url.pathname, url.search.slice(1), buffer, hasPart], [buffer]);
}

/** A `Response` as the server would send it. */
function toResponse({ status, contentType, body }) {
  const headers = contentType ? { 'content-type': contentType } : {};
  return new Response(body === '' ? null : body, { status, statusText: STATUS_TEXT[status] ?? '', headers });
}

/**
 * Answers `request` locally; if the engine fails, `network()` sends it to
 * the server instead (`null`: the request fails as a network error does).
 */
export async function answer(request, network) {
  const unavailable = engineUnavailable();
  if (unavailable) {
    if (!network) throw new TypeError(`Failed to fetch: ${unavailable}`);
    announceFallback(unavailable);
    return network(request);
  }
  const spare = network ? request.clone() : null;
  try {
    return toResponse(await localReply(request));
  } catch (error) {
    if (!network) throw new TypeError(`Failed to fetch: ${error.message}`);
    announceFallback(error.message);
    return network(spare);
  }
}

/** A `fetch` that answers the requests `handles(url)` accepts locally. */
export function localFetch(realFetch, handles, fallback) {
  return function fetch(input, init) {
    const url = input instanceof Request ? input.url : String(input);
    if (!handles(url)) return realFetch(input, init);
    let request;
    try {
      request = new Request(input, init);
    } catch (error) {
      return Promise.reject(error);
    }
    const network = fallback ? (unread) => realFetch(unread) : null;
    return answer(request, network);
  };
}

const UNSENT = 0;
const OPENED = 1;
const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

/**
 * An `XMLHttpRequest` class that answers requests `handles(url)` accepts
 * locally and is the browser's own for every other request (and for
 * synchronous ones).
 */
export function localXMLHttpRequest(RealXHR, handles, fallback) {
  return class XMLHttpRequest extends RealXHR {
    /** The local request under way, or null when the real one is used. */
    #local = null;

    open(method, url, async = true, ...credentials) {
      const absolute = new URL(String(url), globalThis.location?.href).href;
      if (async !== false && handles(absolute)) {
        this.#local = {
          method: String(method).toUpperCase(),
          url: absolute,
          headers: new Headers(),
          readyState: OPENED,
          reply: null,
          sent: false,
          aborted: false,
        };
        this.dispatchEvent(new Event('readystatechange'));
        return;
      }
      this.#local = null;
      super.open(method, url, async, ...credentials);
    }

    get readyState() {
      return this.#local ? this.#local.readyState : super.readyState;
    }
    get status() {
      return this.#local ? (this.#local.reply?.status ?? 0) : super.status;
    }
    get statusText() {
      return this.#local ? (STATUS_TEXT[this.#local.reply?.status] ?? '') : super.statusText;
    }
    get responseURL() {
      return this.#local ? (this.#local.reply ? this.#local.url : '') : super.responseURL;
    }
    get responseText() {
      if (!this.#local) return super.responseText;
      if (this.responseType !== '' && this.responseType !== 'text') {
        throw new DOMException("The value is only accessible if the object's 'responseType' is '' or 'text'.", 'InvalidStateError');
      }
      return this.#local.readyState >= LOADING ? (this.#local.reply?.body ?? '') : '';
    }
    get response() {
      if (!this.#local) return super.response;
      const local = this.#local;
      if (this.responseType === '' || this.responseType === 'text') return this.responseText;
      if (local.readyState !== DONE || !local.reply) return null;
      const { body, contentType } = local.reply;
      switch (this.responseType) {
        case 'json':
          try {
            return JSON.parse(body);
          } catch {
            return null;
          }
        case 'arraybuffer':
          return new TextEncoder().encode(body).buffer;
        case 'blob':
          return new Blob([body], { type: contentType });
        default:
          return null;
      }
    }
    getResponseHeader(name) {
      if (!this.#local) return super.getResponseHeader(name);
      const type = this.#local.reply?.contentType;
      return this.#local.readyState >= HEADERS_RECEIVED && type && String(name).toLowerCase() === 'content-type' ? type : null;
    }
    getAllResponseHeaders() {
      if (!this.#local) return super.getAllResponseHeaders();
      const type = this.#local.reply?.contentType;
      return this.#local.readyState >= HEADERS_RECEIVED && type ? `content-type: ${type}\r\n` : '';
    }
    setRequestHeader(name, value) {
      if (!this.#local) return super.setRequestHeader(name, value);
      if (this.#local.readyState !== OPENED || this.#local.sent) {
        throw new DOMException("Failed to execute 'setRequestHeader' on 'XMLHttpRequest': The object's state must be OPENED.", 'InvalidStateError');
      }
      this.#local.headers.append(name, value);
    }
    abort() {
      if (!this.#local) return super.abort();
      const local = this.#local;
      local.aborted = true;
      if (local.sent && local.readyState !== DONE) {
        local.readyState = DONE;
        this.dispatchEvent(new Event('readystatechange'));
        this.#progress('abort');
        this.#progress('loadend');
      }
      local.readyState = UNSENT;
    }

    send(body = null) {
      if (!this.#local) return super.send(body);
      const local = this.#local;
      if (local.readyState !== OPENED || local.sent) {
        throw new DOMException("Failed to execute 'send' on 'XMLHttpRequest': The object's state must be OPENED.", 'InvalidStateError');
      }
      local.sent = true;
      const withBody = local.method !== 'GET' && local.method !== 'HEAD';
      const request = new Request(local.url, { method: local.method, headers: local.headers, body: withBody ? body : null });
      const network = fallback ? () => this.#sendToNetwork(local, body) : null;
      this.#progress('loadstart');
      answer(request, network).then(
        async (response) => {
          if (!response || local.aborted || this.#local !== local) return;
          local.reply = {
            status: response.status,
            contentType: response.headers.get('content-type') ?? '',
            body: await response.text(),
          };
          for (const state of [HEADERS_RECEIVED, LOADING, DONE]) {
            local.readyState = state;
            this.dispatchEvent(new Event('readystatechange'));
            if (state === LOADING) this.#progress('progress');
          }
          this.#progress('load');
          this.#progress('loadend');
        },
        () => {
          if (local.aborted || this.#local !== local) return;
          local.readyState = DONE;
          this.dispatchEvent(new Event('readystatechange'));
          this.#progress('error');
          this.#progress('loadend');
        },
      );
    }

    /** Sends the request as the browser's own XHR (its events fire on this object). */
    #sendToNetwork(local, body) {
      this.#local = null;
      super.open(local.method, local.url, true);
      local.headers.forEach((value, name) => super.setRequestHeader(name, value));
      super.send(body);
      return null;
    }

    #progress(type) {
      this.dispatchEvent(new ProgressEvent(type));
    }
  };
}
