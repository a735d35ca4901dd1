/**
 * The IMAP source against the real Dovecot (tests/peers/servers/dovecot.sh), through the
 * source harness (a real store; the cursor survives a "restart" of the source). Each test
 * has a mailbox of its own.
 */
import assert from "node:assert/strict";
import { imapSourceFactory } from "../../../adapters/sources/imap/source.ts";
import { type SourceHarness, sourceHarness } from "../../helpers/source_harness.ts";
import { bodyOf, configIssues, pollOnce } from "../../helpers/source_tests.ts";
import {
  appendTo,
  dovecotInstance,
  imapConfig,
  mail,
  type TestMailbox,
  withDovecot,
  withMailbox,
} from "../../helpers/imap.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { until } from "../../helpers/until.ts";
import type { StoredEvent } from "../../../core/store.ts";

const opts = {
  ...needs("IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_PASSWORD"),
  sanitizeResources: false,
  sanitizeOps: false,
};
const dec = new TextDecoder();

function running(h: SourceHarness, config: unknown, id: string) {
  const { source } = h.create(imapSourceFactory, config, id);
  const ctl = new AbortController();
  const done = source.start!(ctl.signal);
  return {
    source,
    state: () => h.statuses.get(id)?.state,
    status: () => h.statuses.get(id) ?? {},
    async stop() {
      ctl.abort();
      await done;
    },
  };
}

const signal = () => new AbortController().signal;

/** Runs `fn` while the source for trigger `id` runs, and stops it afterwards, also on failure. */
async function whileRunning(
  h: SourceHarness,
  config: unknown,
  id: string,
  fn: (live: ReturnType<typeof running>) => Promise<void>,
) {
  const live = running(h, config, id);
  try {
    await fn(live);
  } finally {
    await live.stop();
  }
}

/** Waits until the harness holds events (those `keep` accepts) and answers them. */
const eventsSoon = (h: SourceHarness, ms = 10_000, keep = (_: StoredEvent) => true) =>
  until("an event", async () => {
    const ev = (await h.events()).filter(keep);
    return ev.length ? ev : null;
  }, ms);

/** A source on `box` that emitted one message (`subject`) and stopped: its cursor is saved. */
async function emittedOneThenStopped(
  h: SourceHarness,
  box: TestMailbox,
  config: unknown,
  id: string,
  subject: string,
) {
  const live = running(h, config, id);
  await until("the source to idle", () => live.state() === "idle");
  await box.append(mail({ subject }));
  await until("the first event", async () => (await h.events()).length === 1);
  await live.stop();
}

Deno.test(
  "imap: an appended message becomes one event with the parsed fields",
  opts,
  () =>
    withMailbox(async (h, box) => {
      await whileRunning(
        h,
        imapConfig(box.name, { include_body: ["text", "html"] }),
        "trigger_imap1",
        async (live) => {
          await until("the source to idle", () => live.state() === "idle");
          const raw = [
            'From: "Alice Example" <alice@example.org>',
            "To: Bob <bob@example.org>, carol@example.org",
            "Cc: Dave <dave@example.org>",
            "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Alice",
            "Message-ID: <first-1@example.org>",
            "Date: Tue, 01 Dec 2026 10:00:00 +0000",
            "X-Custom: one",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="b1"',
            "",
            "--b1",
            'Content-Type: multipart/alternative; boundary="b2"',
            "",
            "--b2",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Hello Bob",
            "--b2",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Hello <b>Bob</b></p>",
            "--b2--",
            "--b1",
            'Content-Type: application/pdf; name="report.pdf"',
            'Content-Disposition: attachment; filename="report.pdf"',
            "Content-Transfer-Encoding: base64",
            "",
            btoa("%PDF-1.4 twelve"),
            "--b1--",
            "",
          ].join("\r\n");
          const uid = await box.append(raw);
          const [e] = await eventsSoon(h);
          const body = bodyOf(e);
          assert.equal(body.message_id, "<first-1@example.org>");
          assert.deepEqual(body.from, { name: "Alice Example", address: "alice@example.org" });
          assert.deepEqual(body.to, [
            { name: "Bob", address: "bob@example.org" },
            { name: "", address: "carol@example.org" },
          ]);
          assert.deepEqual(body.cc, [{ name: "Dave", address: "dave@example.org" }]);
          assert.equal(body.subject, "Grüße from Alice");
          assert.equal(body.date, "2026-12-01T10:00:00.000Z");
          assert.equal(body.text.trim(), "Hello Bob");
          assert.equal(body.html.trim(), "<p>Hello <b>Bob</b></p>");
          assert.equal(body.headers["x-custom"], "one");
          assert.deepEqual(body.attachments, [{
            filename: "report.pdf",
            content_type: "application/pdf",
            size: 15,
            disposition: "attachment",
          }]);
          assert.equal(body.uid, uid);
          assert.equal(body.mailbox, box.name);
          assert.equal(e.headers["x-imap-uid"], String(uid));
          assert.equal(e.headers["x-imap-message-id"], "<first-1@example.org>");
          assert.equal(e.headers["x-trigger-type"], "imap");
          assert.equal(e.source, "trigger:trigger_imap1");
          // Not asked: no \Seen set, nothing moved.
          assert.deepEqual((await box.flags(uid))?.includes("\\Seen"), false);
        },
      );
    }),
);

