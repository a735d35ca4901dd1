/**
 * The journal's durable accept over the real file journal and the real SQLite store: the accept
 * resolves after the fsync, the import follows (leased deliveries for the handoff), reads can
 * wait for it, a store failure keeps the records and retries, and a restart imports what the
 * last run left, once.
 */
import assert from "node:assert/strict";
import { createJournalAccept, type Handoff } from "../../../core/ingress/journal_accept.ts";
import { openFileJournal } from "../../../adapters/journal/file_journal.ts";
import { openStore } from "../../../adapters/store/sqlite/store.ts";
import { newId } from "../../../core/model/ids.ts";
import type { Envelope, Logger, NewDelivery } from "../../../core/ports.ts";
import type { Store } from "../../../core/store.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const metrics = { inc() {}, observe() {}, render: () => Promise.resolve("") };
const ADMIN = { userId: "user_root", role: "admin" as const };
const clock = { now: () => Date.now() };

function event(deliveries = 1): Envelope {
  const id = newId("evt");
  const body = new TextEncoder().encode(`{"id":"${id}"}`);
  const ds: NewDelivery[] = Array.from({ length: deliveries }, (_, i) => ({
    id: newId("dlv"),
    eventId: id,
    tenant: "user_t",
    routeId: "route_1",
    destinationId: `dest_${i}`,
    body,
    headers: { "x-event-id": id },
    nextAt: Date.now(),
  }));
  return {
    id,
    tenant: "user_t",
    routeId: "route_1",
    source: "webhook",
    receivedAt: Date.now(),
    method: "POST",
    path: "/webhook/wh_j",
    query: "",
    ip: "127.0.0.1",
    headers: { "content-type": "application/json" },
    body,
    dedupKey: null,
    planned: { status: "processed", deliveries: ds },
  };
}

async function world(dir: string, store: Store, handoff?: Handoff) {
  const journal = await openFileJournal({ dir: `${dir}/journal` });
  const imported: string[] = [];
  const ja = createJournalAccept({
    journal,
    store,
    clock,
    log: silent,
    metrics,
    owner: "node-j",
    leaseMs: 60_000,
    handoff,
    onImported: (events) => imported.push(...events.map((e) => e.id)),
  });
  return { journal, ja, imported };
}

Deno.test("journal accept: durable at once, imported after, handed deliveries leased to the node", async () => {
  const dir = await Deno.makeTempDir({ prefix: "journal-accept-" });
  const store = openStore({ path: `${dir}/db.sqlite` });
  await store.migrate();
  const offers: { ids: string[]; imported: Promise<boolean> }[] = [];
  const handoff: Handoff = {
    offer(ds, _until, imported) {
      const ids = ds.slice(0, 1).map((d) => d.id); // takes one per offer
      offers.push({ ids, imported });
      return ids;
    },
  };
  const w = await world(dir, store, handoff);
  try {
    const events = [event(2), event(2), event(2)];
    await Promise.all(events.map((e) => w.ja.accept([e])));
    await w.ja.imported();
    for (const e of events) assert.ok(await store.getEvent(ADMIN, e.id), `${e.id} imported`);
    assert.deepEqual(new Set(w.imported), new Set(events.map((e) => e.id)));
    assert.ok(offers.length >= 1);
    assert.ok((await Promise.all(offers.map((o) => o.imported))).every(Boolean));
    const handed = new Set(offers.flatMap((o) => o.ids));
    // handed ones are leased to the node: only the others can be claimed
    const claimed = await store.claimDue(Date.now() + 1000, 100, "someone-else", 1000);
    const all = events.flatMap((e) => e.planned!.deliveries.map((d) => d.id));
    assert.deepEqual(
      new Set(claimed.map((d) => d.id)),
      new Set(all.filter((id) => !handed.has(id))),
    );
    assert.equal(w.journal.pendingBytes(), 0, "imported records are released");
  } finally {
    await w.journal.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("journal accept: a failing store keeps the records and retries; a restart imports once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "journal-accept-" });
  const store = openStore({ path: `${dir}/db.sqlite` });
  await store.migrate();
  let failing = true;
  const flaky: Store = Object.assign(Object.create(store), {
    accept: (events: Envelope[], opts: unknown) =>
      failing ? Promise.reject(new Error("disk I/O error")) : store.accept(events, opts as never),
  });
  const w = await world(dir, flaky);
  const e1 = event(), e2 = event();
  try {
    await w.ja.accept([e1]); // acknowledged: in the journal although the store refuses it
    await w.ja.accept([e2]);
    assert.ok(w.journal.pendingBytes() > 0);
    assert.equal(await store.getEvent(ADMIN, e1.id), null);
    failing = false;
    await w.ja.imported(3000); // the retry gets it in
    assert.ok(await store.getEvent(ADMIN, e1.id));
    assert.ok(await store.getEvent(ADMIN, e2.id));
    assert.equal(w.journal.pendingBytes(), 0);
  } finally {
    await w.journal.close();
  }
  // a run that died with records unimported: the next start imports them, and only once
  failing = true;
  const crashed = await world(dir, flaky);
  const e3 = event();
  await crashed.ja.accept([e3]);
  await crashed.journal.close(); // keeps the unreleased record, like a crash
  failing = false;
  const next = await world(dir, store);
  try {
    assert.equal(await next.ja.recover(), 1);
    assert.ok(await store.getEvent(ADMIN, e3.id));
    assert.equal((await store.eventDeliveries(e3.id)).length, 1);
    assert.equal(await next.ja.recover(), 0, "recovered once");
  } finally {
    await next.journal.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
