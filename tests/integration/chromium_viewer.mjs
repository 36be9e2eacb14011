#!/usr/bin/env node
// A Chromium viewer for tests that orchestrate several kinds of peers: opens
// the served viewer page at --url, and prints "frames N" (frames decoded so
// far) every half second for --seconds. Exit 0 when it ran, 1 on error.
// Runs only inside a private network namespace (tests/netns-run.sh).
/* global window */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../browser/package.json'));
const { chromium } = require('playwright-core');

const { values } = parseArgs({ options: { url: { type: 'string' }, seconds: { type: 'string' } } });
const seconds = Number(values.seconds || 10);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_ARGS,
});
try {
  const page = await browser.newPage();
  await page.goto(values.url);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const frames = await page.evaluate(() => window.livecast?.stats?.framesDecoded ?? 0);
    console.log(`frames ${frames}`);
    await new Promise((r) => setTimeout(r, 500));
  }
} finally {
  await browser.close();
}
