// Regenerates docs/app-screenshot.png: the app in front of the real model service (v1 trained on
// the shared data set, or the test fixture corpus without it), a spam message checked with a guess,
// photographed in headless Chromium.  Run: node hack/screenshot-app.ts [output.png]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/app/config.ts';
import { createLogger } from '../src/app/logging.ts';
import { assembleApp, startServer } from '../src/app/server.ts';
import { startModelService, trainedModelsDir } from '../test/support/model-service.ts';

const CHROMIUM = process.env.SMSX_CHROMIUM ?? '/usr/bin/chromium';
const output = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '../docs/app-screenshot.png'));
const MESSAGE = 'WINNER!! You have been chosen for a £900 cash prize. To claim, call 09050001234 now. Claim code XK52. Valid 12 hours only.';

if (!existsSync(CHROMIUM)) {
  process.stderr.write(`The screenshot needs Chromium at ${CHROMIUM} (Debian package "chromium"), which is not installed.\n`);
  process.exit(1);
}

const model = await startModelService({ modelsDir: await trainedModelsDir(), version: 'v1' });
const config = loadConfig({ MODEL_HOST: model.url, APP_VERSION: 'v1' });
const logger = createLogger({ level: 'silent', version: config.appVersion });
const server = await startServer(assembleApp(config, { logger, processMetrics: false }), { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1_000, logger });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  await page.locator('#sms').fill(MESSAGE);
  await page.locator('input[name="guess"][value="spam"]').check();
  const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/sms');
  await page.locator('#check-button').click();
  await answered;
  await page.locator('#check-button:not([disabled])').waitFor();
  // Away from the button, so it is not photographed in its hover colour.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: output, fullPage: true });
  process.stdout.write(`Wrote ${output}\n`);
} finally {
  await browser.close();
  await server.close();
  await model.stop();
}
