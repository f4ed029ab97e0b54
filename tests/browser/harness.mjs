// Shared test harness: a static server for dist/ and the test pages, the
// native voiceport server, and headless Chromium (Debian's, offline).
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.wav': 'audio/wav',
  '.css': 'text/css',
};

/** The default mounts: /test/* from tests/browser/pages, /data/* from tests/data, the rest from dist/. */
const DEFAULT_MOUNTS = [
  ['/test/', join(ROOT, 'tests/browser/pages')],
  ['/data/', join(ROOT, 'tests/data')],
  ['/', join(ROOT, 'dist')],
];

/**
 * A static file server on a free loopback port; `mounts` are `[urlPrefix, directory]`, first
 * match wins. `maxAge` (seconds) makes responses HTTP-cacheable, as a CDN serves them.
 */
export async function startStaticServer(mounts = DEFAULT_MOUNTS, { maxAge = 0 } = {}) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const [prefix, dir] = mounts.find(([p]) => path.startsWith(p));
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir)) return response.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return response.writeHead(404).end('not found');
    const { size, mtime } = statSync(file);
    const caching = maxAge > 0 ? { 'cache-control': `max-age=${maxAge}`, 'last-modified': mtime.toUTCString() } : {};
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      ...caching,
    });
    createReadStream(file).pipe(response);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** Starts target/debug/voiceport-server on a free loopback port. */
export async function startNativeServer() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', done));
  const port = probe.address().port;
  await new Promise((done) => probe.close(done));
  const binary = join(ROOT, 'target/debug/voiceport-server');
  const child = spawn(binary, ['--addr', `127.0.0.1:${port}`, '--www', join(ROOT, 'dist')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return { port, base, stop: () => child.kill('SIGTERM') };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill();
  throw new Error('voiceport-server did not start');
}

/** Headless Debian Chromium with the flags this offline machine needs. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
}

/** Chromium flags that make a WAV file the microphone. */
export function fakeMicrophone(wav) {
  return [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
  ];
}

/** Opens `path` of the static server and forwards page errors and warnings. */
export async function openPage(browser, base, path) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error('[page]', message.text());
  });
  await page.goto(`${base}${path}`);
  return page;
}

/**
 * Registers, for the calling test file, a static server and a Chromium whose
 * microphone plays `wav`; returns `ready(path)`, which opens a test page and
 * resolves once it sets `window.ready`.
 */
export function pagesWithMicrophone(wav) {
  let server;
  let browser;
  before(async () => {
    server = await startStaticServer();
    browser = await launchChromium(fakeMicrophone(wav));
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  return async (path) => {
    const page = await openPage(browser, server.url, path);
    await page.waitForFunction(() => window.ready, null, { timeout: 60_000 });
    return page;
  };
}
