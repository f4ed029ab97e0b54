// Offline support for the demo: the app shell is served network-first and
// falls back to the copy cached on the previous visit. (The models are
// cached separately by the package's worker.)
const CACHE = 'voiceport-demo-v1';
const SHELL = [
  './',
  'demo.css',
  'demo.js',
  'plot.js',
  'pkg/index.js',
  'pkg/capture.js',
  'pkg/capture-worklet.js',
  'pkg/worker.js',
  'pkg/voiceport.js',
  'pkg/voiceport_bg.wasm',
  'pkg/voiceport_relaxed_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && !url.pathname.endsWith('.onnx')) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(async () => (await caches.match(event.request)) ?? Response.error()),
  );
});
