// Drives benches/browser/bench.html in headless Chromium and prints a
// markdown table (scripts/bench-browser.sh).
import { join } from 'node:path';
import { ROOT, launchChromium, openPage, startStaticServer } from '../../tests/browser/harness.mjs';

const server = await startStaticServer([
  ['/bench/', join(ROOT, 'benches/browser')],
  ['/data/', join(ROOT, 'tests/data')],
  ['/ort/', join(ROOT, 'node_modules/onnxruntime-web/dist')],
  ['/vad-web/', join(ROOT, 'node_modules/@ricky0123/vad-web/dist')],
  ['/', join(ROOT, 'dist')],
]);
const browser = await launchChromium();
try {
  const page = await openPage(browser, server.url, '/bench/bench.html');
  await page.waitForFunction(() => window.ready);
  const engines = await page.evaluate(() => window.runEngines());
  // The first cold start fills the Cache API; the second measures a returning visitor.
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
  const cached = await visit();
  const { voiceport: v, onnxruntimeWeb: o } = engines;
  const rows = [
    ['Silero VAD, µs per 32 ms frame', v.vadUsPerFrame.toFixed(1), o.vadUsPerFrame.toFixed(1), (v.vadUsPerFrame / o.vadUsPerFrame).toFixed(2)],
    [`template of ${v.seconds.toFixed(1)} s (VAD + fbank + CAM++), ms`, v.templateMs.toFixed(0), '', ''],
    ['  CAM++ pipeline, ms per second of audio', (v.templateMs / v.seconds).toFixed(1), '', ''],
    ['template of 3 s, ms', v.template3sMs.toFixed(0), '', ''],
    ['speaker model load + plans (in-page), ms', v.speakerLoadMs.toFixed(0), '', ''],
    ['cold start to first "200", first visit, ms', firstVisit.first200Ms.toFixed(0), '', ''],
    ['cold start to first "200", models cached, ms', cached.first200Ms.toFixed(0), '', ''],
    ['speaker model ready after that, models cached, ms', cached.speakerReadyMs.toFixed(0), '', ''],
  ];
  console.log(`Chromium ${browser.version()}, one thread each\n`);
  console.log('| measure | voiceport (wasm) | onnxruntime-web (vad-web\'s runtime, silero_vad_v6.onnx) | ratio |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} finally {
  await browser.close();
  server.close();
}