Deno.test(
  "imap: IDLE delivers a new message within 2 seconds",
  opts,
  () =>
    withMailbox(async (h, box) => {
      // A long poll interval: only IDLE can be this fast.
      await whileRunning(
        h,
        imapConfig(box.name, { poll_interval: "10m" }),
        "trigger_idle",
        async (live) => {
          await until("the source to idle", () => live.state() === "idle");
          await new Promise((r) => setTimeout(r, 300)); // well inside IDLE
          const t0 = Date.now();
          await box.append(mail({ subject: "idle" }));
          await until("the event", async () => (await h.events()).length === 1, 2000);
          const took = Date.now() - t0;
          assert.ok(took < 2000, `took ${took} ms`);
          assert.equal(live.status().idle, true);
        },
      );
    }),
);

Deno.test(
  "imap: 20 messages that arrived while stopped become 20 events after the start, none twice",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const cfg = imapConfig(box.name);
      await emittedOneThenStopped(h, box, cfg, "trigger_backlog", "before stop");
      for (let i = 0; i < 20; i++) await box.append(mail({ subject: `while stopped ${i}` }));
      const live = running(h, cfg, "trigger_backlog");
      await until("21 events", async () => (await h.events()).length >= 21);
      await until("the source to idle", () => live.state() === "idle");
      await live.stop();
      // A third start and a manual run find nothing new.
      const again = await pollOnce(h, imapSourceFactory, cfg, "trigger_backlog");
      assert.deepEqual([again.emitted, again.duplicates], [0, 0]);
      // One batch shares one receivedAt: order by UID.
      const bodies = (await h.events()).map(bodyOf).sort((a, b) => a.uid - b.uid);
      const subjects = bodies.map((b) => b.subject);
      assert.equal(subjects.length, 21);
      assert.equal(new Set(subjects).size, 21);
      assert.deepEqual(
        subjects.slice(1),
        Array.from({ length: 20 }, (_, i) => `while stopped ${i}`),
      );
    }),
);

Deno.test(
  "imap: mark_seen and move_to act only after the commit",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const archive = `${box.name}/done`;
      await box.client.mailboxCreate(archive);
      const ctx = h.context("trigger_move", "imap");
      const emit = ctx.emit;
      let stillThereAfterCommit = false;
      ctx.emit = async (events) => {
        const r = await emit(events);
        // Committed, and the message has not moved yet: the move follows the commit.
        stillThereAfterCommit = (await h.events()).length === 1 && (await box.count()) === 1;
        return r;
      };
      const cfg = imapSourceFactory.parseConfig(
        imapConfig(box.name, { mark_seen: true, move_to: archive, emit_existing: true }),
      );
      await box.append(mail({ subject: "to archive" }));
      const r = await imapSourceFactory.create(cfg, ctx).poll!(signal());
      assert.equal(r.emitted, 1);
      assert.equal(stillThereAfterCommit, true);
      assert.equal(await box.count(), 0);
      assert.equal(await box.count(archive), 1);
      const moved = await box.flags(1, archive);
      assert.ok(moved?.includes("\\Seen"), `flags ${moved}`);
    }),
);

