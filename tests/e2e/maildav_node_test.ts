/**
 * IMAP, CalDAV and CardDAV triggers in the real process (`main.ts serve`) against the real
 * Dovecot and Radicale: created through the API, their events in /api/events with
 * `source = trigger:<id>`; mail that arrives while the node is down is emitted once after it
 * starts again; a calendar and an address book give created, updated, deleted in order, and
 * a restart emits nothing twice.
 */
import assert from "node:assert/strict";
import {
  apiClient,
  bootstrapAdmin,
  type RouterProcess,
  startRouter,
} from "../helpers/router_process.ts";
import { freshMailbox, imapConfig, mail } from "../helpers/imap.ts";
import { davSettings, freshCollection, vcard, vevent } from "../helpers/dav.ts";
import { needs } from "../helpers/peers.ts";
import { until } from "../helpers/until.ts";

interface Ev {
  id: string;
  source: string;
  headers: Record<string, string>;
  body: string;
}
type Api = ReturnType<typeof apiClient>;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(node: RouterProcess) {
  const api = apiClient(node.url, await bootstrapAdmin(node.url));
  return api;
}

async function route(api: Api, name: string): Promise<string> {
  return (await api("POST", "/api/routes", { name, destinations: [] })).id as string;
}

const events = async (api: Api, routeId: string) =>
  (await api<{ items: Ev[] }>("GET", `/api/events?route_id=${routeId}&limit=500`)).items;

const state = async (api: Api, id: string) =>
  ((await api("GET", `/api/triggers/${id}`)).status as Record<string, unknown>)?.state;

Deno.test({
  name:
    "maildav e2e: IMAP through the node: one event per message, IDLE within 2 s, 20 while down, none twice",
  ...needs("IMAP_HOST", "IMAP_USER"),
  async fn() {
    const box = await freshMailbox("e2e");
    let node = await startRouter({ env: { LEASE_MS: "2000" } });
    const { dir } = node;
    const port = Number(new URL(node.url).port);
    try {
      let api = await connect(node);
      const routeId = await route(api, "mail");
      const t = await api("POST", "/api/triggers", {
        name: "inbox",
        type: "imap",
        route_id: routeId,
        config: imapConfig(box.name, { poll_interval: "10m" }),
      });
      await until(
        "the trigger to idle",
        async () => (await state(api, t.id as string)) === "idle",
        15_000,
      );
      // The password is masked in the answer.
      const shown = (await api("GET", `/api/triggers/${t.id}`)).config as Record<string, unknown>;
      assert.match(String(shown.password), /\*\*\*\*/);
      assert.notEqual(shown.password, imapConfig(box.name).password);

      const t0 = Date.now();
      await box.append(mail({ subject: "through the node", id: "<e2e-1@example.org>" }));
      const [first] = await until("the event", async () => {
        const evs = await events(api, routeId);
        return evs.length ? evs : null;
      }, 5000);
      assert.ok(Date.now() - t0 < 2000, `IDLE took ${Date.now() - t0} ms`);
      assert.equal(first.source, `trigger:${t.id}`);
      assert.equal(first.headers["x-trigger-type"], "imap");
      const body = JSON.parse(first.body);
      assert.equal(body.subject, "through the node");
      assert.equal(body.message_id, "<e2e-1@example.org>");

      await node.kill();
      for (let i = 0; i < 20; i++) await box.append(mail({ subject: `while down ${i}` }));
      node = await startRouter({ dir, port, env: { LEASE_MS: "2000" } });
      api = await connect(node);
      await until(
        "21 events",
        async () => (await events(api, routeId)).length >= 21 || null,
        20_000,
      );
      await wait(1500); // anything emitted twice would show by now
      const evs = await events(api, routeId);
      const uids = evs.map((e) => JSON.parse(e.body).uid);
      assert.equal(evs.length, 21);
      assert.equal(new Set(uids).size, 21);
      const run = await api("POST", `/api/triggers/${t.id}/run`);
      assert.deepEqual([run.emitted, run.duplicates], [0, 0]);

      // A server that cannot be reached: the trigger keeps trying and says why.
      const down = await api("POST", "/api/triggers", {
        name: "down",
        type: "imap",
        route_id: routeId,
        config: imapConfig(box.name, { port: 1 }),
      });
      const shownDown = await until("the failure to show", async () => {
        const st = await api("GET", `/api/triggers/${down.id}`);
        return st.last_error ? st : null;
      }, 10_000);
      assert.match(String(shownDown.last_error), /cannot connect to 127\.0\.0\.1/);
      assert.equal((shownDown.status as Record<string, unknown>).state, "reconnecting");
    } finally {
      await node.kill();
      await box.drop();
    }
  },
});

