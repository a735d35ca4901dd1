/**
 * The CalDAV source against the real Radicale (tests/peers/servers/radicale.sh), through the
 * source harness. Each test has a calendar of its own.
 */
import assert from "node:assert/strict";
import { caldavSourceFactory } from "../../../adapters/sources/caldav/source.ts";
import { bodyOf, configIssues, pollOnce } from "../../helpers/source_tests.ts";
import {
  davConfig,
  davSettings,
  vevent,
  withCollection,
  withCollections,
} from "../../helpers/dav.ts";
import { needs } from "../../helpers/peers.ts";

const opts = needs("DAV_URL", "DAV_USER", "DAV_PASSWORD");
const signal = () => new AbortController().signal;

Deno.test(
  "caldav: created, updated, deleted in that order; nothing when nothing changed",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const poll = () => pollOnce(h, caldavSourceFactory, davConfig(cal.url), "trigger_cal");
      assert.equal((await poll()).emitted, 0); // the first poll takes the calendar as it is
      const standup = vevent("standup-1", "Standup", [
        "LOCATION:Room 1",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
        "ORGANIZER;CN=Alice:mailto:alice@example.org",
        "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.org",
        "ATTENDEE:mailto:carol@example.org",
      ]);
      const put = await cal.put("standup.ics", standup);
      assert.equal((await poll()).emitted, 1);
      assert.deepEqual(await poll(), { emitted: 0, duplicates: 0, ids: [] });
      await cal.update("standup.ics", vevent("standup-1", "Standup (moved)", ["LOCATION:Room 2"]));
      assert.equal((await poll()).emitted, 1);
      await cal.remove("standup.ics");
      assert.equal((await poll()).emitted, 1);
      assert.equal((await poll()).emitted, 0);

      const bodies = (await h.events()).map(bodyOf);
      assert.deepEqual(bodies.map((b) => b.action), ["created", "updated", "deleted"]);
      const [created, updated, deleted] = bodies;
      assert.equal(created.href, put.url);
      assert.equal(created.etag, put.etag);
      assert.equal(created.uid, "standup-1");
      assert.equal(created.collection.name, cal.name);
      assert.equal(created.object.type, "vevent");
      assert.equal(created.object.summary, "Standup");
      assert.equal(created.object.start, "2026-12-24T18:00:00.000Z");
      assert.equal(created.object.end, "2026-12-24T20:00:00.000Z");
      assert.equal(created.object.location, "Room 1");
      assert.equal(created.object.rrule, "FREQ=WEEKLY;BYDAY=MO,WE");
      assert.deepEqual(created.object.organizer, { email: "alice@example.org", name: "Alice" });
      assert.deepEqual(created.object.attendees, [
        { email: "bob@example.org", name: "Bob", role: "req-participant", partstat: "accepted" },
        { email: "carol@example.org", name: null },
      ]);
      assert.match(created.raw, /^BEGIN:VCALENDAR\r\n[\s\S]*SUMMARY:Standup\r\n/);
      assert.equal(created.parse_error, undefined);
      assert.equal(updated.object.summary, "Standup (moved)");
      assert.notEqual(updated.etag, created.etag);
      assert.equal(deleted.href, put.url);
      assert.equal(deleted.object, null);
      assert.equal(deleted.raw, null);
      const [e] = await h.events();
      assert.equal(e.headers["x-dav-action"], "created");
      assert.equal(e.headers["x-dav-href"], put.url);
      assert.equal(e.headers["x-trigger-type"], "caldav");
    }),
);

Deno.test(
  "caldav: a restart emits nothing twice; a failure before the cursor re-emits duplicates",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const cfg = davConfig(cal.url);
      await pollOnce(h, caldavSourceFactory, cfg, "trigger_restart");
      await cal.put("a.ics", vevent("a", "A"));
      await cal.put("b.ics", vevent("b", "B"));
      // The cursor write after the commit fails once, as a crash there would.
      const ctx = h.context("trigger_restart", "caldav");
      const set = ctx.cursor.set;
      let fail = true;
      ctx.cursor.set = (v) => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error("crash before the cursor moved"));
        }
        return set(v);
      };
      const source = caldavSourceFactory.create(caldavSourceFactory.parseConfig(cfg), ctx);
      await assert.rejects(source.poll!(signal()), /crash before/);
      assert.equal((await h.events()).length, 2);
      const again = await source.poll!(signal());
      assert.deepEqual([again.emitted, again.duplicates], [0, 2]);
      // A new instance (a restarted node) with the saved cursor: nothing.
      const restarted = await pollOnce(h, caldavSourceFactory, cfg, "trigger_restart");
      assert.deepEqual([restarted.emitted, restarted.duplicates], [0, 0]);
      assert.equal((await h.events()).length, 2);
    }),
);

