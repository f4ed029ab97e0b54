// The engine's Web Worker, shared by every local socket and call of the
// page: created on first use, replaced by a fresh one if it crashes.
import { simd } from './wasm-feature-detect.js';

let worker = null;
/** Why the engine cannot run in this browser (WebAssembly refused), once known. */
let unavailable = null;
const clients = new Map();
const calls = new Map();
const progressListeners = new Set();
let nextId = 1;

/** A fresh id for a connection or a call. */
export function newId() {
  return nextId++;
}

let checked = false;
let fallbackAnnounced = false;

/** Says once on the console why local processing gave way to the server. */
export function announceFallback(reason) {
  if (fallbackAnnounced) return;
  fallbackAnnounced = true;
  console.warn(`voiceport: local processing is not available here (${reason}); using the voice server instead`);
}

/**
 * What this browser lacks to run the engine, checked at once: Workers,
 * WebAssembly, and the page's permission to compile it (a
 * Content-Security-Policy without 'wasm-unsafe-eval' refuses it).
 */
function missingCapability() {
  if (typeof Worker === 'undefined') return 'Web Workers are not available';
  if (typeof WebAssembly !== 'object') return 'WebAssembly is not available';
  try {
    new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  } catch (error) {
    return `WebAssembly cannot be compiled here (${error.message})`;
  }
  return null;
}

/**
 * Why the engine cannot run in this browser, or null as far as is known:
 * the capabilities above, WebAssembly SIMD (known a moment after the first
 * check), and a compile failure in the worker, remembered so that it is
 * not retried for every new socket.
 */
export function engineUnavailable() {
  if (!checked) {
    checked = true;
    unavailable ??= host.missing();
    if (!unavailable) {
      simd().then((ok) => {
        if (!ok) unavailable ??= 'WebAssembly SIMD is not supported';
      });
    }
  }
  return unavailable;
}

/** Whether the engine can run here: `{ok, reason}` once every check is done. */
export async function supported() {
  const now = engineUnavailable();
  if (now) return { ok: false, reason: now };
  if (!(await simd())) return { ok: false, reason: 'WebAssembly SIMD is not supported' };
  return { ok: !unavailable, reason: unavailable ?? null };
}

/**
 * Where the engine's worker runs: a browser Web Worker by default; the
 * Node.js entry (node.js) installs a `worker_threads` host. A host has
 * `missing()` (why it cannot run, or null) and `start(onMessage, onError)`
 * returning `{postMessage, terminate, keepAlive?(busy)}`.
 */
let host = {
  missing: missingCapability,
  start(onMessage, onError) {
    const created = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'voiceport' });
    created.onmessage = ({ data }) => onMessage(data);
    created.onerror = (event) => {
      event.preventDefault?.();
      onError(event.message);
    };
    return created;
  },
};

/** Replaces the worker host (before first use). */
export function useWorkerHost(replacement) {
  host = replacement;
}

function startWorker() {
  const created = host.start(
    (data) => route(created, data),
    (message) => retire(created, `voiceport worker failed: ${message || 'could not start'}`, 1006),
  );
  return created;
}

/** Lets a Node.js process exit while its worker has nothing to do. */
function updateKeepAlive() {
  worker?.keepAlive?.(calls.size + clients.size > 0);
}

/**
 * Ends a broken worker: every connection it served fails with `code`
 * (1011: the engine failed; 1006: the worker died), every pending call is
 * rejected, and the next use starts a fresh worker.
 */
function retire(broken, reason, code) {
  if (broken !== worker) return;
  worker = null;
  broken.terminate();
  for (const [id, client] of clients) {
    clients.delete(id);
    client.engineFailed(reason, code);
  }
  for (const { reject } of calls.values()) reject(new Error(reason));
  calls.clear();
}

function route(from, message) {
  switch (message.type) {
    case 'progress':
      progressListeners.forEach((listener) => listener(message));
      break;
    case 'result': {
      const call = calls.get(message.callId);
      calls.delete(message.callId);
      updateKeepAlive();
      if (!call) return;
      if (message.error !== undefined) call.reject(Object.assign(new Error(message.error), { engineFailure: message.engineFailure }));
      else call.resolve(message.value);
      break;
    }
    case 'unavailable':
      unavailable = message.reason;
      break;
    case 'crashed':
      retire(from, message.reason, 1011);
      break;
    default:
      clients.get(message.id)?.fromWorker(message);
  }
}

/** Posts `message` to the worker (started if needed). */
export function post(message, transfer = []) {
  worker ??= startWorker();
  updateKeepAlive();
  worker.postMessage(message, transfer);
}

/**
 * Registers a connection: `client.fromWorker(message)` gets its messages,
 * `client.engineFailed(reason, code)` is called if the worker breaks.
 */
export function register(id, client) {
  clients.set(id, client);
  updateKeepAlive();
}

/** Forgets a connection. */
export function unregister(id) {
  clients.delete(id);
  updateKeepAlive();
}

/** Runs a named call in the worker; resolves with its value. */
export function call(name, args, transfer = []) {
  const callId = newId();
  return new Promise((resolve, reject) => {
    calls.set(callId, { resolve, reject });
    post({ type: 'call', callId, name, args }, transfer);
  });
}

/** Listens to model loading: `{model, phase: 'download'|'plan'|'ready', loaded, total}`. */
export function onProgress(listener) {
  progressListeners.add(listener);
  worker ??= startWorker();
  return () => progressListeners.delete(listener);
}
