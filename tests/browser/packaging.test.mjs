// The npm package as app developers consume it, installed from the packed
// tarball into fresh apps: Vite (vite@7) and webpack 5 build it with no
// configuration and the built apps run in Chromium (asset URLs — worker,
// wasm, models — resolve with no asset-path setup); a TypeScript consumer
// type-checks against index.d.ts with `tsc --strict`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchChromium, openPage, startStaticServer } from './harness.mjs';

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/**
 * Copies tests/browser/<name> (with the shared fresh-app code) to
 * target/<name> and installs the packed package into it.
 */
function freshApp(name) {
  const app = join(ROOT, 'target', name);
  rmSync(app, { recursive: true, force: true });
  cpSync(join(ROOT, 'tests/browser', name), app, { recursive: true });
  cpSync(join(ROOT, 'tests/browser/fresh-app'), app, { recursive: true });
  const run = (command, args) => execFileSync(command, args, { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
  run('npm', ['pack', join(ROOT, 'dist/pkg'), '--pack-destination', app, '--silent']);
  const tarball = readdirSync(app).find((file) => file.endsWith('.tgz'));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`]);
  return { app, run };
}

/** Serves a built app and runs its `window.run()` (one summary reply, then the speaker model). */
async function runBuiltApp(dist) {
  const server = await startStaticServer([['/', dist]]);
  try {
    const page = await openPage(browser, server.url, '/');
    await page.waitForFunction(() => window.ready);
    const { replies, speakerModel } = await page.evaluate(() => window.run());
    await page.close();
    assert.equal(replies[0], '200');
    const summary = JSON.parse(replies[1]);
    assert.equal(summary.speech_length, 0);
    assert.equal(summary.current_speech_summary.total_length, 1);
    assert.equal(summary.current_speech_summary.vad_result.frames.length, 33);
    assert.deepEqual(summary.speech_events.map((event) => event.is_voice), [false]);
    assert.equal(speakerModel, true);
  } finally {
    server.close();
  }
}

test('a fresh Vite app builds the package with no config and runs it', async () => {
  const { app, run } = freshApp('vite-app');
  run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  await runBuiltApp(join(app, 'dist'));
});

test('a fresh webpack 5 app builds the package with no loaders and runs it', async () => {
  const { app, run } = freshApp('webpack-app');
  run(process.execPath, [join(ROOT, 'node_modules/webpack-cli/bin/cli.js'), '--config', 'webpack.config.js']);
  cpSync(join(app, 'index.html'), join(app, 'dist/index.html'));
  await runBuiltApp(join(app, 'dist'));
});

test("a TypeScript consumer type-checks against the package's types", () => {
  const { run } = freshApp('ts-consumer');
  // Throws (with tsc's messages on stderr) on any type error.
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json']);
});
