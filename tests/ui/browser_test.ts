/// <reference lib="dom" />
/**
 * The admin pages in a real browser (Debian's chromium through playwright-core), against the
 * real router process: sign in as admin/admin, change the password, create a destination and
 * a route through the forms, send webhooks, follow them on the dashboard, the events page and
 * the live tail, make the destination fail and retry the dead letter from the Dead letters
 * page. Elements are found by role and label, as a person would. Every step asserts that no
 * request left for a non-loopback host and that the console stayed free of errors; every page
 * is photographed at 1280x800 and 375 px wide and must not scroll sideways; the JavaScript each
 * page loads is weighed (gzipped).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launch, scrollsSideways } from "../helpers/browser.ts";
import { needs } from "../helpers/peers.ts";
import { startRouter } from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";

const SHOTS = Deno.env.get("SCREENSHOTS_DIR") ??
  new URL("./.screenshots/", import.meta.url).pathname;
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };
const PASSWORD = "browser-test-password-1";
const JS_BUDGET = 60 * 1024;

const json = { "content-type": "application/json" };

async function until<T>(
  what: string,
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  ms = 15_000,
  onFail?: (what: string) => Promise<void>,
) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => null);
    if (v) return v;
    if (Date.now() > end) {
      await onFail?.(what);
      throw new Error(`gave up waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name:
    "admin pages in a real browser: sign in, forms, webhook, dashboard, events, dead letters, live tail",
  ...needs("CHROMIUM_PATH"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await Deno.mkdir(SHOTS, { recursive: true });
    const sink = await startSink();
    const router = await startRouter({ env: { LOG_LEVEL: "error" } });
    const browser = await launch();
    const weights: Record<string, { scripts: string[]; gzip_bytes: number }> = {};
    const base = router.url;
    const page = await browser.newPage(WIDE);

    /** Both widths: a screenshot each, no sideways scrolling, and the page's JS weighed. */
    const capture = async (p: Page, name: string) => {
      await p.screenshot({ path: `${SHOTS}/${name}-1280.png` });
      assert.equal(await scrollsSideways(p), false, `${name} scrolls sideways at 1280 px`);
      await p.setViewportSize(PHONE);
      await p.waitForTimeout(50);
      assert.equal(await scrollsSideways(p), false, `${name} scrolls sideways at 375 px`);
      await p.screenshot({ path: `${SHOTS}/${name}-375.png` });
      await p.setViewportSize(WIDE);
      const scripts = await p.$$eval(
        "script[src]",
        (ss) => ss.map((s) => (s as HTMLScriptElement).src),
      );
      let gz = 0;
      for (const s of scripts) {
        const r = await fetch(s, { headers: { "accept-encoding": "gzip" } });
        await r.body?.cancel();
        assert.equal(r.headers.get("content-encoding"), "gzip", `${s} is served gzipped`);
        // Deno's fetch unzips the body; the length on the wire is the header's.
        gz += Number(r.headers.get("content-length"));
      }
      weights[name] = { scripts: scripts.map((s) => new URL(s).pathname), gzip_bytes: gz };
    };

    let routeUrl = "";
    const send = (body: string) => fetch(routeUrl, { method: "POST", headers: json, body });
    const debug = async (what: string) => {
      await page.screenshot({ path: `${SHOTS}/failed-${what.replace(/\W+/g, "-")}.png` }).catch(
        () => {},
      );
    };
    try {
      await t.step("sign in as admin/admin and change the password", async () => {
        await page.goto(`${base}/`);
        await page.getByRole("heading", { name: "Sign in" }).waitFor();
        await capture(page, "sign-in");
        await page.getByLabel("Username").fill("admin");
        await page.getByLabel("Password").fill("wrong-password");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("alert").filter({ hasText: "invalid username or password" }).waitFor();
        await page.getByLabel("Password").fill("admin");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("heading", { name: "Change password" }).waitFor();
        await capture(page, "change-password");
        await page.getByLabel("Current password").fill("admin");
        await page.getByLabel("New password").fill(PASSWORD);
        await page.getByRole("button", { name: "Change password" }).click();
        await page.getByRole("heading", { name: "Dashboard" }).waitFor();
        const cookies = await browser.context.cookies(base);
        const session = cookies.find((c) => c.name === "er_session");
        assert.ok(session, "the session is a cookie");
        assert.equal(session.httpOnly, true);
        assert.equal(session.sameSite, "Strict");
        assert.equal(
          await page.evaluate(() => document.cookie.includes("er_session") || localStorage.length),
          0,
          "page scripts see no token",
        );
        for (
          const name of [
            "Dashboard",
            "Routes",
            "Destinations",
            "Triggers",
            "Events",
            "Dead letters",
            "Live tail",
            "Users",
            "Settings",
          ]
        ) {
          await page.getByRole("navigation", { name: "Main" }).getByRole("link", {
            name,
            exact: true,
          }).waitFor();
        }
        browser.assertClean(["401 /ui/sign-in"]);
      });

      await t.step("create a destination and a route through the forms", async () => {
        await page.getByRole("link", { name: "Destinations", exact: true }).click();
        await page.getByRole("link", { name: "New destination" }).click();
        await page.getByLabel("Name", { exact: true }).fill("orders-out");
        await page.getByLabel("Type").selectOption("http");
        // A config the API refuses: its message shows next to the field
        await page.getByLabel("Config").fill('{"url": "not a url"}');
        await page.getByRole("button", { name: "Create destination" }).click();
        await page.locator("#dest-config-error").filter({ hasText: "config.url" }).waitFor();
        await page.getByLabel("Config").fill("{not json");
        await page.locator("#dest-config-error").filter({ hasText: "not valid JSON" }).waitFor();
        await capture(page, "destination-new");
        await page.getByLabel("Config").fill(JSON.stringify({ url: `${sink.url}/hook` }));
        await page.getByRole("button", { name: "Create destination" }).click();
        await page.getByRole("heading", { name: "Destination orders-out" }).waitFor();
        await capture(page, "destination");

        await page.getByRole("link", { name: "Routes", exact: true }).click();
        await page.getByRole("link", { name: "New route" }).click();
        await page.getByLabel("Name", { exact: true }).fill("orders");
        await page.getByLabel("orders-out (http)").check();
        await page.getByLabel("Pipeline").fill('[{"type": "nonsense"}]');
        await page.getByRole("button", { name: "Create route" }).click();
        await page.locator("#route-pipeline-error").waitFor();
        await capture(page, "route-new");
        await page.getByLabel("Pipeline").fill(
          JSON.stringify([{ type: "transform", expression: '$merge([$, {"seen": true}])' }]),
        );
        await page.getByRole("button", { name: "Create route" }).click();
        await page.getByRole("heading", { name: "Route orders" }).waitFor();
        routeUrl = (await page.locator(".endpoint code").first().textContent()) ?? "";
        assert.match(routeUrl, /^http:\/\/127\.0\.0\.1:\d+\/webhook\/wh_/);
        await page.getByRole("button", { name: "Copy URL" }).click();

        // the Test panel runs the dry run and shows each stage's output
        await page.getByLabel("Sample body").fill('{"order_id": 7}');
        await page.getByRole("button", { name: "Run test" }).click();
        const result = page.getByRole("region", { name: "Test result" });
        await result.getByText("Outcome:").waitFor();
        assert.match(await result.textContent() ?? "", /deliver/);
        assert.match(await result.locator("pre").first().textContent() ?? "", /"seen": true/);
        await capture(page, "route");
        await page.getByRole("link", { name: "Routes", exact: true }).click();
        await page.getByRole("cell", { name: "orders" }).first().waitFor();
        await capture(page, "routes");
        await page.getByRole("link", { name: "Destinations", exact: true }).click();
        await capture(page, "destinations");
        browser.assertClean(["400 /api/destinations", "400 /api/routes"]);
      });

      let firstEvent = "";
      await t.step(
        "a webhook shows on the dashboard and the events page with its attempt",
        async () => {
          const r = await fetch(routeUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ order_id: 42, total: 19.99 }),
          });
          assert.equal(r.status, 202);
          firstEvent = (await r.json()).id;
          await until("the delivery", () => sink.events.size > 0);
          await page.getByRole("link", { name: "Dashboard", exact: true }).click();
          const count = (label: string) =>
            page.locator(".count", { hasText: label }).locator("dd").textContent();
          await until(
            "the dashboard to count it",
            async () => {
              await page.reload();
              return /^1(?!\d)/.test(await count("Received") ?? "") &&
                /^1(?!\d)/.test(await count("Delivered") ?? "");
            },
            15_000,
            debug,
          );
          await page.getByRole("img", { name: /1 received, 1 delivered, 0 dead/ }).waitFor();
          await capture(page, "dashboard");

          await page.getByRole("link", { name: "Events", exact: true }).click();
          await page.getByRole("link", { name: firstEvent }).click();
          await page.getByRole("heading", { name: `Event ${firstEvent}` }).waitFor();
          await page.getByText("Attempt 1: delivered").waitFor();
          await page.getByText('"order_id": 42').waitFor();
          await capture(page, "event");
          await page.getByRole("link", { name: "Events", exact: true }).click();
          await page.getByLabel("Status").selectOption("processed");
          await page.getByRole("button", { name: "Search" }).click();
          await page.getByRole("link", { name: firstEvent }).waitFor();
          await capture(page, "events");
          browser.assertClean();
        },
      );

      await t.step(
        "a failing destination's dead letter is retried from the Dead letters page",
        async () => {
          sink.respond = () => 400; // permanent: dead at once
          const r = await send('{"order_id": 43}');
          assert.equal(r.status, 202);
          const id = (await r.json()).id as string;
          await page.getByRole("link", { name: "Dead letters", exact: true }).click();
          await until(
            "the dead letter",
            async () => {
              await page.reload();
              return await page.getByRole("link", { name: id }).count() > 0;
            },
            15_000,
            debug,
          );
          await page.getByRole("heading", { name: /http: 400/ }).waitFor();
          await capture(page, "dead-letters");
          sink.respond = () => 200;
          const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: id }) });
          await row.getByRole("button", { name: "Retry" }).click();
          await row.getByRole("status").filter({ hasText: "Retrying" }).waitFor();
          await until("the retried delivery", () => (sink.events.get(id) ?? 0) > 0);
          await page.goto(`${base}/ui/events/${id}`);
          await page.getByText("Attempt 1: dead").waitFor();
          await page.getByText("Attempt 2: delivered").waitFor();

          // a group action asks first
          sink.respond = () => 400;
          const r2 = await send('{"order_id": 44}');
          const id2 = (await r2.json()).id as string;
          await page.goto(`${base}/ui/dead-letters`);
          await until(
            "the second dead letter",
            async () => {
              await page.reload();
              return await page.getByRole("link", { name: id2 }).count() > 0;
            },
            15_000,
            debug,
          );
          await page.getByRole("button", { name: "Discard group" }).click();
          const confirm = page.getByRole("group", { name: "Confirmation" });
          assert.match(
            await confirm.textContent() ?? "",
            /Discard all 1 dead letter with this error\?/,
          );
          await confirm.getByRole("button", { name: "Confirm" }).click();
          await page.getByRole("status").filter({ hasText: "Discarded" }).waitFor();
          await page.reload();
          await page.getByText("Nothing is dead").waitFor();
          sink.respond = () => 200;
          browser.assertClean();
        },
      );

      await t.step("a new event appears in the live tail", async () => {
        await page.getByRole("link", { name: "Live tail", exact: true }).click();
        await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
        const r = await send('{"order_id": 45, "tail": true}');
        const id = (await r.json()).id as string;
        const list = page.getByRole("list", { name: "New events" });
        await list.getByRole("link", { name: id }).waitFor({ timeout: 10_000 });
        assert.match(await list.textContent() ?? "", /"tail": true/);
        await capture(page, "live-tail");
        browser.assertClean();
      });

      await t.step(
        "a trigger through the form: its config checked, run now, its health shown",
        async () => {
          await page.getByRole("link", { name: "Triggers", exact: true }).click();
          await page.getByRole("link", { name: "New trigger" }).click();
          await page.getByLabel("Name", { exact: true }).fill("nightly");
          await page.getByLabel("Type").selectOption("schedule");
          await page.getByLabel("Route").selectOption({ label: "orders" });
          await page.getByLabel("Config").fill('{"cron": "every night"}');
          await page.getByRole("button", { name: "Create trigger" }).click();
          await page.locator("#trigger-config-error").filter({ hasText: "cron" }).waitFor();
          await capture(page, "trigger-new");
          await page.getByLabel("Config").fill(
            JSON.stringify({ cron: "0 3 * * *", payload: { from: "schedule" } }),
          );
          await page.getByRole("button", { name: "Create trigger" }).click();
          await page.getByRole("heading", { name: "Trigger nightly" }).waitFor();
          await page.getByRole("button", { name: "Run now" }).click();
          await page.getByRole("status").filter({ hasText: /Ran: 1 new/ }).waitFor();
          await page.reload();
          await capture(page, "trigger");
          await page.getByRole("link", { name: "Triggers", exact: true }).click();
          const row = page.getByRole("row").filter({
            has: page.getByRole("link", { name: "nightly" }),
          });
          assert.match(await row.textContent() ?? "", /orders/);
          await capture(page, "triggers");
          await page.getByRole("link", { name: "Dashboard", exact: true }).click();
          await page.getByRole("region", { name: "Triggers" }).getByRole("link", {
            name: "nightly",
          })
            .waitFor();
          browser.assertClean(["400 /api/triggers"]);
        },
      );

      await t.step(
        "users and settings (admin); a user sees only its own and no admin pages",
        async () => {
          await page.getByRole("link", { name: "Users", exact: true }).click();
          await page.getByLabel("Username").fill("alice");
          await page.getByLabel("Password").fill("short");
          await page.getByRole("button", { name: "Create user" }).click();
          await page.locator("#user-password-error").filter({ hasText: "8 characters" }).waitFor();
          await page.getByLabel("Password").fill("alice-password-1");
          await page.getByRole("button", { name: "Create user" }).click();
          await page.getByRole("cell", { name: "alice" }).waitFor();
          await capture(page, "users");
          await page.getByRole("link", { name: "Settings", exact: true }).click();
          await page.getByLabel("Retention days").fill("3");
          await page.getByLabel("Allowed networks").fill("not-a-cidr");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.locator("#set-cidrs-error").waitFor();
          await page.getByLabel("Allowed networks").fill("10.1.0.0/16");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.getByRole("status").filter({ hasText: "Settings saved" }).waitFor();
          // broker defaults: checked like any setting, the password sealed and shown masked
          await page.getByLabel("Default RabbitMQ URL").fill("http://mq.example.com");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.locator("#set-rabbitmq-error").filter({ hasText: "amqp://" }).waitFor();
          await page.getByLabel("Default RabbitMQ URL").fill("amqp://u:mq-pass-9@mq.example.com/");
          await page.getByLabel("Default body limit (bytes)").fill("65536");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.getByRole("status").filter({ hasText: "Settings saved" }).waitFor();
          await page.reload();
          assert.match(await page.getByLabel("Default RabbitMQ URL").inputValue(), /^\*{4}/);
          assert.equal(await page.getByLabel("Default body limit (bytes)").inputValue(), "65536");
          await capture(page, "settings");
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.getByRole("heading", { name: "Sign in" }).waitFor();

          await page.getByLabel("Username").fill("alice");
          await page.getByLabel("Password").fill("alice-password-1");
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.getByRole("heading", { name: "Dashboard" }).waitFor();
          const nav = page.getByRole("navigation", { name: "Main" });
          assert.equal(await nav.getByRole("link", { name: "Users" }).count(), 0);
          assert.equal(await nav.getByRole("link", { name: "Settings" }).count(), 0);
          await page.getByRole("link", { name: "Routes", exact: true }).click();
          await page.getByText("No routes yet").waitFor();
          await page.goto(`${base}/ui/users`);
          await page.getByRole("heading", { name: "Not allowed" }).waitFor();
          browser.assertClean([
            "400 /api/users",
            "400 /api/settings",
            "400 /api/settings",
            "403 /ui/users",
          ]);
        },
      );

      await t.step("/docs renders its operation list offline", async () => {
        await page.goto(`${base}/docs`);
        await page.getByText("/api/routes/{id}/test").first().waitFor({ timeout: 20_000 });
        await page.getByText("Event Router API").first().waitFor();
        await capture(page, "docs");
        browser.assertClean();
      });
    } finally {
      await browser.close();
      await router.kill();
      await sink.stop();
      await Deno.writeTextFile(`${SHOTS}/js-weight.json`, JSON.stringify(weights, null, 2) + "\n");
    }

    console.log("JavaScript per page (gzipped bytes):");
    for (const [name, w] of Object.entries(weights)) {
      console.log(
        `  ${name.padEnd(18)} ${String(w.gzip_bytes).padStart(8)}  ${w.scripts.join(" ")}`,
      );
      if (name !== "docs") {
        assert.ok(w.gzip_bytes < JS_BUDGET, `${name} loads ${w.gzip_bytes} bytes of JS (gzip)`);
      }
    }
  },
});