Deno.test(
  "imap: a failure between commit and cursor re-emits as duplicates, never twice",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const cfg = imapSourceFactory.parseConfig(imapConfig(box.name, { emit_existing: true }));
      for (let i = 0; i < 3; i++) await box.append(mail({ subject: `m${i}` }));
      const ctx = h.context("trigger_crash", "imap");
      const set = ctx.cursor.set;
      let fail = true;
      // The first cursor write after a commit fails, as a crash right after the commit would.
      ctx.cursor.set = (v) => {
        if (fail && JSON.parse(v).uid > 0) {
          fail = false;
          return Promise.reject(new Error("crash before the cursor moved"));
        }
        return set(v);
      };
      const source = imapSourceFactory.create(cfg, ctx);
      await assert.rejects(source.poll!(signal()), /crash before/);
      assert.equal((await h.events()).length, 3);
      const again = await source.poll!(signal());
      assert.deepEqual([again.emitted, again.duplicates], [0, 3]);
      assert.equal((await h.events()).length, 3);
      assert.equal(JSON.parse(h.cursors.get("trigger_crash")!).uid, 3);
    }),
);

Deno.test(
  "imap: a message over max_bytes and a broken one become events with parse_error",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const cfg = imapConfig(box.name, { emit_existing: true, max_bytes: 64 * 1024 });
      const huge = "A".repeat(300 * 1024).replace(/(.{76})/g, "$1\r\n");
      await box.append([
        "From: big@example.org",
        "Subject: huge attachment",
        "Message-ID: <huge@example.org>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="x"',
        "",
        "--x",
        "Content-Type: text/plain",
        "",
        "see attached",
        "--x",
        'Content-Type: application/octet-stream; name="big.bin"',
        'Content-Disposition: attachment; filename="big.bin"',
        "Content-Transfer-Encoding: base64",
        "",
        huge,
        "--x--",
        "",
      ].join("\r\n"));
      // 80 nested multiparts: deeper than the parser accepts.
      let nested = "Content-Type: text/plain\r\n\r\ninnermost\r\n";
      for (let i = 0; i < 80; i++) {
        nested =
          `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${nested}--n${i}--\r\n`;
      }
      await box.append(
        `From: deep@example.org\r\nSubject: too deep\r\nMIME-Version: 1.0\r\n${nested}`,
      );
      await box.append(mail({ subject: "fine after" }));
      const r = await pollOnce(h, imapSourceFactory, cfg, "trigger_bad");
      assert.equal(r.emitted, 3);
      const [big, deep, fine] = (await h.events()).map(bodyOf).sort((a, b) => a.uid - b.uid);
      assert.equal(big.subject, "huge attachment");
      assert.equal(big.truncated, true);
      assert.match(big.parse_error, /more than max_bytes 65536/);
      assert.equal(big.text, undefined);
      assert.equal(big.attachments.length, 1);
      assert.equal(big.attachments[0].filename, "big.bin");
      assert.ok(big.attachments[0].size > 300 * 1024);
      assert.equal(deep.subject, "too deep");
      assert.match(deep.parse_error, /cannot parse message/);
      assert.equal(fine.subject, "fine after");
      assert.equal(fine.parse_error, undefined);
    }),
);

