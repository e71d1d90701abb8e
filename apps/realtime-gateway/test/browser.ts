import { REPO_ROOT } from '@beacon/testing';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core: what the dashboard suites run their pages in. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go here (CI keeps the folder as an artifact). */
export const OUTPUT = join(REPO_ROOT, 'test-output');
// Without the background-networking flags Chromium stalls on a closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium with "sudo apt-get install chromium" (CI installs it)`);
  }
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions the page produced. */
  errors: string[];
}

export interface PageOptions {
  width?: number;
  height?: number;
  /** What `prefers-color-scheme` says. */
  colorScheme?: 'light' | 'dark';
}

/** A fresh context (own storage, own cookies) and page, at a viewport and colour scheme. */
export async function openPage(
  browser: Browser,
  { width = 1280, height = 820, colorScheme = 'light' }: PageOptions = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { context, page, errors };
}

export const screenshot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(OUTPUT, name), fullPage: true });

/** Whether the page pans sideways: its content wider than its viewport. */
export const scrollsSideways = (page: Page): Promise<boolean> =>
  page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
