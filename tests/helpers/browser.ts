/// <reference lib="dom" />
/**
 * Debian's chromium driven by playwright-core, for the browser tests. Every page the tests open
 * is watched: a request to a host other than loopback, a console error or an uncaught page
 * error is recorded, and `assertClean()` fails on any of them. Chromium also logs every 4xx
 * answer as a console error; a test that provokes one on purpose (a wrong password, a refused
 * form) names it, as "401 /ui/sign-in", and any other fails the same way.
 */
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { mustPeer } from "./peers.ts";

export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  /** Requests that left for a host that is not loopback. */
  offHost: string[];
  /** Console errors and uncaught page errors, with the page's URL. */
  errors: string[];
  /** 4xx answers Chromium reported, as "<status> <path>". */
  refused: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Fails on any off-host request, console error, or 4xx not in `expected`; then resets. */
  assertClean(expected?: string[]): void;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

export async function launch(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "event-router-chromium-" });
  // A persistent context on a fresh folder: the browser's own --user-data-dir, new each run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: mustPeer("CHROMIUM_PATH"),
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const offHost: string[] = [];
  const errors: string[] = [];
  const refused: string[] = [];
  context.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol === "data:" || u.protocol === "blob:" || u.protocol === "about:") return;
    if (!LOOPBACK.test(u.hostname)) offHost.push(r.url());
  });
  const watch = (p: Page) => {
    p.on("console", (m) => {
      if (m.type() !== "error") return;
      const status = m.text().match(/^Failed to load resource: .* status of (4\d\d)/)?.[1];
      if (status) refused.push(`${status} ${new URL(m.location().url).pathname}`);
      else errors.push(`${p.url()}: console: ${m.text()}`);
    });
    p.on("pageerror", (e) => errors.push(`${p.url()}: uncaught: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  return {
    context,
    offHost,
    errors,
    refused,
    async newPage(viewport) {
      const p = await context.newPage();
      if (viewport) await p.setViewportSize(viewport);
      return p;
    },
    assertClean(expected = []) {
      assert.deepEqual(offHost, [], "every request stays on loopback");
      assert.deepEqual(errors, [], "no console errors");
      assert.deepEqual(refused.sort(), [...expected].sort(), "only the 4xx the test provoked");
      refused.length = 0;
    },
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** True when the page is wider than its viewport (it would scroll sideways). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return await page.evaluate(() =>
    document.documentElement.scrollWidth > document.documentElement.clientWidth + 1
  );
}
