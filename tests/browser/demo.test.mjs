// The demo page, end to end, as a person would use it: Chromium's fake
// microphone plays a recording; the page enrolls speaker A from a WAV file,
// then verifies live from the microphone, shows the speech summary and lights
// the endpoint detector, in Local and in Server mode.
// Screenshots are saved under target/demo-e2e/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, fakeMicrophone, launchChromium, startNativeServer } from './harness.mjs';

const FIXTURES = join(ROOT, 'tests/data/demo');
const SHOTS = join(ROOT, 'target/demo-e2e');

let server;

before(async () => {
  server = await startNativeServer();
  mkdirSync(SHOTS, { recursive: true });
});

after(() => server?.stop());

/** Enrolls A from a file and verifies the microphone (`micWav`) in `mode`; returns the page's figures. */
async function enrollAndVerify(browser, mode, shot) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error));
  await page.goto(`${server.base}/`);
  await page.selectOption('#mode', mode);
  await page.setInputFiles('#enroll-file', join(FIXTURES, 'speaker_a_enroll.wav'));
  await page.waitForFunction(() => document.getElementById('template').value.length > 100, null, { timeout: 60_000 });
  const speech = Number(await page.getAttribute('#quality', 'data-speech'));
  await page.click('#verify-start');
  // 3 s window + 2.5 s of 0.5 s hops = 6 results.
  await page.waitForFunction(() => Number(document.getElementById('decision').dataset.results) >= 6, null, {
    timeout: 60_000,
  });
  const decision = await page.$eval('#decision', (el) => ({
    probability: Number(el.dataset.probability),
    score: Number(el.dataset.score),
    text: el.textContent,
  }));
  // Speech summary and endpoint on the same page, while verification goes on.
  await page.fill('#silence', '240');
  await page.click('#summary-start');
  await page.waitForFunction(() => document.getElementById('endpoint').dataset.state === 'ended', null, {
    timeout: 60_000,
  });
  const summarySpeech = await page.$eval('#speech', (el) => Number(el.textContent.match(/[\d.]+/)[0]));
  await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  await page.click('#verify-stop');
  await page.click('#summary-stop');
  await page.close();
  return { speech, summarySpeech, ...decision };
}

for (const [speaker, wav, expectSame] of [
  ['A (another recording of the enrolled speaker)', 'speaker_a_verify.wav', true],
  ['B (a different speaker)', 'speaker_b_verify.wav', false],
]) {
  test(`demo: enroll A, verify ${speaker}, in Local and Server mode`, async () => {
    const browser = await launchChromium(fakeMicrophone(join(FIXTURES, wav)));
    try {
      for (const mode of ['local', 'server']) {
        const figures = await enrollAndVerify(browser, mode, `${mode}-${wav.replace('.wav', '.png')}`);
        assert.ok(figures.speech > 3, `${mode}: enrollment speech ${figures.speech} s`);
        assert.ok(figures.summarySpeech > 0.3, `${mode}: summary speech ${figures.summarySpeech} s`);
        if (expectSame) {
          assert.ok(figures.probability > 0.9, `${mode}: ${JSON.stringify(figures)}`);
          assert.match(figures.text, /^same speaker/);
        } else {
          assert.ok(figures.probability < 0.1, `${mode}: ${JSON.stringify(figures)}`);
          assert.match(figures.text, /^different speaker/);
        }
      }
    } finally {
      await browser.close();
    }
  });
}

test('demo: guided enrollment from the microphone, with progress, in Local and Server mode', async () => {
  const browser = await launchChromium(fakeMicrophone(join(FIXTURES, 'speaker_a_enroll.wav')));
  try {
    for (const mode of ['local', 'server']) {
      const page = await browser.newPage();
      page.on('pageerror', (error) => console.error('[page error]', error));
      await page.goto(`${server.base}/`);
      await page.selectOption('#mode', mode);
      const percents = [];
      await page.exposeFunction('reportPercent', (value) => percents.push(value));
      await page.evaluate(() => {
        const bar = document.getElementById('enroll-progress');
        const report = () => window.reportPercent(bar.dataset.percent);
        new MutationObserver(report).observe(bar, { attributeFilter: ['data-percent'] });
      });
      await page.click('#enroll-record');
      await page.waitForFunction(() => document.getElementById('template').value.length > 100, null, { timeout: 60_000 });
      const recorded = await page.$eval('#template', (el) => el.value);
      const speech = Number(await page.getAttribute('#quality', 'data-speech'));
      assert.ok(speech >= 6, `${mode}: ${speech} s of speech`);
      const values = percents.map(Number);
      assert.ok(values.length > 10 && values.at(-1) === 100, `${mode}: ${values.join(' ')}`);
      assert.ok(values.every((value, i) => i === 0 || value >= values[i - 1]));
      // The recorded template is speaker A's, as the file's is.
      await page.setInputFiles('#enroll-file', join(FIXTURES, 'speaker_a_enroll.wav'));
      await page.waitForFunction((old) => document.getElementById('template').value !== old, recorded, { timeout: 60_000 });
      const fromFile = await page.$eval('#template', (el) => el.value);
      const { probability } = await page.evaluate(
        async ([a, b]) => (await import('/pkg/index.js')).matchTemplates(a, b),
        [recorded, fromFile],
      );
      assert.ok(probability > 0.9, `${mode}: ${probability}`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
