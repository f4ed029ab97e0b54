// The shims: `new WebSocket(url)`, `fetch` and `XMLHttpRequest` for the
// voice server's URLs answered locally, everything else untouched.
import { announceFallback, engineUnavailable } from './engine.js';
import { localFetch, localXMLHttpRequest } from './rest.js';
import { LocalVoiceSocket } from './socket.js';
import { isEndpointUrl, isRestUrl, matches } from './urls.js';

const CONSTANTS = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };

/** A `WebSocket` constructor routing matching URLs to local sockets. */
function shimmedWebSocket(RealWebSocket, handles, fallback) {
  function WebSocket(url, protocols) {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator.");
    const real = () => new RealWebSocket(url, ...(protocols === undefined ? [] : [protocols]));
    if (!handles(url)) return real();
    // Known up front that the engine cannot run: the server at once.
    const unavailable = fallback && engineUnavailable();
    if (unavailable) {
      announceFallback(unavailable);
      return real();
    }
    return new LocalVoiceSocket(url, protocols, { fallback });
  }
  WebSocket.prototype = RealWebSocket.prototype;
  Object.assign(WebSocket, CONSTANTS);
  Object.defineProperty(WebSocket, Symbol.hasInstance, {
    value: (instance) => instance instanceof RealWebSocket || instance instanceof LocalVoiceSocket,
  });
  return WebSocket;
}

/** Replaces `globalThis[name]` by `value`; returns the undo. */
function replaceGlobal(name, value) {
  const previous = globalThis[name];
  globalThis[name] = value;
  return () => {
    if (globalThis[name] === value) globalThis[name] = previous;
  };
}

/**
 * Routes `new WebSocket(url)` to local processing for URLs that `match`
 * (default: a voice server endpoint path on any host); every other URL gets
 * the real WebSocket. Returns a function that uninstalls the shim.
 * `fallback` (default false here): use the server at the URL when the
 * engine cannot run.
 */
export function installWebSocketShim({ match = isEndpointUrl, fallback = false } = {}) {
  const handles = (url) => matches(match, url);
  return replaceGlobal('WebSocket', shimmedWebSocket(globalThis.WebSocket, handles, fallback));
}

/**
 * Makes the voice server's whole API local: `new WebSocket(url)` for its
 * streaming endpoints and `fetch` / `XMLHttpRequest` for its REST routes,
 * on URLs that `match` (default: any host, the server's paths). Where the
 * engine cannot run (no WebAssembly SIMD, WebAssembly forbidden by the
 * page's Content-Security-Policy, no Workers, models that cannot be
 * fetched), the same requests go to the server at their original URL,
 * unless `fallback: false`. Returns a function that uninstalls the shim.
 */
export function installVoiceServerShim({ match, fallback = true } = {}) {
  const sockets = (url) => (match ? matches(match, url) : matches(isEndpointUrl, url));
  const rest = (url) => (match ? matches(match, url) : matches(isRestUrl, url)) && matches(isRestUrl, url);
  const undo = [
    replaceGlobal('WebSocket', shimmedWebSocket(globalThis.WebSocket, sockets, fallback)),
    replaceGlobal('fetch', localFetch(globalThis.fetch.bind(globalThis), rest, fallback)),
    replaceGlobal('XMLHttpRequest', localXMLHttpRequest(globalThis.XMLHttpRequest, rest, fallback)),
  ];
  engineUnavailable(); // start the capability checks now
  return () => undo.reverse().forEach((restore) => restore());
}