Deno.test(
  "caldav: an invalid sync token falls back to comparing ETags, emitting only real changes",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const cfg = davConfig(cal.url);
      const poll = () => pollOnce(h, caldavSourceFactory, cfg, "trigger_token");
      for (const n of ["a", "b", "c"]) await cal.put(`${n}.ics`, vevent(n, n));
      await poll();
      const saved = JSON.parse(h.cursors.get("trigger_token")!);
      const state = saved.collections[cal.url];
      assert.match(state.token, /^http:\/\/radicale\.org\/ns\/sync\//);
      assert.deepEqual(Object.keys(state.etags).sort(), ["a.ics", "b.ics", "c.ics"]);
      // The token expires (here: a token Radicale never issued), while b changes and c goes.
      state.token =
        "http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000";
      h.cursors.set("trigger_token", JSON.stringify(saved));
      await cal.update("b.ics", vevent("b", "b changed"));
      await cal.remove("c.ics");
      await cal.put("d.ics", vevent("d", "d"));
      const r = await poll();
      assert.equal(r.emitted, 3);
      const got = (await h.events()).map(bodyOf).map((b) =>
        `${b.action} ${b.href.split("/").pop()}`
      );
      assert.deepEqual(got.sort(), ["created d.ics", "deleted c.ics", "updated b.ics"]);
      // And the fresh token is in use again.
      const after = JSON.parse(h.cursors.get("trigger_token")!).collections[cal.url];
      assert.notEqual(after.token, state.token);
      assert.equal((await poll()).emitted, 0);
    }),
);

Deno.test(
  "caldav: ETag comparison without sync (sync: etag) finds the same changes",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const cfg = davConfig(cal.url, { sync: "etag", emit_existing: true });
      const poll = () => pollOnce(h, caldavSourceFactory, cfg, "trigger_etag");
      await cal.put("x.ics", vevent("x", "X"));
      assert.equal((await poll()).emitted, 1);
      await cal.update("x.ics", vevent("x", "X2"));
      await cal.put("y.ics", vevent("y", "Y"));
      assert.equal((await poll()).emitted, 2);
      await cal.remove("x.ics");
      assert.equal((await poll()).emitted, 1);
      assert.equal((await poll()).emitted, 0);
      const got = (await h.events()).map(bodyOf).map((b) =>
        `${b.action} ${b.uid ?? b.href.split("/").pop()}`
      );
      assert.deepEqual(got.slice(0, 1), ["created x"]);
      assert.deepEqual(got.slice(1, 3).sort(), ["created y", "updated x"]);
      assert.deepEqual(got.slice(3), ["deleted x.ics"]);
      assert.equal(JSON.parse(h.cursors.get("trigger_etag")!).collections[cal.url].token, null);
    }),
);

