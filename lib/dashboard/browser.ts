// Headless Debian Chromium driven by playwright-core (a dev dependency: the browser tests and the delay
// benchmark use it; the dashboard itself does not).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.SPARK_TS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a machine without a network beyond loopback: no background connections (they are refused here,
 * many at a time), no GPU, no sandbox (CI runs as root).
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserMissingError extends Error {}

/** Why the browser tests cannot run, or undefined when Chromium is there. */
export function chromiumMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  return `Chromium is not installed at ${CHROMIUM}: run \`make setup\` as root (it runs \`apt-get install chromium\`), or set SPARK_TS_CHROMIUM to a Chromium binary`;
}

/** Launches Chromium with a fresh profile directory (its --user-data-dir, removed by `close`). */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const missing = chromiumMissing();
  if (missing) throw new BrowserMissingError(missing);
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-chromium-'));
  // Playwright passes the profile as --user-data-dir itself (it refuses the flag in `args`).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