Deno.test(
  "imap: raw and attachment content are included within max_bytes",
  opts,
  () =>
    withMailbox(async (_h, box) => {
      const cfg = imapConfig(box.name, {
        emit_existing: true,
        include_body: "raw",
        attachments: "content",
        max_bytes: 8 * 1024,
      });
      const small = btoa("small file");
      const large = btoa("x".repeat(6000)).replace(/(.{76})/g, "$1\r\n");
      const raw = [
        "From: a@example.org",
        "Subject: two files",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="q"',
        "",
        "--q",
        "Content-Type: text/plain",
        "",
        "hi",
        "--q",
        'Content-Type: text/plain; name="a.txt"',
        "Content-Disposition: attachment; filename=a.txt",
        "Content-Transfer-Encoding: base64",
        "",
        small,
        "--q",
        'Content-Type: application/octet-stream; name="b.bin"',
        "Content-Disposition: attachment; filename=b.bin",
        "Content-Transfer-Encoding: base64",
        "",
        large,
        "--q--",
        "",
      ].join("\r\n");
      await box.append(raw);
      const run = async (maxBytes: number) => {
        const hh = await sourceHarness();
        try {
          await pollOnce(hh, imapSourceFactory, { ...cfg, max_bytes: maxBytes }, "trigger_raw");
          return (await hh.events()).map(bodyOf)[0];
        } finally {
          await hh.close();
        }
      };
      const decode = (b64: string) =>
        dec.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      // An ~8.7 KiB message: with 16 KiB, raw (~11.6 KiB as base64) and the small file fit,
      // the 8 KiB of b.bin no longer do.
      assert.ok(raw.length > 8500 && raw.length < 9000, `message is ${raw.length} bytes`);
      const a = await run(16 * 1024);
      assert.equal(a.text, undefined);
      assert.ok(decode(a.raw) === raw, "raw is the message as stored");
      assert.equal(decode(a.attachments[0].content), "small file");
      assert.equal(a.attachments[1].content, undefined);
      assert.equal(a.attachments[1].size, 6000);
      assert.deepEqual(a.omitted, ["attachments[1].content"]);
      // With 11 KiB, raw does not fit and both files do.
      const b = await run(11 * 1024);
      assert.ok(b.raw === undefined, "raw left out");
      assert.ok(decode(b.attachments[1].content) === "x".repeat(6000), "content of b.bin");
      assert.deepEqual(b.omitted, ["raw"]);
    }),
);

Deno.test(
  "imap: a changed UIDVALIDITY emits only mail newer than the last emitted",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const cfg = imapConfig(box.name);
      await emittedOneThenStopped(h, box, cfg, "trigger_uidv", "first");
      const before = JSON.parse(h.cursors.get("trigger_uidv")!);
      // The mailbox is recreated (new UIDVALIDITY) and restored from a "backup": the old
      // message with its old arrival time, plus one that arrived after.
      await box.client.mailboxDelete(box.name);
      await box.client.mailboxCreate(box.name);
      await box.append(mail({ subject: "first" }), new Date(Date.now() - 3_600_000));
      await box.append(mail({ subject: "older restored" }), new Date(Date.now() - 7_200_000));
      await new Promise((r) => setTimeout(r, 1100)); // INTERNALDATE has seconds
      await box.append(mail({ subject: "new after restore" }));
      const r = await pollOnce(h, imapSourceFactory, cfg, "trigger_uidv");
      assert.equal(r.emitted, 1);
      const subjects = (await h.events()).map((e) => bodyOf(e).subject);
      assert.deepEqual(subjects.sort(), ["first", "new after restore"]);
      const after = JSON.parse(h.cursors.get("trigger_uidv")!);
      assert.notEqual(after.uidvalidity, before.uidvalidity);
      assert.equal(after.uid, 3);
      // Then it follows the new UIDs as usual.
      await box.append(mail({ subject: "next" }));
      const next = await pollOnce(h, imapSourceFactory, cfg, "trigger_uidv");
      assert.equal(next.emitted, 1);
    }),
);

Deno.test(
  "imap: a connection the server drops is reconnected and mail keeps coming",
  opts,
  () => {
    // A private Dovecot: dropping its sessions cannot disturb the other tests.
    const dovecot = dovecotInstance("imap_drop", 1153);
    return withDovecot(dovecot, async (h) => {
      await whileRunning(
        h,
        imapConfig("INBOX", { port: dovecot.port }),
        "trigger_drop",
        async (live) => {
          await until("the source to idle", () => live.state() === "idle");
          const states = new Set<unknown>();
          const seen = setInterval(() => states.add(live.state()), 2);
          await dovecot.kick();
          await until(
            "a reconnect",
            () => states.has("reconnecting") || states.has("connected"),
            5000,
          );
          await until("the source to idle again", () => live.state() === "idle", 10_000);
          clearInterval(seen);
          await appendTo(dovecot.port, mail({ subject: "after the drop" }));
          const [e] = await eventsSoon(h, 5000);
          assert.equal(bodyOf(e).subject, "after the drop");
        },
      );
    });
  },
);

