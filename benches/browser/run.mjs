// Drives benches/browser/bench.html in headless Chromium and prints a
// markdown table (scripts/bench-browser.sh).
import { join } from 'node:path';
import { ROOT, launchChromium, openPage, startStaticServer } from '../../tests/browser/harness.mjs';

/** Returning visits timed after the first one (which fills the caches). */
const RETURNING_VISITS = 7;

const server = await startStaticServer([
  ['/bench/', join(ROOT, 'benches/browser')],
  ['/data/', join(ROOT, 'tests/data')],
  ['/ort/', join(ROOT, 'node_modules/onnxruntime-web/dist')],
  ['/vad-web/', join(ROOT, 'node_modules/@ricky0123/vad-web/dist')],
  ['/', join(ROOT, 'dist')],
], { maxAge: 3600 }); // cacheable, as a CDN serves the package: a returning visitor's wasm comes from the HTTP cache
/**
 * Opus decoding speed in wasm: the Opus stream's time minus the PCM stream's on the
 * same audio, for the fixtures opus-rs decodes and for the 2.5 ms one (opus-decoder).
 */
function opusRows(fixtures) {
  const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0);
  const groups = [
    ['opus-rs (10–60 ms frames)', fixtures.filter((f) => !f.name.includes('2.5ms'))],
    ['opus-decoder (2.5 ms frames)', fixtures.filter((f) => f.name.includes('2.5ms'))],
  ];
  return groups.map(([decoder, rows]) => {
    const seconds = sum(rows, 'seconds');
    const decodeMs = sum(rows, 'opusMs') - sum(rows, 'pcmMs');
    return [
      `Opus input, ${decoder}: ${seconds.toFixed(1)} s through the summary stream, ms (as PCM16: ${sum(rows, 'pcmMs').toFixed(1)})`,
      sum(rows, 'opusMs').toFixed(1),
      '',
      `decoding ${((1000 * seconds) / decodeMs).toFixed(0)}× real time`,
    ];
  });
}

/** The two engine builds side by side: relaxed SIMD against SIMD128, same page. */
function buildRows({ simd128, relaxed }) {
  const row = (measure, key) => [
    `${measure}: relaxed SIMD build (SIMD128 build)`,
    `${relaxed[key].toFixed(1)} (${simd128[key].toFixed(1)})`,
    '',
    `relaxed/SIMD128 ${(relaxed[key] / simd128[key]).toFixed(2)}`,
  ];
  return [
    row('template of 3 s, ms', 'template3sMs'),
    row('verify stream, 10 s in 100 ms messages, ms per real-time second', 'verifyMsPerSecond'),
  ];
}

const browser = await launchChromium();
try {
  const page = await openPage(browser, server.url, '/bench/bench.html');
  await page.waitForFunction(() => window.ready);
  const engines = await page.evaluate(() => window.runEngines());
  const verify = await page.evaluate(() => window.runVerifyLoad());
  const builds = await page.evaluate(() => window.runBuilds());
  // The first cold start fills the Cache API and the HTTP cache; later ones measure a
  // returning visitor (Chromium may keep the compiled wasm from the second load on).
  const context = await browser.newContext();
  const visit = async () => {
    const fresh = await context.newPage();
    await fresh.goto(`${server.url}/bench/bench.html`);
    await fresh.waitForFunction(() => window.ready);
    const result = await fresh.evaluate(() => window.runColdStart());
    await fresh.close();
    return result;
  };
  const firstVisit = await visit();
  const returning = [];
  for (let i = 0; i < RETURNING_VISITS; i++) returning.push(await visit());
  const cached = returning[returning.length - 1];
  /** Median and range of one measure over the returning visits, in ms. */
  const spread = (key) => {
    const values = returning.map((r) => r[key]).sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)];
    return `${median.toFixed(0)} (${values[0].toFixed(0)}–${values[values.length - 1].toFixed(0)})`;
  };
  const { voiceport: v, onnxruntimeWeb: o } = engines;
  const rows = [
    ['Silero VAD, µs per 32 ms frame', v.vadUsPerFrame.toFixed(1), o.vadUsPerFrame.toFixed(1), (v.vadUsPerFrame / o.vadUsPerFrame).toFixed(2)],
    ['Silero model load in page, first / again, ms', `${v.vadLoadFirstMs.toFixed(0)} / ${v.vadLoadAgainMs.toFixed(0)}`, '', ''],
    [`template of ${v.seconds.toFixed(1)} s (VAD + fbank + CAM++), ms`, v.templateMs.toFixed(0), '', ''],
    ['  CAM++ pipeline, ms per second of audio', (v.templateMs / v.seconds).toFixed(1), '', ''],
    ['template of 3 s, ms', v.template3sMs.toFixed(0), '', ''],
    ['speaker model load (in-page), ms', v.speakerLoadMs.toFixed(0), '', ''],
    [`verify stream in the package's worker (${verify.kernels} build), real time: busy share (ms per second; ${verify.results} results)`, `${(100 * verify.busyShare).toFixed(1)} % (${verify.msPerSecond.toFixed(1)})`, '', ''],
    ...buildRows(builds),
    ...opusRows(v.opus),
    ['cold start to first "200", first visit, ms', firstVisit.first200Ms.toFixed(0), '', ''],
    [`cold start to first "200", returning visit (models cached), median (range) of ${RETURNING_VISITS}, ms`, spread('first200Ms'), '', ''],
    ['cold start to the first audio reply, returning visit, ms', spread('firstAudioReplyMs'), '', ''],
    ['speaker model ready after that, returning visit, ms', spread('speakerReadyMs'), '', ''],
  ];
  const milestones = Object.entries(cached.phases).map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`);
  console.log(`Chromium ${browser.version()}, one thread each\n`);
  console.log(`cold start milestones, last visit: ${milestones.join(', ')}\n`);
  console.log('| measure | voiceport (wasm) | onnxruntime-web (vad-web\'s runtime, silero_vad_v6.onnx) | ratio |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} finally {
  await browser.close();
  server.close();
}
