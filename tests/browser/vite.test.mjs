// The npm package in a fresh Vite (vite@7) app: installed from the packed
// tarball, built with no configuration, served statically and run in Chromium.
// Asset URLs (worker, wasm, models) must resolve with no asset-path setup.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchChromium, openPage, startStaticServer } from './harness.mjs';

const APP = join(ROOT, 'target/vite-app');

let server;
let browser;

before(async () => {
  rmSync(APP, { recursive: true, force: true });
  cpSync(join(ROOT, 'tests/browser/vite-app'), APP, { recursive: true });
  const run = (command, args) => execFileSync(command, args, { cwd: APP, stdio: ['ignore', 'ignore', 'inherit'] });
  run('npm', ['pack', join(ROOT, 'dist/pkg'), '--pack-destination', APP, '--silent']);
  const tarball = readdirSync(APP).find((name) => name.endsWith('.tgz'));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`]);
  run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  server = await startStaticServer([['/', join(APP, 'dist')]]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('a fresh Vite app builds the package with no config and runs it', async () => {
  const page = await openPage(browser, server.url, '/');
  await page.waitForFunction(() => window.ready);
  const { replies, speakerModel } = await page.evaluate(() => window.run());
  assert.equal(replies[0], '200');
  const summary = JSON.parse(replies[1]);
  assert.equal(summary.speech_length, 0);
  assert.equal(summary.current_speech_summary.total_length, 1);
  assert.equal(summary.current_speech_summary.vad_result.frames.length, 33);
  assert.equal(speakerModel, true);
});
