// Chromium for the browser suites: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download), with the flags of shared DESIGN.md, inside the loopback-only network
// namespace that `npm run test:browser` enters (support/netns.ts). One browser per test file,
// one context (its own cookies, storage and camera) per user.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_MISSING = `${CHROMIUM} is missing: install Debian's chromium (apt-get install --no-install-recommends chromium; bash .ci/run does), or set PARLEY_CHROMIUM`;

/** The flags of DESIGN.md: no sandbox (root in CI), no GPU, no QUIC, fake camera and microphone granted, loopback ICE. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
] as const;

/** What a page printed and threw, kept for failure messages. */
export interface PageLog {
  readonly lines: string[];
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A new context (a separate user: storage, camera) with one page; the page's console is kept in `log`. */
  newUser(name: string): Promise<{ context: BrowserContext; page: Page; log: PageLog }>;
  /** Close every context and the browser (bounded; playwright kills the process if it hangs). */
  close(): Promise<void>;
}

/**
 * Launch Chromium headless (playwright gives it a fresh temporary --user-data-dir, removed on
 * close). Contexts accept the development certificate (ignoreHTTPSErrors: the page and its
 * wss:// WebSocket), as a person does by clicking through the warning once.
 */
export async function launchChromium(timeoutMs = 30_000): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: timeoutMs,
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    newUser: async (name) => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 900, height: 1000 } });
      contexts.push(context);
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(15_000);
      const page = await context.newPage();
      const log: PageLog = { lines: [] };
      const stamp = (): string => new Date().toISOString().slice(11, 23);
      page.on('console', (m: ConsoleMessage) => log.lines.push(`${stamp()} [${name} ${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => log.lines.push(`${stamp()} [${name} pageerror] ${e.message}`));
      page.on('requestfailed', (r) => log.lines.push(`${stamp()} [${name} requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`));
      return { context, page, log };
    },
    close: async () => {
      const closing = (async () => {
        for (const c of contexts) await c.close().catch(() => {});
        await browser.close();
      })();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closing, new Promise<void>((res) => (timer = setTimeout(res, 15_000)))]);
      clearTimeout(timer);
    },
  };
}
