// The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// served by the app in front of the real model service: used with the keyboard only, a spam
// message shows "spam" and both versions, markup is shown as text, and a stopped model is told
// kindly. The page's Content-Security-Policy must not block anything it needs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logging.ts';
import { assembleApp, startServer, type RunningServer } from '../../src/app/server.ts';
import { startModelService, trainedModelsDir } from '../support/model-service.ts';

// Debian's package; SMSX_CHROMIUM points elsewhere (e.g. another distribution's path).
const CHROMIUM = process.env.SMSX_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SPAM_MESSAGE = 'URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt the word: CLAIM to No: 81010';

describe('app page in headless Chromium', function () {
  this.timeout(120_000);
  let model: Awaited<ReturnType<typeof startModelService>>;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      process.stdout.write(`      SKIPPED: the browser test needs Chromium at ${CHROMIUM} (Debian package "chromium"), and there is none\n`);
      this.skip();
    }
    const modelsDir = await trainedModelsDir();
    model = await startModelService({ modelsDir, version: 'v1' });
    const config = loadConfig({ MODEL_HOST: model.url, APP_VERSION: 'v1', APP_SERVER_PORT: '0' });
    const logger = createLogger({ level: 'silent', version: config.appVersion });
    server = await startServer(assembleApp(config, { logger, processMetrics: false }), { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1_000, logger });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await model?.stop();
  });

  /** Types the message and submits it with the keyboard only; resolves once the page has shown the answer. */
  async function checkWithKeyboard(message: string, guess?: 'spam' | 'ham'): Promise<void> {
    await page.locator('#sms').fill('');
    await page.locator('#sms').focus();
    await page.keyboard.type(message);
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/sms');
    if (guess === undefined) {
      await page.keyboard.press('Control+Enter');
    } else {
      await page.keyboard.press('Tab'); // onto the guess radio group ("No guess")
      await page.keyboard.press(guess === 'spam' ? 'ArrowRight' : 'ArrowLeft'); // No guess → Spam / wraps to Not spam
      await page.keyboard.press('Tab'); // onto the button
      assert.equal(await page.evaluate('document.activeElement?.id'), 'check-button');
      await page.keyboard.press('Enter');
    }
    await answered;
    // The button is disabled while the request runs and enabled again once the answer is on the page.
    await page.locator('#check-button:not([disabled])').waitFor();
  }

  it('shows the app version before any check', async () => {
    assert.equal(await page.title(), 'SMS spam check');
    assert.equal(await page.locator('#app-version').textContent(), 'v1');
    assert.equal(await page.locator('#model-version').textContent(), 'not asked yet');
  });

  it('a spam message typed with the keyboard shows "spam", the guess outcome and the versions that answered', async () => {
    await checkWithKeyboard(SPAM_MESSAGE, 'spam');
    assert.equal(await page.locator('#result').isVisible(), true);
    assert.equal(await page.locator('#verdict-badge').textContent(), 'spam');
    assert.equal(await page.locator('#verdict-text').textContent(), 'This looks like spam.');
    assert.match((await page.locator('#probability').textContent()) ?? '', /^Spam probability: (\d+(\.\d)?%|over 99\.9%)$/);
    assert.equal(await page.locator('#guess-outcome').textContent(), 'Your guess matches the spam filter.');
    assert.equal(await page.locator('#app-version').textContent(), 'v1');
    assert.equal(await page.locator('#model-version').textContent(), 'v1');
    assert.equal(await page.locator('#checked-message').textContent(), SPAM_MESSAGE);
  });

  it('shows a message containing <script> as text and runs none of it', async () => {
    const hostile = 'Hi <script>window.injected = "script"</script><img src="x" onerror="window.injected = \'img\'"> <b>bold</b>';
    await checkWithKeyboard(hostile);
    assert.equal(await page.locator('#checked-message').textContent(), hostile);
    assert.equal(await page.locator('#checked-message script, #checked-message img, #checked-message b').count(), 0);
    assert.equal(await page.locator('#checked-message').innerText(), hostile);
    assert.equal(await page.evaluate('typeof window.injected'), 'undefined');
  });

  it('is readable on a phone: nothing wider than a 320 px screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 320, height: 640 }, isMobile: true });
    try {
      await phone.goto(server.url);
      // An answer on the page too, with a long unbroken link that must wrap rather than widen it.
      await phone.locator('#sms').fill(`Claim at http://example.com/${'x'.repeat(120)} now`);
      const answered = phone.waitForResponse((response) => new URL(response.url()).pathname === '/sms');
      await phone.locator('#check-button').click();
      await answered;
      await phone.locator('#check-button:not([disabled])').waitFor();
      assert.equal(await phone.locator('#result').isVisible(), true);
      const scrollWidth = await phone.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(scrollWidth <= 320, `no horizontal scrolling (page is ${scrollWidth}px wide)`);
      const fontSize = await phone.evaluate<number>("parseFloat(getComputedStyle(document.getElementById('sms')).fontSize)");
      assert.ok(fontSize >= 16, `text area font ${fontSize}px (at least 16px, so phones do not zoom in)`);
    } finally {
      await phone.close();
    }
  });

  it('says kindly that the model service is unavailable once it stopped', async () => {
    await model.stop();
    await checkWithKeyboard('Are you coming to the party on Saturday?');
    assert.equal(await page.locator('#problem').isVisible(), true);
    const text = (await page.locator('#problem').textContent()) ?? '';
    assert.match(text, /^The spam filter is taking a short break\./);
    assert.match(text, /The model service is unavailable right now, so we could not check your message\. Please try again in a moment\./);
    assert.equal(await page.locator('#result').isVisible(), false);
    assert.equal(await page.locator('#check-button').isEnabled(), true, 'the button works again for a retry');
  });

  it('the Content-Security-Policy blocked nothing and the page threw nothing', () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
