// The engine's worker under Node.js: gives worker.js the Web Worker globals
// it uses (`self`, `postMessage`, `onmessage`) over `worker_threads`, and a
// `fetch` that reads the package's own files (file: URLs).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';

const networkFetch = globalThis.fetch;
globalThis.fetch = async (resource, init) => {
  const url = new URL(resource instanceof Request ? resource.url : String(resource));
  if (url.protocol !== 'file:') return networkFetch(resource, init);
  try {
    const bytes = await readFile(fileURLToPath(url));
    const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(bytes, { headers: { 'content-type': type, 'content-length': String(bytes.length) } });
  } catch (error) {
    return new Response(null, { status: error.code === 'ENOENT' ? 404 : 500, statusText: error.message });
  }
};

globalThis.self = globalThis;
self.postMessage = (message, transfer) => parentPort.postMessage(message, transfer);
// Messages that arrive while worker.js loads wait for its handler.
const early = [];
parentPort.on('message', (data) => (self.onmessage ? self.onmessage({ data }) : early.push(data)));

await import('./worker.js');
for (const data of early.splice(0)) self.onmessage({ data });