Deno.test({
  name:
    "maildav e2e: CalDAV and CardDAV through the node: created, updated, deleted; a restart emits nothing twice",
  ...needs("DAV_URL", "DAV_USER", "DAV_PASSWORD"),
  async fn() {
    const cal = await freshCollection("calendar");
    const book = await freshCollection("addressbook");
    let node = await startRouter({ env: { LEASE_MS: "2000" } });
    const { dir } = node;
    const port = Number(new URL(node.url).port);
    const s = davSettings();
    try {
      let api = await connect(node);
      const calRoute = await route(api, "calendar");
      const bookRoute = await route(api, "contacts");
      const dav = (url: string) => ({
        url,
        username: s.username,
        password: s.password,
        interval: "1h",
      });
      const tc = await api("POST", "/api/triggers", {
        name: "cal",
        type: "caldav",
        route_id: calRoute,
        config: { ...dav(s.url), calendar: cal.name },
      });
      const tb = await api("POST", "/api/triggers", {
        name: "book",
        type: "carddav",
        route_id: bookRoute,
        config: dav(book.url),
      });
      // The first scheduled poll takes both collections as they are.
      for (const t of [tc, tb]) {
        await until("the first poll", async () => {
          const st = await api("GET", `/api/triggers/${t.id}`);
          return st.last_run_at && (st.status as Record<string, unknown>).state === "idle"
            ? st
            : null;
        }, 15_000);
      }
      const run = (t: Record<string, unknown>) => api("POST", `/api/triggers/${t.id}/run`);
      await cal.put("e.ics", vevent("e2e-ev", "Planning"));
      await book.put("c.vcf", vcard("e2e-card", "Carol Example"));
      assert.equal((await run(tc)).emitted, 1);
      assert.equal((await run(tb)).emitted, 1);
      await cal.update("e.ics", vevent("e2e-ev", "Planning (moved)"));
      await book.update("c.vcf", vcard("e2e-card", "Carol B. Example"));
      assert.equal((await run(tc)).emitted, 1);
      assert.equal((await run(tb)).emitted, 1);
      await cal.remove("e.ics");
      await book.remove("c.vcf");
      assert.equal((await run(tc)).emitted, 1);
      assert.equal((await run(tb)).emitted, 1);
      assert.equal((await run(tc)).emitted, 0);

      await node.kill("SIGKILL");
      await wait(2500); // the lease of the killed node runs out
      node = await startRouter({ dir, port, env: { LEASE_MS: "2000" } });
      api = await connect(node);
      await until(
        "the triggers to run again",
        async () => (await state(api, tc.id as string)) === "idle",
        15_000,
      );
      assert.deepEqual([(await run(tc)).emitted, (await run(tb)).emitted], [0, 0]);

      for (const [r, what] of [[calRoute, "summary"], [bookRoute, "full_name"]] as const) {
        const evs = (await events(api, r)).reverse();
        const bodies = evs.map((e) => JSON.parse(e.body));
        assert.deepEqual(bodies.map((b) => b.action), ["created", "updated", "deleted"]);
        assert.ok(bodies[0].object[what], JSON.stringify(bodies[0]));
        assert.equal(evs[0].headers["x-dav-action"], "created");
      }
    } finally {
      await node.kill();
      await cal.drop();
      await book.drop();
    }
  },
});