Deno.test(
  "imap: a server that does not answer shows as reconnecting with the cause",
  opts,
  async () => {
    const h = await sourceHarness();
    try {
      // Nothing listens on port 1: refused at once.
      await whileRunning(h, imapConfig("INBOX", { port: 1 }), "trigger_down", async (live) => {
        await until("a failure", () => live.status().last_error, 5000);
        assert.equal(live.state(), "reconnecting");
        assert.match(String(live.status().last_error), /cannot connect to 127\.0\.0\.1/);
      });
    } finally {
      await h.close();
    }
  },
);

Deno.test("imap: a server without IDLE is polled every poll_interval", opts, () => {
  const dovecot = dovecotInstance("imap_noidle", 1154, { IMAP_NO_IDLE: "true" });
  return withDovecot(dovecot, async (h) => {
    await whileRunning(
      h,
      imapConfig("INBOX", { port: dovecot.port, poll_interval: "1s" }),
      "trigger_noidle",
      async (live) => {
        await until("the source to poll", () => live.state() === "polling");
        assert.equal(live.status().idle, false);
        await appendTo(dovecot.port, mail({ subject: "polled" }));
        const [e] = await eventsSoon(h, 5000, (x) => bodyOf(x).subject === "polled");
        assert.equal(bodyOf(e).subject, "polled");
      },
    );
  });
});

Deno.test(
  "imap: STARTTLS with the server's CA, and refused without it",
  opts,
  () =>
    withMailbox(async (h, box) => {
      const ca = await Deno.readTextFile(mustPeer("IMAP_CA_FILE"));
      await box.append(mail({ subject: "over tls" }));
      const untrusted = imapConfig(box.name, { starttls: true, emit_existing: true });
      const tlsCfg = { ...untrusted, ca };
      const r = await pollOnce(h, imapSourceFactory, tlsCfg, "trigger_tls");
      assert.equal(r.emitted, 1);
      // The same without the CA: the self-signed certificate is not trusted.
      await assert.rejects(
        pollOnce(h, imapSourceFactory, untrusted, "trigger_tls2"),
        /cannot connect.*(certificate|self.signed)/i,
      );
    }),
);

Deno.test("imap: a refused login shows as the trigger's error", opts, () => {
  // A private Dovecot: failed logins slow down later ones from the same address (Dovecot's
  // auth penalty), which must not reach the other tests.
  const dovecot = dovecotInstance("imap_badpw", 1158);
  return withDovecot(dovecot, async (h) => {
    const cfg = imapConfig("INBOX", { port: dovecot.port, password: "wrong" });
    await whileRunning(h, cfg, "trigger_badpw", async (live) => {
      await until("an error", () => live.state() === "error", 10_000);
      assert.match(String(live.status().last_error), /login as .* refused \(password\)/);
    });
  });
});

Deno.test("imap: config errors name the field", () => {
  const bad = (c: unknown) => configIssues(imapSourceFactory, c);
  assert.match(bad({ host: "h", username: "u" }), /password.*exactly one of password or oauth2/);
  assert.match(bad({ host: "h", username: "u", password: "p", extra: 1 }), /extra/);
  assert.match(
    bad({ host: "h", username: "u", password: "p", poll_interval: "soon" }),
    /poll_interval/,
  );
  assert.match(
    bad({ host: "h", username: "u", password: "p", include_body: "pdf" }),
    /include_body/,
  );
  assert.match(
    bad({ host: "h", username: "u", password: "p", move_to: "INBOX" }),
    /move_to names the watched mailbox/,
  );
  assert.equal(bad({ host: "imap.example.org", username: "u", password: "p" }), "");
});