Deno.test(
  "caldav: the server root with a calendar name discovers that calendar only",
  opts,
  () =>
    withCollections("calendar", 2, async (h, [cal, other]) => {
      const root = davSettings().url;
      await cal.put("mine.ics", vevent("mine", "Mine"));
      await other.put("theirs.ics", vevent("theirs", "Theirs"));
      const cfg = davConfig(root, { calendar: cal.name, emit_existing: true });
      const r = await pollOnce(h, caldavSourceFactory, cfg, "trigger_disc");
      assert.equal(r.emitted, 1);
      assert.equal(bodyOf((await h.events())[0]).uid, "mine");
      // By href as well.
      const byHref = davConfig(root, {
        calendar: new URL(other.url).pathname,
        emit_existing: true,
      });
      const r2 = await pollOnce(h, caldavSourceFactory, byHref, "trigger_disc2");
      assert.equal(r2.emitted, 1);
      // A name that is not there is the trigger's error, naming what was found.
      const { source } = h.create(
        caldavSourceFactory,
        davConfig(root, { calendar: "No such" }),
        "trigger_x",
      );
      await assert.rejects(source.poll!(signal()), /no calendar named "No such" \(found: .*Cal /);
      assert.equal(h.statuses.get("trigger_x")?.state, "error");
    }),
);

Deno.test(
  "caldav: a calendar deleted on the server",
  opts,
  () =>
    withCollections("calendar", 2, async (h, [keep, tmp]) => {
      await keep.put("k.ics", vevent("k", "K"));
      await tmp.put("t.ics", vevent("t", "T"));
      // A trigger on the whole account sees the calendar go, and its object with it.
      const account = () =>
        pollOnce(h, caldavSourceFactory, davConfig(davSettings().url), "trigger_acc");
      const direct = h.create(caldavSourceFactory, davConfig(tmp.url), "trigger_direct").source;
      const named = h.create(
        caldavSourceFactory,
        davConfig(davSettings().url, { calendar: tmp.name }),
        "trigger_named",
      ).source;
      await account();
      await direct.poll!(signal());
      await named.poll!(signal());
      await tmp.drop();
      const r = await account();
      assert.equal(r.emitted, 1);
      const [gone] = (await h.events()).map(bodyOf);
      assert.equal(gone.action, "deleted");
      assert.equal(gone.href, tmp.url + "t.ics");
      // A trigger on that calendar (by URL or by name) reports it missing instead of
      // watching anything else.
      await assert.rejects(direct.poll!(signal()), /answered 404/);
      await assert.rejects(named.poll!(signal()), /no calendar named/);
      assert.equal((await h.events()).length, 1);
    }),
);

Deno.test(
  "caldav: an object the parser cannot read is an event with parse_error",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const cfg = davConfig(cal.url, { emit_existing: true });
      // Radicale stores this (it checks less than ical.js reads): COMPLETED is no date.
      await cal.put("bad.ics", vevent("bad", "Bad", ["COMPLETED:never"]));
      await cal.put("good.ics", vevent("good", "Good"));
      const r = await pollOnce(h, caldavSourceFactory, cfg, "trigger_bad");
      assert.equal(r.emitted, 2);
      const byUid = Object.fromEntries((await h.events()).map(bodyOf).map((b) => [b.uid, b]));
      assert.match(
        byUid.bad.parse_error,
        /cannot read iCalendar: VEVENT COMPLETED: invalid date-time/,
      );
      assert.equal(byUid.bad.object.summary, "Bad"); // the rest is still read
      assert.match(byUid.bad.raw, /COMPLETED:never/);
      assert.equal(byUid.good.parse_error, undefined);
    }),
);

Deno.test(
  "caldav: wrong credentials are the trigger's error",
  opts,
  () =>
    withCollection("calendar", async (h, cal) => {
      const { source } = h.create(
        caldavSourceFactory,
        davConfig(cal.url, { password: "wrong" }),
        "trigger_pw",
      );
      await assert.rejects(source.poll!(signal()), /401/);
      assert.match(String(h.statuses.get("trigger_pw")?.last_error), /401/);
      assert.ok(source.nextRunAt!(1000, 1000)! > 1000 + 5 * 60_000, "backs off after a failure");
    }),
);

Deno.test("caldav: config errors name the field", () => {
  const issues = (c: unknown) => configIssues(caldavSourceFactory, c);
  assert.match(issues({ url: "ftp://x" }), /url/);
  assert.match(
    issues({ url: "https://dav.example.org/", password: "p" }),
    /password needs a username/,
  );
  assert.match(
    issues({ url: "https://dav.example.org/", interval: "1s" }),
    /must be from 10s to 1d \(got 1s\).*interval/,
  );
  assert.match(issues({ url: "https://dav.example.org/", addressbook: "x" }), /addressbook/);
  assert.match(
    issues({ url: "https://dav.example.org/", token: "t", password: "p", username: "u" }),
    /at most one/,
  );
  assert.equal(
    issues({ url: "https://dav.example.org/", username: "u", password: "p", calendar: "Work" }),
    "",
  );
});
